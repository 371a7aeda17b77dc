package pipeline

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestModeExamples renders the provided and cert-manager examples through kustomize
// and kpt (twice: the second render changes nothing), and checks the output with
// `aggapi verify`: no errors, and no key material anywhere in it.
func TestModeExamples(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"provided", "cert-manager"} {
		t.Run("kustomize-"+mode, func(t *testing.T) {
			k := testutil.Kustomize(t)
			// The example as committed, in a copy laid out like the repository:
			// kustomize resolves the relative exec path and the provided CA file
			// against the kustomization directory.
			dir := filepath.Join(repoCopy(t, "kustomize-"+mode), "examples", "kustomize-"+mode)
			out := kustomizeBuild(t, k, dir)
			again := kustomizeBuild(t, k, dir)
			if string(out) != string(again) {
				t.Errorf("two builds of the %s example differ", mode)
			}
			verifyOutput(t, out)
		})
		t.Run("kpt-"+mode, func(t *testing.T) {
			k := testutil.Kpt(t)
			pkg := copyKptPackage(t, "kpt-"+mode)
			testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
			first := snapshot(t, pkg)
			testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
			assertSameTree(t, "the second render changed the package", first, snapshot(t, pkg))
			verifyReport(t, testutil.MustRun(t, repoRoot, nil, aggapiBin, "verify", pkg))
			assertNoSecretsInFiles(t, first)
		})
	}
}

// verifyOutput runs `aggapi verify` over rendered YAML and fails on any error finding
// or any private key in it.
func verifyOutput(t *testing.T, rendered []byte) {
	t.Helper()
	r := testutil.Run(t, repoRoot, rendered, aggapiBin, "verify")
	if r.Err != nil {
		t.Fatalf("aggapi verify failed: %v\n%s", r.Err, r.Output())
	}
	verifyReport(t, r.Stdout)
	if containsPrivateKey(string(rendered)) {
		t.Errorf("the rendered output carries a private key")
	}
}

func verifyReport(t *testing.T, report []byte) {
	t.Helper()
	if !strings.Contains(string(report), " 0 error(s)") {
		t.Errorf("aggapi verify found errors:\n%s", report)
	}
}
