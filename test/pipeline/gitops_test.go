package pipeline

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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

// sopsBin returns a directory holding a `sops` that is this test binary (fakeSops).
func sopsBin(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "sops")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "sops")
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

func runStdin(t *testing.T, dir string, stdin []byte, name string, args ...string) testutil.Result {
	t.Helper()
	return testutil.Run(t, dir, stdin, name, args...)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
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
		before[f] = readFile(t, filepath.Join(rendered, f))
	}
	r := script(t, root, nil, "render.sh")
	if r.Err != nil {
		t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
	}
	if strings.Contains(string(r.Stderr), "warning") {
		t.Errorf("render.sh warned:\n%s", r.Stderr)
	}
	for f, b := range before {
		if got := readFile(t, filepath.Join(rendered, f)); withoutStamps(got) != withoutStamps(b) {
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
	stale := mustRun(t, dir, filepath.Join(root, "bin", "kustomize"), "build", "--enable-alpha-plugins", "render")
	r := runStdin(t, dir, stale, aggapiBin, "verify", "--config", "render")
	if r.Err == nil {
		t.Fatalf("verify --config passed a stale render:\n%s", r.Output())
	}
	for _, want := range []string{"the render is stale", "Deployment wardle/wardle-apiserver", "--enable-exec"} {
		if !strings.Contains(string(r.Stdout), want) {
			t.Errorf("verify does not say %q:\n%s", want, r.Output())
		}
	}
	fresh := mustRun(t, dir, filepath.Join(root, "bin", "kustomize"), "build", "--enable-alpha-plugins", "--enable-exec", "render")
	if r := runStdin(t, dir, fresh, aggapiBin, "verify", "--config", "render"); r.Err != nil {
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
// exactly the committed render plus the patches, images and labels of
// deploy/kustomization.yaml, applied here by hand; that the render layer cannot be built
// that way (why the output is committed); and that the result passes verify --config.
func TestGitOpsDeployLayer(t *testing.T) {
	dir := filepath.Join(repoRoot, "examples", "gitops")
	if _, err := fluxBuild(filepath.Join(dir, "render")); err == nil || !strings.Contains(err.Error(), "external plugins disabled") {
		t.Errorf("the render layer built without plugins: %v (then it would need no layer of its own)", err)
	}
	deploy, err := fluxBuild(filepath.Join(dir, "deploy"))
	if err != nil {
		t.Fatalf("the deploy layer does not build without plugins: %v", err)
	}
	base, err := fluxBuild(filepath.Join(dir, "rendered"))
	if err != nil {
		t.Fatal(err)
	}
	want := parseYAML(t, base)
	for _, n := range want {
		if err := n.PipeE(yaml.SetLabel("example.com/team", "platform")); err != nil {
			t.Fatal(err)
		}
		switch n.GetKind() {
		case "Deployment":
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
	for _, args := range [][]string{{"verify"}, {"verify", "--config", filepath.Join(dir, "render")}} {
		if r := runStdin(t, dir, deploy, aggapiBin, args...); r.Err != nil {
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

// TestGitOpsSOPS runs render.sh with the Secret SOPS-encrypted: an unchanged render
// leaves the ciphertext byte for byte; a render that forgot to decrypt fails cleanly and
// changes nothing; a change that reissues the certificate encrypts the new Secret, and
// the new caBundle still trusts the old CA. Flux's build passes the encrypted Secret
// through for its decryption.
func TestGitOpsSOPS(t *testing.T) {
	root := gitopsRoot(t, false)
	dir := filepath.Join(root, "examples", "gitops")
	sops := sopsBin(t)
	secret := filepath.Join(dir, "rendered", "secret.yaml")
	manifests := filepath.Join(dir, "rendered", "manifests.yaml")
	mustRun(t, dir, sops, "--encrypt", "--in-place", "rendered/secret.yaml")
	encrypted := readFile(t, secret)
	if !bytes.Contains(encrypted, []byte("\nsops:")) || !bytes.Contains(encrypted, []byte("ENC[")) {
		t.Fatalf("the fake sops did not encrypt:\n%s", encrypted)
	}
	plainManifests := readFile(t, manifests)

	t.Run("Flux builds the encrypted Secret through", func(t *testing.T) {
		out, err := fluxBuild(filepath.Join(dir, "deploy"))
		if err != nil {
			t.Fatalf("the deploy layer does not build with the encrypted Secret: %v", err)
		}
		if !bytes.Contains(out, []byte("ENC[")) || !bytes.Contains(out, []byte("\n  sops:")) && !bytes.Contains(out, []byte("\nsops:")) {
			t.Errorf("the encrypted Secret lost its SOPS metadata in the build")
		}
		// The CI check of the deploy layer passes: ciphertext is not a broken certificate.
		r := runStdin(t, dir, out, aggapiBin, "verify", "--config", "render")
		if r.Err != nil || !strings.Contains(string(r.Stdout), "is SOPS-encrypted") {
			t.Errorf("verify --config on the encrypted deploy layer: %v\n%s", r.Err, r.Output())
		}
	})
	t.Run("an unchanged render keeps the ciphertext", func(t *testing.T) {
		r := script(t, root, []string{"SOPS=" + sops}, "render.sh")
		if r.Err != nil {
			t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
		}
		if got := readFile(t, secret); !bytes.Equal(got, encrypted) {
			t.Errorf("the ciphertext changed although the Secret did not:\n%s", got)
		}
		if got := readFile(t, manifests); !bytes.Equal(got, plainManifests) {
			t.Errorf("the manifests changed: %s", firstDiff(string(plainManifests), string(got)))
		}
	})
	t.Run("a render that forgot to decrypt is an error", func(t *testing.T) {
		r := script(t, root, []string{"SOPS=true"}, "render.sh") // `true` decrypts nothing
		if r.Err == nil {
			t.Fatalf("render.sh passed over an encrypted Secret:\n%s", r.Output())
		}
		for _, want := range []string{"Secret wardle/wardle-serving-cert", "SOPS-encrypted", "decrypt it before rendering"} {
			if !strings.Contains(string(r.Stderr), want) {
				t.Errorf("stderr does not say %q:\n%s", want, r.Stderr)
			}
		}
		if got := readFile(t, secret); !bytes.Equal(got, encrypted) {
			t.Errorf("a failed render changed the Secret file")
		}
		if got := readFile(t, manifests); !bytes.Equal(got, plainManifests) {
			t.Errorf("a failed render changed the manifests")
		}
	})
	t.Run("a reissue encrypts the new Secret and keeps the old CA trusted", func(t *testing.T) {
		testutil.ReplaceOnce(t, filepath.Join(dir, "render", "aggapi.yaml"), "name: api", "name: wardle-api")
		r := script(t, root, []string{"SOPS=" + sops}, "render.sh")
		if r.Err != nil {
			t.Fatalf("render.sh: %v\n%s", r.Err, r.Output())
		}
		got := readFile(t, secret)
		if bytes.Equal(got, encrypted) || !bytes.Contains(got, []byte("\nsops:")) || bytes.Contains(got, []byte("tls.key: LS0")) {
			t.Fatalf("the reissued Secret is not encrypted anew:\n%s", got)
		}
		mustRun(t, dir, sops, "--decrypt", "--in-place", "rendered/secret.yaml")
		nodes := parseYAML(t, append(readFile(t, manifests), append([]byte("\n---\n"), readFile(t, secret)...)...))
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
		if r := runStdin(t, dir, nil, aggapiBin, "verify", "--config", "render", "rendered"); r.Err != nil {
			t.Errorf("verify --config after the reissue: %v\n%s", r.Err, r.Output())
		}
	})
}

// TestGitOpsKptSOPS runs the kpt recipe over examples/kpt (whose Secret has a file of
// its own): the first render writes it in plaintext and says so; encrypted, a re-render
// keeps the ciphertext; not decrypted, the render fails and leaves the package alone.
func TestGitOpsKptSOPS(t *testing.T) {
	testutil.Kpt(t)
	root := gitopsRoot(t, true)
	sops := sopsBin(t)
	pkg := filepath.Join(root, "examples", "kpt")
	secret := filepath.Join(pkg, "secrets", "wardle-serving-cert.yaml")

	r := script(t, root, []string{"SOPS=" + sops}, "kpt-render.sh", "examples/kpt")
	if r.Err != nil {
		t.Fatalf("kpt-render.sh: %v\n%s", r.Err, r.Output())
	}
	if !strings.Contains(string(r.Stderr), "is not encrypted; before committing: sops --encrypt --in-place examples/kpt/secrets/wardle-serving-cert.yaml") {
		t.Errorf("the first render does not say the Secret file needs encrypting:\n%s", r.Stderr)
	}
	mustRun(t, root, sops, "--encrypt", "--in-place", "examples/kpt/secrets/wardle-serving-cert.yaml")
	encrypted := readFile(t, secret)
	before := snapshot(t, pkg)

	r = script(t, root, []string{"SOPS=" + sops}, "kpt-render.sh", "examples/kpt")
	if r.Err != nil {
		t.Fatalf("kpt-render.sh over the encrypted package: %v\n%s", r.Err, r.Output())
	}
	if got := readFile(t, secret); !bytes.Equal(got, encrypted) {
		t.Errorf("the ciphertext changed although the Secret did not")
	}
	assertSameTree(t, "a re-render of the encrypted package", before, snapshot(t, pkg))

	r = script(t, root, []string{"SOPS=true"}, "kpt-render.sh", "examples/kpt")
	if r.Err == nil || !strings.Contains(r.Output(), "SOPS-encrypted") {
		t.Errorf("a render that forgot to decrypt: %v\n%s", r.Err, r.Output())
	}
	assertSameTree(t, "a failed render", before, snapshot(t, pkg))
}

// fakeSops stands in for sops (not installable offline: no Debian package, and its Go
// module pulls in every cloud SDK). Like sops with encrypted_regex ^(data|stringData)$,
// it replaces those values by ENC[...] with a fresh IV each time, adds the sops
// metadata, indents by 4 as sops does, and refuses to decrypt a file without metadata.
// It reads `--encrypt|--decrypt --in-place FILE`.
func fakeSops(args []string, stderr io.Writer) int {
	if len(args) != 3 || args[1] != "--in-place" || (args[0] != "--encrypt" && args[0] != "--decrypt") {
		fmt.Fprintf(stderr, "fake sops: usage: sops --encrypt|--decrypt --in-place FILE (got %q)\n", args)
		return 2
	}
	file := args[2]
	b, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	nodes, err := kio.FromBytes(b)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	encValue := regexp.MustCompile(`^ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),iv:[0-9a-f]+,tag:fake,type:str\]$`)
	for _, n := range nodes {
		encrypting := args[0] == "--encrypt"
		if !encrypting && n.Field("sops") == nil {
			fmt.Fprintf(stderr, "fake sops: %s: sops metadata not found\n", file)
			return 1
		}
		for _, key := range []string{"data", "stringData"} {
			m := n.Field(key)
			if m == nil {
				continue
			}
			err := m.Value.VisitFields(func(f *yaml.MapNode) error {
				v := f.Value.YNode()
				if encrypting {
					iv := make([]byte, 8)
					_, _ = rand.Read(iv)
					v.Value = "ENC[AES256_GCM,data:" + base64.StdEncoding.EncodeToString([]byte(v.Value)) + ",iv:" + hex.EncodeToString(iv) + ",tag:fake,type:str]"
					return nil
				}
				sub := encValue.FindStringSubmatch(v.Value)
				if sub == nil {
					return fmt.Errorf("%s: not encrypted: %q", f.Key.YNode().Value, v.Value)
				}
				plain, err := base64.StdEncoding.DecodeString(sub[1])
				v.Value = string(plain)
				return err
			})
			if err != nil {
				fmt.Fprintf(stderr, "fake sops: %s: %v\n", file, err)
				return 1
			}
		}
		if encrypting {
			if err := n.PipeE(yaml.SetField("sops", yaml.MustParse("encrypted_regex: ^(data|stringData)$\nversion: fake\n"))); err != nil {
				fmt.Fprintln(stderr, err)
				return 1
			}
		} else if err := n.PipeE(yaml.Clear("sops")); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(4)
	for _, n := range nodes {
		if err := enc.Encode(n.YNode()); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// TestGitOpsClusterAndCIFiles: the Argo CD Application and the Flux Kustomization point
// at the deploy layer (Flux with SOPS decryption), and the CI workflow renders, verifies
// with --config, and proposes the scheduled re-render.
func TestGitOpsClusterAndCIFiles(t *testing.T) {
	dir := filepath.Join(repoRoot, "examples", "gitops")
	docs := func(rel string) []*yaml.RNode {
		t.Helper()
		nodes, err := kio.FromBytes(readFile(t, filepath.Join(dir, rel)))
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
	ci := string(readFile(t, filepath.Join(dir, "ci", "aggapi.yaml")))
	if _, err := yaml.Parse(ci); err != nil {
		t.Fatalf("ci/aggapi.yaml: %v", err)
	}
	for _, want := range []string{"schedule:", "$GITOPS_DIR/render.sh", "aggapi verify --config $GITOPS_DIR/render", "git diff --exit-code", "create-pull-request", "SOPS_AGE_KEY"} {
		if !strings.Contains(ci, want) {
			t.Errorf("ci/aggapi.yaml lacks %q", want)
		}
	}
}
