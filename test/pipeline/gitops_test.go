package pipeline

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// The GitOps example (examples/gitops): a render layer run by CI, the committed
// rendered output, and a deploy layer that Argo CD and Flux build without plugins.

// gitopsRoot lays out a copy of the repository's parts the example needs: bin/aggapi,
// bin/kustomize, examples/gitops (and examples/kpt), and returns its root.
func gitopsRoot(t *testing.T, withKpt bool) string {
	t.Helper()
	k := testutil.Kustomize(t)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"aggapi": aggapiBin, "kustomize": k} {
		if err := os.Symlink(target, filepath.Join(root, "bin", name)); err != nil {
			t.Fatal(err)
		}
	}
	testutil.CopyTracked(t, filepath.Join(repoRoot, "examples", "gitops"), filepath.Join(root, "examples", "gitops"))
	if withKpt {
		testutil.CopyTracked(t, filepath.Join(repoRoot, "examples", "kpt"), filepath.Join(root, "examples", "kpt"))
	}
	return root
}

// sopsKey puts the pinned sops into root/bin, where the example's scripts look for
// it, makes an age key for the test, names it as the example's only recipient in the
// copy's .sops.yaml (as a user puts their own), and returns the path of sops and the
// environment that lets it decrypt (SOPS_AGE_KEY_FILE).
func sopsKey(t *testing.T, root string) (string, []string) {
	t.Helper()
	sops := testutil.Sops(t)
	if err := os.Symlink(sops, filepath.Join(root, "bin", "sops")); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "age.agekey")
	testutil.MustRun(t, root, nil, testutil.AgeKeygen(t), "-o", key)
	recipient := regexp.MustCompile(`(?m)^# public key: (age1\S+)$`).FindSubmatch(testutil.ReadFile(t, key))
	if recipient == nil {
		t.Fatalf("age-keygen wrote no public key:\n%s", testutil.ReadFile(t, key))
	}
	config := filepath.Join(root, "examples", "gitops", ".sops.yaml")
	b := regexp.MustCompile(`(?m)^(\s*age: )age1\S+$`).ReplaceAll(testutil.ReadFile(t, config), append([]byte("${1}"), recipient[1]...))
	if !bytes.Contains(b, recipient[1]) {
		t.Fatalf("examples/gitops/.sops.yaml names no age recipient to replace")
	}
	testutil.WriteFile(t, config, b)
	return filepath.Join(root, "bin", "sops"), []string{"SOPS_AGE_KEY_FILE=" + key}
}

// script runs one of the example's scripts with the given environment.
func script(t *testing.T, root string, env []string, name string, args ...string) testutil.Result {
	t.Helper()
	cmd := append([]string{filepath.Join(root, "examples", "gitops", name)}, args...)
	return runEnv(t, root, env, "bash", cmd...)
}

// runEnv runs a command with env added to the test's environment.
func runEnv(t *testing.T, dir string, env []string, name string, args ...string) testutil.Result {
	t.Helper()
	return testutil.Cmd{Dir: dir, Env: append(os.Environ(), env...)}.Run(t, name, args...)
}

// stamps are the lines a render by another aggapi build changes without anything
// else changing: its version, and the digest of what it wrote, which covers it.
var stamps = regexp.MustCompile(`(?m)^(\s*aggapi\.dev/(?:version|rendered-digest): ).*$`)

func withoutStamps(b []byte) string { return string(stamps.ReplaceAll(b, []byte("${1}…"))) }

// TestGitOpsCommittedRenderIsCurrent runs render.sh over the committed render: it is
// what the config gives (only the stamps of this build differ), verify --config passes,
// and nothing warns.
func TestGitOpsCommittedRenderIsCurrent(t *testing.T) {
	root := gitopsRoot(t, false)
	rendered := filepath.Join(root, "examples", "gitops", "rendered")
	before := map[string][]byte{}
	for _, f := range []string{"manifests.yaml", "secret.yaml"} {
		before[f] = testutil.ReadFile(t, filepath.Join(rendered, f))
	}
	r := script(t, root, nil, "render.sh")
	if r.Err != nil {
		t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
	}
	if strings.Contains(string(r.Stderr), "warning") {
		t.Errorf("render.sh warned:\n%s", r.Stderr)
	}
	for f, b := range before {
		if got := testutil.ReadFile(t, filepath.Join(rendered, f)); withoutStamps(got) != withoutStamps(b) {
			t.Errorf("examples/gitops/rendered/%s is not what the config gives (run examples/gitops/render.sh): %s", f, firstDiff(withoutStamps(b), withoutStamps(got)))
		}
	}
}

// TestGitOpsStaleRenderFailsVerify: a config change rendered with only
// --enable-alpha-plugins (kustomize skips the function and exits 0) is caught by
// aggapi verify --config, which names the objects.
func TestGitOpsStaleRenderFailsVerify(t *testing.T) {
	root := gitopsRoot(t, false)
	dir := filepath.Join(root, "examples", "gitops")
	testutil.ReplaceOnce(t, filepath.Join(dir, "render", "aggapi.yaml"), "replicas: 2", "replicas: 3")
	stale := testutil.MustRun(t, dir, nil, filepath.Join(root, "bin", "kustomize"), "build", "--enable-alpha-plugins", "render")
	r := testutil.Run(t, dir, stale, aggapiBin, "verify", "--config", "render")
	if r.Err == nil {
		t.Fatalf("verify --config passed a stale render:\n%s", r.Output())
	}
	for _, want := range []string{"the render is stale", "Deployment wardle/wardle-apiserver", "--enable-exec"} {
		if !strings.Contains(string(r.Stdout), want) {
			t.Errorf("verify does not say %q:\n%s", want, r.Output())
		}
	}
	fresh := testutil.MustRun(t, dir, nil, filepath.Join(root, "bin", "kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", "render")
	if r := testutil.Run(t, dir, fresh, aggapiBin, "verify", "--config", "render"); r.Err != nil {
		t.Errorf("verify --config fails a fresh render: %v\n%s", r.Err, r.Output())
	}
}

// fluxBuild builds dir the way Flux's kustomize-controller does: krusty with plugins
// disabled (no exec functions, no --enable-alpha-plugins).
func fluxBuild(dir string) ([]byte, error) {
	opts := krusty.MakeDefaultOptions()
	opts.PluginConfig = types.DisabledPluginConfig()
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// TestGitOpsDeployLayer builds the deploy layer as Flux does and checks its output is
// exactly every API's committed render and the companion objects plus the patches,
// images and labels of deploy/kustomization.yaml, applied here by hand; that the render
// layers cannot be built that way (why the output is committed); and that the result
// passes verify --config, with one --config per API.
func TestGitOpsDeployLayer(t *testing.T) {
	dir := filepath.Join(repoRoot, "examples", "gitops")
	for _, api := range gitopsAPIs {
		if _, err := fluxBuild(filepath.Join(dir, api, "render")); err == nil || !strings.Contains(err.Error(), "external plugins disabled") {
			t.Errorf("the render layer of %s built without plugins: %v (then it would need no layer of its own)", api, err)
		}
	}
	deploy, err := fluxBuild(filepath.Join(dir, "deploy"))
	if err != nil {
		t.Fatalf("the deploy layer does not build without plugins: %v", err)
	}
	var base []byte
	for _, layer := range []string{"rendered", "apis/custom-metrics/rendered", "apis/custom-metrics/companions"} {
		b, err := fluxBuild(filepath.Join(dir, layer))
		if err != nil {
			t.Fatal(err)
		}
		base = append(append(base, b...), "\n---\n"...)
	}
	want := parseYAML(t, base)
	for _, n := range want {
		if err := n.PipeE(yaml.SetLabel("example.com/team", "platform")); err != nil {
			t.Fatal(err)
		}
		switch {
		case n.GetKind() == "Deployment" && n.GetName() == "wardle-apiserver":
			spec, err := n.Pipe(yaml.Lookup("spec", "template", "spec"))
			if err != nil || spec == nil {
				t.Fatalf("no pod spec: %v", err)
			}
			ctr, err := spec.Pipe(yaml.Lookup("containers", "[name=apiserver]"))
			if err != nil || ctr == nil {
				t.Fatalf("no apiserver container: %v", err)
			}
			image := yaml.GetValue(ctr.Field("image").Value)
			if err := ctr.PipeE(yaml.SetField("image", yaml.NewStringRNode(strings.Replace(image, "registry.k8s.io/e2e-test-images/", "registry.example.com/mirror/", 1)))); err != nil {
				t.Fatal(err)
			}
			for field, value := range map[string]string{
				"nodeSelector": "example.com/pool: platform\n",
				"tolerations":  "- key: example.com/dedicated\n  operator: Equal\n  value: platform\n  effect: NoSchedule\n",
			} {
				if err := spec.PipeE(yaml.SetField(field, yaml.MustParse(value))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	got := parseYAML(t, deploy)
	if g, w := canonicalObjects(t, got), canonicalObjects(t, want); g != w {
		t.Errorf("the deploy layer is not the render plus its patches: %s", firstDiff(w, g))
	}
	// The selectors stay as rendered (includeSelectors: false).
	for _, n := range got {
		if n.GetKind() == "Service" {
			if sel, _ := n.Pipe(yaml.Lookup("spec", "selector", "example.com/team")); sel != nil {
				t.Errorf("labels: reached the Service selector")
			}
		}
	}
	for _, args := range [][]string{{"verify"}, {"verify", "--config", "render", "--config", "apis/custom-metrics/render"}} {
		if r := testutil.Run(t, dir, deploy, aggapiBin, args...); r.Err != nil {
			t.Errorf("aggapi %s on the deploy layer: %v\n%s", strings.Join(args, " "), r.Err, r.Output())
		}
	}
}

// canonicalObjects prints objects sorted by identity, each as indented JSON with
// sorted keys, so two lists compare by content, not by YAML style.
func canonicalObjects(t *testing.T, nodes []*yaml.RNode) string {
	t.Helper()
	var docs []string
	for _, n := range nodes {
		var generic any
		if err := n.YNode().Decode(&generic); err != nil {
			t.Fatal(err)
		}
		b, err := json.MarshalIndent(generic, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, idOf(t, n).String()+"\n"+string(b)+"\n")
	}
	slices.Sort(docs)
	return strings.Join(docs, "---\n")
}

// gitopsAPIs are the APIs of the example repository, as render.sh finds them.
var gitopsAPIs = []string{".", "apis/custom-metrics"}

// encryptAll encrypts every API's Secret of the example with the real sops, from the
// API's directory as render.sh does (sops finds .sops.yaml from there up), and returns
// the files of the example as they are then.
func encryptAll(t *testing.T, dir, sops string, env []string) map[string]string {
	t.Helper()
	for _, api := range gitopsAPIs {
		if r := runEnv(t, filepath.Join(dir, api), env, sops, "--encrypt", "--in-place", "rendered/secret.yaml"); r.Err != nil {
			t.Fatalf("sops --encrypt %s/rendered/secret.yaml: %v\n%s", api, r.Err, r.Output())
		}
		b := testutil.ReadFile(t, filepath.Join(dir, api, "rendered", "secret.yaml"))
		if !bytes.Contains(b, []byte("\nsops:")) || !bytes.Contains(b, []byte("ENC[AES256_GCM")) || bytes.Contains(b, []byte("tls.key: LS0")) {
			t.Fatalf("sops did not encrypt %s/rendered/secret.yaml:\n%s", api, b)
		}
	}
	return snapshot(t, dir)
}

// TestGitOpsSOPS runs render.sh with every API's Secret encrypted by the pinned sops and
// age: two unchanged renders leave every file byte for byte; a render that forgot to
// decrypt, or cannot, fails cleanly and changes nothing; a change that reissues a
// certificate encrypts the new Secret, and the new caBundle still trusts the old CA.
// Flux's build passes the encrypted Secrets through for its decryption.
func TestGitOpsSOPS(t *testing.T) {
	root := gitopsRoot(t, false)
	dir := filepath.Join(root, "examples", "gitops")
	sops, env := sopsKey(t, root)
	secret := filepath.Join(dir, "rendered", "secret.yaml")
	manifests := filepath.Join(dir, "rendered", "manifests.yaml")
	plainManifests := testutil.ReadFile(t, manifests)
	before := encryptAll(t, dir, sops, env)
	encrypted := testutil.ReadFile(t, secret)

	t.Run("Flux builds the encrypted Secrets through", func(t *testing.T) {
		out, err := fluxBuild(filepath.Join(dir, "deploy"))
		if err != nil {
			t.Fatalf("the deploy layer does not build with the encrypted Secrets: %v", err)
		}
		if n := bytes.Count(out, []byte("\n  sops:")) + bytes.Count(out, []byte("\nsops:")); n != len(gitopsAPIs) {
			t.Errorf("the build holds %d Secrets with SOPS metadata, want %d", n, len(gitopsAPIs))
		}
		// The CI check of the deploy layer passes: ciphertext is not a broken certificate.
		r := testutil.Run(t, dir, out, aggapiBin, "verify", "--config", "render", "--config", "apis/custom-metrics/render")
		if r.Err != nil || !strings.Contains(string(r.Stdout), "is SOPS-encrypted") {
			t.Errorf("verify --config on the encrypted deploy layer: %v\n%s", r.Err, r.Output())
		}
	})
	t.Run("unchanged renders keep the ciphertext", func(t *testing.T) {
		for run := 1; run <= 2; run++ {
			r := script(t, root, env, "render.sh")
			if r.Err != nil {
				t.Fatalf("render.sh, run %d: %v\n%s", run, r.Err, r.Output())
			}
			assertSameTree(t, fmt.Sprintf("render %d of the encrypted example", run), before, snapshot(t, dir))
		}
	})
	t.Run("a render that forgot to decrypt is an error", func(t *testing.T) {
		r := script(t, root, []string{"SOPS=true"}, "render.sh") // `true` decrypts nothing
		if r.Err == nil {
			t.Fatalf("render.sh passed over an encrypted Secret:\n%s", r.Output())
		}
		for _, want := range []string{"Secret monitoring/custom-metrics-serving-cert", "SOPS-encrypted", "decrypt it before rendering"} {
			if !strings.Contains(string(r.Stderr), want) {
				t.Errorf("stderr does not say %q:\n%s", want, r.Stderr)
			}
		}
		assertSameTree(t, "a render that forgot to decrypt", before, snapshot(t, dir))
	})
	t.Run("a render without the key is an error", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.agekey")
		testutil.MustRun(t, root, nil, testutil.AgeKeygen(t), "-o", other)
		r := script(t, root, []string{"SOPS_AGE_KEY_FILE=" + other}, "render.sh")
		if r.Err == nil {
			t.Fatalf("render.sh passed without the key:\n%s", r.Output())
		}
		assertSameTree(t, "a render without the key", before, snapshot(t, dir))
	})
	t.Run("a reissue encrypts the new Secret and keeps the old CA trusted", func(t *testing.T) {
		testutil.ReplaceOnce(t, filepath.Join(dir, "render", "aggapi.yaml"), "name: api", "name: wardle-api")
		r := script(t, root, env, "render.sh")
		if r.Err != nil {
			t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
		}
		got := testutil.ReadFile(t, secret)
		if bytes.Equal(got, encrypted) || !bytes.Contains(got, []byte("\nsops:")) || bytes.Contains(got, []byte("tls.key: LS0")) {
			t.Fatalf("the reissued Secret is not encrypted anew:\n%s", got)
		}
		if other := "apis/custom-metrics/rendered/secret.yaml"; snapshot(t, dir)[other] != before[other] {
			t.Errorf("the other API's Secret changed although its certificate did not")
		}
		plain := runEnv(t, dir, env, sops, "--decrypt", "rendered/secret.yaml")
		if plain.Err != nil {
			t.Fatal(plain.Output())
		}
		nodes := parseYAML(t, append(testutil.ReadFile(t, manifests), append([]byte("\n---\n"), plain.Stdout...)...))
		ca := func(nodes []*yaml.RNode, kind string, path ...string) string {
			for _, n := range nodes {
				if n.GetKind() == kind {
					v, _ := n.Pipe(yaml.Lookup(path...))
					b, _ := base64.StdEncoding.DecodeString(yaml.GetValue(v))
					return string(b)
				}
			}
			return ""
		}
		oldCA := ca(parseYAML(t, plainManifests), "APIService", "spec", "caBundle")
		bundle := ca(nodes, "APIService", "spec", "caBundle")
		if oldCA == "" || !strings.HasSuffix(bundle, oldCA) || bundle == oldCA {
			t.Errorf("the new caBundle is not the new CA followed by the previous one")
		}
		if tlsCrt := ca(nodes, "Secret", "data", "tls.crt"); !strings.Contains(tlsCrt, "BEGIN CERTIFICATE") {
			t.Errorf("the decrypted Secret holds no certificate")
		}
		again := snapshot(t, dir)
		if r := script(t, root, env, "render.sh"); r.Err != nil {
			t.Fatalf("render.sh after the reissue: %v\n%s", r.Err, r.Output())
		}
		assertSameTree(t, "the render after the reissue", again, snapshot(t, dir))
	})
}

// TestGitOpsKptSOPS runs the kpt recipe over examples/kpt (whose Secret has a file of
// its own) with the pinned sops and age, from a repository root without .sops.yaml (the
// recipe finds the one beside it): the first render writes the Secret in plaintext and
// says how to encrypt it; encrypted, two re-renders keep the ciphertext (kpt keeps
// quotes that sops drops: the contents are compared decrypted); not decrypted, the
// render fails and leaves the package alone.
func TestGitOpsKptSOPS(t *testing.T) {
	testutil.Kpt(t)
	root := gitopsRoot(t, true)
	sops, env := sopsKey(t, root)
	pkg := filepath.Join(root, "examples", "kpt")
	secret := filepath.Join(pkg, "secrets", "wardle-serving-cert.yaml")

	r := script(t, root, env, "kpt-render.sh", "examples/kpt")
	if r.Err != nil {
		t.Fatalf("kpt-render.sh: %v\n%s", r.Err, r.Output())
	}
	hint := "is not encrypted; before committing: sops --config examples/gitops/.sops.yaml --encrypt --in-place examples/kpt/secrets/wardle-serving-cert.yaml"
	if !strings.Contains(string(r.Stderr), hint) {
		t.Fatalf("the first render does not say how to encrypt the Secret file (%q):\n%s", hint, r.Stderr)
	}
	// The command the hint gives, from the repository root.
	if r := runEnv(t, root, env, sops, "--config", "examples/gitops/.sops.yaml", "--encrypt", "--in-place", "examples/kpt/secrets/wardle-serving-cert.yaml"); r.Err != nil {
		t.Fatalf("the hint's sops command: %v\n%s", r.Err, r.Output())
	}
	encrypted := testutil.ReadFile(t, secret)
	if !bytes.Contains(encrypted, []byte("\nsops:")) || bytes.Contains(encrypted, []byte("tls.key: LS0")) {
		t.Fatalf("sops did not encrypt the Secret file:\n%s", encrypted)
	}
	before := snapshot(t, pkg)
	for run := 1; run <= 2; run++ {
		r = script(t, root, env, "kpt-render.sh", "examples/kpt")
		if r.Err != nil {
			t.Fatalf("kpt-render.sh over the encrypted package, run %d: %v\n%s", run, r.Err, r.Output())
		}
		if strings.Contains(string(r.Stderr), "is not encrypted") {
			t.Errorf("run %d calls the encrypted Secret file plaintext:\n%s", run, r.Stderr)
		}
		assertSameTree(t, fmt.Sprintf("re-render %d of the encrypted package", run), before, snapshot(t, pkg))
	}

	r = script(t, root, []string{"SOPS=true"}, "kpt-render.sh", "examples/kpt")
	if r.Err == nil || !strings.Contains(r.Output(), "SOPS-encrypted") {
		t.Errorf("a render that forgot to decrypt: %v\n%s", r.Err, r.Output())
	}
	assertSameTree(t, "a failed render", before, snapshot(t, pkg))
}

// TestGitOpsClusterAndCIFiles: the Argo CD Application and the Flux Kustomization point
// at the deploy layer (Flux with SOPS decryption), and the CI workflow renders, verifies
// with --config, and proposes the scheduled re-render.
func TestGitOpsClusterAndCIFiles(t *testing.T) {
	dir := filepath.Join(repoRoot, "examples", "gitops")
	docs := func(rel string) []*yaml.RNode {
		t.Helper()
		nodes, err := kio.FromBytes(testutil.ReadFile(t, filepath.Join(dir, rel)))
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		return nodes
	}
	field := func(n *yaml.RNode, path ...string) string {
		v, err := n.Pipe(yaml.Lookup(path...))
		if err != nil || v == nil {
			return ""
		}
		return yaml.GetValue(v)
	}
	deployPath := "examples/gitops/deploy"
	if _, err := os.Stat(filepath.Join(repoRoot, deployPath, "kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	app := docs("clusters/argocd/application.yaml")
	if len(app) != 1 || app[0].GetKind() != "Application" || field(app[0], "spec", "source", "path") != deployPath {
		t.Errorf("the Argo CD Application does not sync %s", deployPath)
	}
	var flux *yaml.RNode
	for _, n := range docs("clusters/flux/kustomization.yaml") {
		if n.GetKind() == "Kustomization" && n.GetApiVersion() == "kustomize.toolkit.fluxcd.io/v1" {
			flux = n
		}
	}
	if flux == nil || field(flux, "spec", "path") != "./"+deployPath || field(flux, "spec", "decryption", "provider") != "sops" || field(flux, "spec", "decryption", "secretRef", "name") == "" {
		t.Errorf("the Flux Kustomization does not build %s with SOPS decryption", deployPath)
	}
	ci := string(testutil.ReadFile(t, filepath.Join(dir, "ci", "aggapi.yaml")))
	if _, err := yaml.Parse(ci); err != nil {
		t.Fatalf("ci/aggapi.yaml: %v", err)
	}
	// The steps themselves are ci/aggapi-ci.sh, which TestGitOpsCIYear runs at four dates;
	// the workflow must call both of its modes.
	for _, want := range []string{"schedule:", "$GITOPS_DIR/ci/aggapi-ci.sh check", "$GITOPS_DIR/ci/aggapi-ci.sh scheduled", "create-pull-request", "SOPS_AGE_KEY"} {
		if !strings.Contains(ci, want) {
			t.Errorf("ci/aggapi.yaml lacks %q", want)
		}
	}
}
