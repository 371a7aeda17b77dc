//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// importCase is an upstream installation of fn/importer/testdata and how it was
// applied before the adoption: `kubectl apply` (client-side, as upstream documents
// for its YAML) or `kubectl create` under the field manager "helm" (as Helm creates
// objects: Update operations of a manager of its own).
type importCase struct {
	dir        string // under fn/importer/testdata
	input      string // input.yaml or input
	helm       bool
	namespace  string
	deployment string
	container  string
	apiService string
}

// TestImportAppliesInPlace applies each upstream installation to a real
// kube-apiserver, then the render of the config `aggapi import` wrote for it with
// `kubectl apply --server-side --force-conflicts --field-manager=aggapi`, and checks
// that the Deployment was updated in place (same UID and selector, the upstream
// container name and image) and the APIService now verifies the server with a
// caBundle. Objects Helm created conflict without --force-conflicts, and every
// installation keeps insecureSkipTLSVerify until it is removed (docs/cli.md says both).
func TestImportAppliesInPlace(t *testing.T) {
	env := startRenderEnv(t)
	root := testutil.Root(t)
	mustCreate(t, env.admin, "/api/v1/namespaces", object("v1", "Namespace", "", "monitoring"))
	for _, c := range []importCase{
		{"metrics-server-v0.8.0", "input.yaml", false, "kube-system", "metrics-server", "metrics-server", "v1beta1.metrics.k8s.io"},
		{"prometheus-adapter-v0.12.0", "input", false, "monitoring", "prometheus-adapter", "prometheus-adapter", "v1beta1.metrics.k8s.io"},
		{"metrics-server-chart-3.13.0", "input.yaml", true, "kube-system", "metrics-server", "metrics-server", "v1beta1.metrics.k8s.io"},
		{"prometheus-adapter-chart-5.3.0", "input.yaml", true, "monitoring", "prometheus-adapter", "prometheus-adapter", "v1beta1.custom.metrics.k8s.io"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			input := filepath.Join(root, "fn", "importer", "testdata", c.dir, c.input)
			if c.helm {
				env.kubectl.must(t, nil, "create", "--field-manager=helm", "-f", input)
			} else {
				env.kubectl.must(t, nil, "apply", "-f", input)
			}
			// The next case reuses names: delete what this one applied.
			t.Cleanup(func() {
				// t.Context() is done by now.
				if out, err := env.cp.Kubectl(context.Background(), nil, env.kubectl.cacheFlag(), "delete", "--ignore-not-found", "-f", input); err != nil {
					t.Errorf("deleting %s: %v\n%s", input, err, out)
				}
			})
			before := getDeployment(t, env, c.namespace, c.deployment)

			// Import, and render the config as a kustomize transformer.
			dir := t.TempDir()
			res := testutil.Run(t, "", nil, env.aggapi, "import", "--exec", env.aggapi, "--report", filepath.Join(dir, "report.txt"), input)
			if res.Err != nil {
				t.Fatalf("aggapi import: %v\n%s", res.Err, res.Stderr)
			}
			testutil.WriteFile(t, filepath.Join(dir, "aggapi.yaml"), res.Stdout)
			testutil.WriteFile(t, filepath.Join(dir, "kustomization.yaml"), []byte("transformers:\n- aggapi.yaml\n"))
			r := kustomizeBuild(t, env.kustomize, dir)
			file := filepath.Join(dir, "rendered.yaml")
			testutil.WriteFile(t, file, r.yaml)

			apply := []string{"apply", "--server-side", "--field-manager=aggapi", "-f", file}
			if c.helm {
				// Helm's fields conflict: forcing them is what moves them to the new manager.
				if _, stderr, err := env.kubectl.run(t, nil, apply...); err == nil || !strings.Contains(string(stderr), "conflict") {
					t.Errorf("server-side apply over Helm's objects without --force-conflicts: %v, stderr %s; want a conflict", err, stderr)
				}
			}
			// insecureSkipTLSVerify stays its previous manager's (kubectl moves a
			// client-side apply's fields only after an apply succeeds), and the API
			// server refuses it beside the caBundle: it is removed first.
			_, stderr, err := env.kubectl.run(t, nil, append(apply, "--force-conflicts")...)
			if err == nil || !strings.Contains(string(stderr), "insecureSkipTLSVerify") {
				t.Errorf("apply over the installation's APIService: %v, stderr %s; want insecureSkipTLSVerify refused beside the caBundle", err, stderr)
			}
			env.kubectl.must(t, nil, "patch", "apiservice", c.apiService, "--type=json", "-p", `[{"op":"remove","path":"/spec/insecureSkipTLSVerify"}]`)
			env.kubectl.must(t, nil, append(apply, "--force-conflicts")...)

			after := getDeployment(t, env, c.namespace, c.deployment)
			if after.Metadata.UID != before.Metadata.UID {
				t.Errorf("Deployment %s/%s was replaced (uid %s, was %s), want it updated in place", c.namespace, c.deployment, after.Metadata.UID, before.Metadata.UID)
			}
			if fmt.Sprint(after.Spec.Selector) != fmt.Sprint(before.Spec.Selector) {
				t.Errorf("selector %v, was %v", after.Spec.Selector, before.Spec.Selector)
			}
			if after.Metadata.Generation <= before.Metadata.Generation {
				t.Errorf("generation %d, was %d: the render changed nothing", after.Metadata.Generation, before.Metadata.Generation)
			}
			i := slices.IndexFunc(after.Spec.Template.Spec.Containers, func(x deploymentContainer) bool { return x.Name == c.container })
			if i < 0 || len(after.Spec.Template.Spec.Containers) != len(before.Spec.Template.Spec.Containers) {
				t.Fatalf("containers %+v, want the one named %s, as before", after.Spec.Template.Spec.Containers, c.container)
			}
			got, was := after.Spec.Template.Spec.Containers[i], before.Spec.Template.Spec.Containers[i]
			if got.Image != was.Image {
				t.Errorf("image %s, was %s", got.Image, was.Image)
			}
			if !slices.Contains(got.Args, "--tls-cert-file=/var/run/aggapi/serving-cert/tls.crt") {
				t.Errorf("args %q: the render's serving certificate is not passed", got.Args)
			}

			var a struct {
				Spec struct {
					CABundle              string `json:"caBundle"`
					InsecureSkipTLSVerify bool   `json:"insecureSkipTLSVerify"`
				} `json:"spec"`
			}
			if err := env.admin.Get(t.Context(), "/apis/apiregistration.k8s.io/v1/apiservices/"+c.apiService, &a); err != nil {
				t.Fatal(err)
			}
			if a.Spec.CABundle == "" || a.Spec.InsecureSkipTLSVerify {
				t.Errorf("APIService %s: caBundle set %v, insecureSkipTLSVerify %v; want a caBundle and no skip", c.apiService, a.Spec.CABundle != "", a.Spec.InsecureSkipTLSVerify)
			}
			report, err := os.ReadFile(filepath.Join(dir, "report.txt"))
			if err != nil || !bytes.Contains(report, []byte("insecureSkipTLSVerify")) {
				t.Errorf("the import's report does not name insecureSkipTLSVerify (%v):\n%s", err, report)
			}
			env.kubectl.must(t, nil, "delete", "--ignore-not-found", "-f", file)
		})
	}
}

type deploymentContainer struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args"`
}

type deploymentState struct {
	Metadata struct {
		UID        string `json:"uid"`
		Generation int64  `json:"generation"`
	} `json:"metadata"`
	Spec struct {
		Selector map[string]any `json:"selector"`
		Template struct {
			Spec struct {
				Containers []deploymentContainer `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func getDeployment(t *testing.T, env *renderEnv, namespace, name string) deploymentState {
	t.Helper()
	var d deploymentState
	if err := env.admin.Get(t.Context(), "/apis/apps/v1/namespaces/"+namespace+"/deployments/"+name, &d); err != nil {
		t.Fatalf("Deployment %s/%s: %v", namespace, name, err)
	}
	return d
}

// TestImportedExamplesAreFresh: the configs of examples/metrics-server and
// examples/custom-metrics-adapter are what `aggapi import` writes from upstream's
// manifests (with what each example's import/kustomization.yaml layers on), and the
// module cases of fn/importer/testdata are upstream's files: hack/import/upstream.sh
// --check, offline, from the modules hack/e2e/install.sh downloads.
func TestImportedExamplesAreFresh(t *testing.T) {
	root := testutil.Root(t)
	testutil.Aggapi(t)
	testutil.Kustomize(t)
	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(root, "hack", "import", "upstream.sh"), "--check")
	cmd.Dir = root
	// The module cache only: hack/e2e/install.sh downloads the modules.
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/import/upstream.sh --check: %v\n%s", err, out)
	}
}
