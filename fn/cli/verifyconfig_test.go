package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

const verifyConfig = `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata:
  name: wardle
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ../../bin/aggapi
spec:
  group: wardle.example.com
  versions:
  - name: v1alpha1
  server:
    image: registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2
    replicas: 1
`

// renderTo renders config into dir/rendered.yaml and returns its path.
func renderTo(t *testing.T, dir, config string) string {
	t.Helper()
	out, stderr, code := runFunction(t, []byte(testutil.ResourceList("", config)), goldenNow)
	if code != 0 {
		t.Fatalf("render: %s", stderr)
	}
	path := filepath.Join(dir, "rendered.yaml")
	testutil.WriteFile(t, path, itemsAsDocuments(t, out))
	return path
}

// itemsAsDocuments turns a ResourceList's items into multi-document YAML, as
// `kustomize build` prints them.
func itemsAsDocuments(t *testing.T, rl []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, n := range itemsNodes(rl) {
		b.WriteString("---\n")
		b.WriteString(n.MustString())
	}
	return b.Bytes()
}

func runVerify(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(testEnv(goldenNow), append([]string{"verify"}, args...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestVerifyConfig(t *testing.T) {
	dir := t.TempDir()
	rendered := renderTo(t, dir, verifyConfig)
	cfg := filepath.Join(dir, "aggapi.yaml")

	t.Run("fresh render passes", func(t *testing.T) {
		testutil.WriteFile(t, cfg, []byte(verifyConfig))
		if out, stderr, code := runVerify(t, "--config", cfg, rendered); code != 0 {
			t.Errorf("exit %d:\n%s%s", code, out, stderr)
		}
	})
	t.Run("a directory with the config and a kustomization passes", func(t *testing.T) {
		sub := filepath.Join(dir, "render")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		testutil.WriteFile(t, filepath.Join(sub, "aggapi.yaml"), []byte(verifyConfig))
		testutil.WriteFile(t, filepath.Join(sub, "kustomization.yaml"), []byte("resources: [../rendered.yaml]\ntransformers: [aggapi.yaml]\n"))
		if out, stderr, code := runVerify(t, "--config", sub, rendered); code != 0 {
			t.Errorf("exit %d:\n%s%s", code, out, stderr)
		}
	})
	t.Run("formatting and spelled-out defaults pass", func(t *testing.T) {
		reformatted := `# same config, other spelling
kind: AggregatedAPI
apiVersion: aggapi.dev/v1alpha1
metadata: {name: wardle}
spec:
  server: {replicas: 1, port: 10250, image: "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2"}
  versions: [{name: v1alpha1, versionPriority: 15}]
  group: wardle.example.com
  namespace: wardle
`
		testutil.WriteFile(t, cfg, []byte(reformatted))
		if out, stderr, code := runVerify(t, "--config", cfg, rendered); code != 0 {
			t.Errorf("exit %d:\n%s%s", code, out, stderr)
		}
	})
	t.Run("a config change fails naming the objects", func(t *testing.T) {
		testutil.WriteFile(t, cfg, []byte(strings.Replace(verifyConfig, "replicas: 1", "replicas: 3", 1)))
		out, _, code := runVerify(t, "--config", cfg, rendered)
		if code != 1 {
			t.Fatalf("exit %d, want 1:\n%s", code, out)
		}
		for _, want := range []string{"error: AggregatedAPI wardle", "the render is stale", "Deployment wardle/wardle-apiserver", "kustomize build --enable-alpha-plugins --enable-exec", "kpt fn render"} {
			if !strings.Contains(out, want) {
				t.Errorf("the output does not say %q:\n%s", want, out)
			}
		}
	})
	t.Run("unstamped objects fail", func(t *testing.T) {
		testutil.WriteFile(t, cfg, []byte(verifyConfig))
		b, _ := os.ReadFile(rendered)
		var kept []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.Contains(l, "aggapi.dev/config-digest") {
				kept = append(kept, l)
			}
		}
		old := filepath.Join(dir, "old.yaml")
		testutil.WriteFile(t, old, []byte(strings.Join(kept, "\n")))
		out, _, code := runVerify(t, "--config", cfg, old)
		if code != 1 || !strings.Contains(out, "carry no aggapi.dev/config-digest") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("manifests without the config's objects fail", func(t *testing.T) {
		testutil.WriteFile(t, cfg, []byte(strings.Replace(verifyConfig, "name: wardle", "name: other", 1)))
		out, _, code := runVerify(t, "--config", cfg, rendered)
		if code != 1 || !strings.Contains(out, "no object in the manifests was rendered from this config") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("a file without a config is an error", func(t *testing.T) {
		_, stderr, code := runVerify(t, "--config", rendered, rendered)
		if code != 1 || !strings.Contains(stderr, "no aggapi.dev/v1alpha1 AggregatedAPI in it") {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	})
	t.Run("an invalid config is an error naming the field", func(t *testing.T) {
		testutil.WriteFile(t, cfg, []byte(strings.Replace(verifyConfig, "replicas: 1", "replicas: 1000", 1)))
		_, stderr, code := runVerify(t, "--config", cfg, rendered)
		if code != 1 || !strings.Contains(stderr, "spec.server.replicas") {
			t.Errorf("exit %d:\n%s", code, stderr)
		}
	})
}

// TestWarningsReachStderr: kustomize does not show results, so an edit the render
// replaced is also reported on stderr.
func TestWarningsReachStderr(t *testing.T) {
	in := testutil.ResourceList("", verifyConfig)
	out, _, code := runFunction(t, []byte(in), goldenNow)
	if code != 0 {
		t.Fatal("render failed")
	}
	edited := strings.Replace(string(out), "    replicas: 1\n", "    replicas: 5\n", 1)
	if edited == string(out) {
		t.Fatal("no replicas line to edit")
	}
	_, stderr, code := runFunction(t, []byte(edited), goldenNow)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "aggapi: warning: Deployment wardle/wardle-apiserver was changed after aggapi rendered it (spec.replicas)") {
		t.Errorf("stderr:\n%s", stderr)
	}
}
