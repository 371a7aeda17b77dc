package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestGitOpsManyAPIs: render.sh DIR renders every API under DIR and no other; a
// directory without one is an error; when one API fails, no API's files change.
func TestGitOpsManyAPIs(t *testing.T) {
	root := gitopsRoot(t, false)
	dir := filepath.Join(root, "examples", "gitops")
	before := snapshot(t, dir)

	r := script(t, root, nil, "render.sh", "examples/gitops/apis")
	if r.Err != nil {
		t.Fatalf("render.sh examples/gitops/apis: %v\n%s", r.Err, r.Output())
	}
	if !strings.Contains(string(r.Stderr), "render.sh: rendered examples/gitops/apis/custom-metrics\n") || strings.Contains(string(r.Stderr), "rendered examples/gitops\n") {
		t.Errorf("render.sh examples/gitops/apis did not render exactly the APIs under it:\n%s", r.Stderr)
	}
	if r := script(t, root, nil, "render.sh", "examples/gitops/deploy"); r.Err == nil || !strings.Contains(string(r.Stderr), "no API under examples/gitops/deploy") {
		t.Errorf("render.sh over a directory without APIs: %v\n%s", r.Err, r.Output())
	}

	// A stale render of one API fails the one verify call that covers them all...
	testutil.ReplaceOnce(t, filepath.Join(dir, "apis", "custom-metrics", "render", "aggapi.yaml"), "groupPriorityMinimum: 100", "groupPriorityMinimum: 5000000")
	r = script(t, root, nil, "render.sh")
	if r.Err == nil {
		t.Fatalf("render.sh passed with an invalid config:\n%s", r.Output())
	}
	if !strings.Contains(r.Output(), "groupPriorityMinimum") {
		t.Errorf("the failure does not name the field:\n%s", r.Output())
	}
	// ... and changes no file of any API (the config edit aside).
	after := snapshot(t, dir)
	delete(after, "apis/custom-metrics/render/aggapi.yaml")
	delete(before, "apis/custom-metrics/render/aggapi.yaml")
	assertSameTree(t, "a render with one API failing", before, after)
}

// TestGitOpsCompanions: the prometheus-adapter rules ConfigMap lives in a layer of its
// own that only deploy/ reads: the render leaves it out of rendered/, the deploy layer
// holds it once, and the Deployment mounts it by that name. Listed in render/ instead,
// the second render fails with kustomize's "already registered id" (why it is not there).
func TestGitOpsCompanions(t *testing.T) {
	root := gitopsRoot(t, false)
	api := filepath.Join(root, "examples", "gitops", "apis", "custom-metrics")
	if r := script(t, root, nil, "render.sh"); r.Err != nil {
		t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
	}
	if bytes.Contains(testutil.ReadFile(t, filepath.Join(api, "rendered", "manifests.yaml")), []byte("\nkind: ConfigMap\n")) {
		t.Errorf("the companion ConfigMap reached rendered/manifests.yaml")
	}
	deploy, err := fluxBuild(filepath.Join(root, "examples", "gitops", "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	var configMaps, mounts int
	for _, n := range parseYAML(t, deploy) {
		switch {
		case n.GetKind() == "ConfigMap" && n.GetName() == "prometheus-adapter-rules" && n.GetNamespace() == "monitoring":
			configMaps++
		case n.GetKind() == "Deployment" && n.GetName() == "custom-metrics-apiserver":
			v, err := n.Pipe(yaml.Lookup("spec", "template", "spec", "volumes", "[name=rules]", "configMap", "name"))
			if err == nil && v != nil && yaml.GetValue(v) == "prometheus-adapter-rules" && n.GetNamespace() == "monitoring" {
				mounts++
			}
		}
	}
	if configMaps != 1 || mounts != 1 {
		t.Errorf("the deploy layer has %d rules ConfigMaps and %d Deployments mounting it, want 1 and 1", configMaps, mounts)
	}

	// The wrong place: render/.
	if err := os.Rename(filepath.Join(api, "companions", "rules.yaml"), filepath.Join(api, "render", "rules.yaml")); err != nil {
		t.Fatal(err)
	}
	testutil.ReplaceOnce(t, filepath.Join(api, "render", "kustomization.yaml"), "- ../rendered\n", "- ../rendered\n- rules.yaml\n")
	if r := script(t, root, nil, "render.sh"); r.Err != nil {
		t.Fatalf("the first render with the ConfigMap in render/: %v\n%s", r.Err, r.Output())
	}
	r := script(t, root, nil, "render.sh")
	if r.Err == nil || !strings.Contains(r.Output(), "already registered id") {
		t.Errorf("the second render with the ConfigMap in render/ (expected kustomize's already registered id): %v\n%s", r.Err, r.Output())
	}
}

// TestGitOpsArgoCDPlugin runs the generate command of the sops-kustomize config
// management plugin (clusters/argocd) as Argo CD's cmp-server does: in the app's
// directory of a copy of the repository, with ARGOCD_APP_SOURCE_PATH, and the pinned
// sops and kustomize on PATH. Over the encrypted example it prints the deploy layer
// Flux builds, every Secret decrypted, and the result passes aggapi verify --config
// (so each certificate is checked, not skipped as ciphertext).
func TestGitOpsArgoCDPlugin(t *testing.T) {
	root := gitopsRoot(t, false)
	dir := filepath.Join(root, "examples", "gitops")
	sops, env := sopsKey(t, root)
	encryptAll(t, dir, sops, env)
	flux, err := fluxBuild(filepath.Join(dir, "deploy"))
	if err != nil {
		t.Fatal(err)
	}

	var app, plugin *yaml.RNode
	if nodes := parseYAML(t, testutil.ReadFile(t, filepath.Join(dir, "clusters", "argocd", "application.yaml"))); len(nodes) == 1 {
		app = nodes[0]
	}
	for _, n := range parseYAML(t, testutil.ReadFile(t, filepath.Join(dir, "clusters", "argocd", "sops-kustomize-plugin.yaml"))) {
		if n.GetKind() == "ConfigMap" {
			v, err := n.Pipe(yaml.Lookup("data", "plugin.yaml"))
			if err != nil || v == nil {
				t.Fatalf("the plugin ConfigMap has no data.plugin.yaml: %v", err)
			}
			if plugin, err = yaml.Parse(yaml.GetValue(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if app == nil || plugin == nil || plugin.GetKind() != "ConfigManagementPlugin" {
		t.Fatalf("no Application or no ConfigManagementPlugin")
	}
	str := func(n *yaml.RNode, path ...string) string {
		v, err := n.Pipe(yaml.Lookup(path...))
		if err != nil || v == nil {
			return ""
		}
		return yaml.GetValue(v)
	}
	list := func(n *yaml.RNode, path ...string) []string {
		v, err := n.Pipe(yaml.Lookup(path...))
		if err != nil || v == nil {
			return nil
		}
		var out []string
		for _, e := range v.Content() {
			out = append(out, e.Value)
		}
		return out
	}
	// Argo CD names a plugin of a sidecar <name>-<version>.
	if want := plugin.GetName() + "-" + str(plugin, "spec", "version"); str(app, "spec", "source", "plugin", "name") != want {
		t.Errorf("the Application uses plugin %q, the sidecar serves %q", str(app, "spec", "source", "plugin", "name"), want)
	}
	appPath := str(app, "spec", "source", "path")
	argv := append(list(plugin, "spec", "generate", "command"), list(plugin, "spec", "generate", "args")...)
	if appPath != "examples/gitops/deploy" || len(argv) < 2 {
		t.Fatalf("the Application syncs %q with %q", appPath, argv)
	}
	path := filepath.Join(root, "bin") + string(filepath.ListSeparator) + os.Getenv("PATH")
	r := testutil.Cmd{Dir: filepath.Join(root, filepath.FromSlash(appPath)), Env: append(os.Environ(), append(env, "PATH="+path, "ARGOCD_APP_SOURCE_PATH="+appPath)...)}.Run(t, argv[0], argv[1:]...)
	if r.Err != nil {
		t.Fatalf("the plugin's generate command: %v\n%s", r.Err, r.Output())
	}
	if bytes.Contains(r.Stdout, []byte("ENC[")) || bytes.Contains(r.Stdout, []byte("sops:")) {
		t.Errorf("the plugin's output holds SOPS ciphertext")
	}
	argo, want := parseYAML(t, r.Stdout), parseYAML(t, flux)
	secrets := 0
	for _, n := range want {
		if n.GetKind() == "Secret" {
			secrets++
		}
	}
	if len(argo) != len(want) || secrets != len(gitopsAPIs) {
		t.Errorf("the plugin built %d objects, Flux %d (%d Secrets)", len(argo), len(want), secrets)
	}
	vr := testutil.Run(t, dir, r.Stdout, aggapiBin, "verify", "--config", "render", "--config", "apis/custom-metrics/render")
	if vr.Err != nil || strings.Contains(string(vr.Stdout), "SOPS-encrypted") {
		t.Errorf("verify --config on the plugin's output: %v\n%s", vr.Err, vr.Output())
	}
}
