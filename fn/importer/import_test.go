package importer

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/manifests"
)

var update = flag.Bool("update", false, "rewrite the expected config.yaml and report.txt of the upstream cases")

// caseInput is a case's manifests: input.yaml or the directory input.
func caseInput(t *testing.T, dir string) string {
	t.Helper()
	for _, name := range []string{"input.yaml", "input"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return name
		}
	}
	t.Fatalf("%s: no input.yaml or input/", dir)
	return ""
}

func importCase(t *testing.T, dir string) (*Result, []*Object, error) {
	t.Helper()
	input := caseInput(t, dir)
	objs, err := Read([]string{filepath.Join(dir, input)}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(objs, Options{Sources: []string{input}})
	return res, objs, err
}

func cases(t *testing.T, errs bool) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "err-") == errs {
			dirs = append(dirs, filepath.Join("testdata", e.Name()))
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no cases under testdata")
	}
	return dirs
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./fn/importer -run TestImportUpstream -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the import:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestImportUpstream imports the real upstream installations and chart renders of
// testdata, compares config and report with the committed ones, and checks that the
// config's render updates the installation in place.
func TestImportUpstream(t *testing.T) {
	for _, dir := range cases(t, false) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			res, objs, err := importCase(t, dir)
			if err != nil {
				t.Fatal(err)
			}
			// Several inputs skip TLS verification (upstream metrics-server does); the
			// config and its render never do.
			if bytes.Contains(bytes.ToLower(res.Config), []byte("insecureskiptlsverify")) {
				t.Errorf("the imported config names insecureSkipTLSVerify:\n%s", res.Config)
			}
			golden(t, filepath.Join(dir, "config.yaml"), res.Config)
			var report bytes.Buffer
			if err := res.Report.WriteText(&report); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "report.txt"), report.Bytes())
			checkInPlace(t, objs, res.API)

			// The config written loads to the same config, and importing is stable.
			again, _, err := importCase(t, dir)
			if err != nil || !bytes.Equal(again.Config, res.Config) {
				t.Errorf("a second import differs (%v)", err)
			}
		})
	}
}

// checkInPlace renders api and checks what makes the render update the installation in
// place: the Deployment's name, namespace and selector (immutable), the server
// container's name, image and args (the function's flags first), the names of the
// objects adopted, and the pod settings kept.
func checkInPlace(t *testing.T, objs []*Object, api *config.AggregatedAPI) {
	t.Helper()
	in, err := find(objs)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := manifests.Build(api, manifests.Material{CABundle: []byte("ca"), Secret: &manifests.SecretPEM{CertPEM: []byte("c"), KeyPEM: []byte("k"), CAPEM: []byte("ca")}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]manifests.Object{}
	for _, o := range rendered {
		names[o.GetObjectKind().GroupVersionKind().Kind+" "+strings.TrimPrefix(o.GetNamespace()+"/"+o.GetName(), "/")] = o
	}
	for _, o := range rendered {
		if a, ok := o.(*apiregv1.APIService); ok && (a.Spec.InsecureSkipTLSVerify || len(a.Spec.CABundle) == 0) {
			t.Errorf("APIService %s: insecureSkipTLSVerify %v, caBundle %q: the render must verify the server", a.Name, a.Spec.InsecureSkipTLSVerify, a.Spec.CABundle)
		}
	}
	for _, o := range in.adopted() {
		if names[o.ref()] == nil {
			t.Errorf("the render has no %s: it would not adopt the installation's object", o.ref())
		}
	}
	d, ok := names[in.deployment.ref()].(*appsv1.Deployment)
	if !ok {
		t.Fatalf("the render has no Deployment %s", in.deployment.ref())
	}
	up := in.deployment.v
	if !equalMaps(d.Spec.Selector.MatchLabels, up.Spec.Selector.MatchLabels) {
		t.Errorf("Deployment selector %v, want the installation's %v: a selector cannot change in place", d.Spec.Selector.MatchLabels, up.Spec.Selector.MatchLabels)
	}
	for k, v := range up.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("pod label %s=%q, want %q (the selector's)", k, d.Spec.Template.Labels[k], v)
		}
	}
	svc := names[in.service.ref()].(*corev1.Service)
	if !equalMaps(svc.Spec.Selector, up.Spec.Selector.MatchLabels) {
		t.Errorf("Service selector %v, want %v", svc.Spec.Selector, up.Spec.Selector.MatchLabels)
	}
	upC := up.Spec.Template.Spec.Containers[in.container]
	i := slices.IndexFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == upC.Name })
	if i < 0 {
		t.Fatalf("the render has no container %q", upC.Name)
	}
	c := d.Spec.Template.Spec.Containers[i]
	if c.Image != upC.Image {
		t.Errorf("image %q, want %q", c.Image, upC.Image)
	}
	var kept []string
	for _, a := range upC.Args {
		flag, _, _ := strings.Cut(a, "=")
		if !slices.Contains(ownedFlags, flag) {
			kept = append(kept, a)
		}
	}
	if own := manifests.ServerArgs(api)[:len(c.Args)-len(kept)]; !slices.Equal(c.Args, append(own, kept...)) {
		t.Errorf("args %q, want the function's flags and then the installation's %q", c.Args, kept)
	}
	if !equalMaps(d.Spec.Template.Spec.NodeSelector, up.Spec.Template.Spec.NodeSelector) {
		t.Errorf("nodeSelector %v, want %v", d.Spec.Template.Spec.NodeSelector, up.Spec.Template.Spec.NodeSelector)
	}
	for _, v := range up.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && !slices.ContainsFunc(d.Spec.Template.Spec.Volumes, func(x corev1.Volume) bool { return x.Name == v.Name && x.ConfigMap != nil }) {
			t.Errorf("the render lost the ConfigMap volume %s", v.Name)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestImportErrors: an input that is not one extension server's installation is
// refused with the file, the object and the field that break the chain.
func TestImportErrors(t *testing.T) {
	for _, dir := range cases(t, true) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			res, _, err := importCase(t, dir)
			if err == nil {
				t.Fatalf("imported:\n%s", res.Config)
			}
			want, rerr := os.ReadFile(filepath.Join(dir, "errors.txt"))
			if rerr != nil {
				t.Fatal(rerr)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				if !regexp.MustCompile(line).MatchString(err.Error()) {
					t.Errorf("error %q does not match %q", err, line)
				}
			}
		})
	}
}

// TestUpstreamCopiesMatchModules holds the module cases to the modules they were
// copied from, where the module cache holds them.
func TestUpstreamCopiesMatchModules(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skip("no go command:", err)
	}
	cache := strings.TrimSpace(string(out))
	dir := filepath.Join(cache, "sigs.k8s.io", "prometheus-adapter@v0.12.0", "deploy", "manifests")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("the module cache has no sigs.k8s.io/prometheus-adapter@v0.12.0 (hack/import/upstream.sh downloads it): %v", err)
	}
	for _, e := range entries {
		want, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		got, err := os.ReadFile(filepath.Join("testdata", "prometheus-adapter-v0.12.0", "input", e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/prometheus-adapter-v0.12.0/input/%s differs from the module's deploy/manifests (%v): run hack/import/upstream.sh", e.Name(), err)
		}
	}
}
