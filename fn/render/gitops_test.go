package render

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/provenance"
)

// TestStamps: every generated object carries the config digest, the version and the
// digest of what was written, and a re-render over unchanged output warns of nothing.
func TestStamps(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	for _, it := range first.Items {
		a := it.GetAnnotations()
		if !strings.HasPrefix(a[keys.ConfigDigestAnnotation], "sha256:") || a[keys.VersionAnnotation] == "" {
			t.Errorf("%s %s is not stamped: %v", it.GetKind(), it.GetName(), a)
		}
		if provenance.Edited(it) {
			t.Errorf("%s %s counts as edited right after the render", it.GetKind(), it.GetName())
		}
	}
	second := render(t, copyItems(t, first.Items), cfg, t0)
	for _, r := range second.Results {
		if r.Severity != Info {
			t.Errorf("a re-render over unchanged output: %s: %s", r.Severity, r.Message)
		}
	}
}

// TestConfigDigest: the digest is the config after defaulting, so formatting,
// comments, key order, spelled-out defaults and the tools' annotations do not change
// it, and any value does.
func TestConfigDigest(t *testing.T) {
	digest := func(doc string) string {
		t.Helper()
		api, errs := config.Load([]byte(doc))
		if len(errs) > 0 {
			t.Fatalf("%v\n%s", errs, doc)
		}
		d, err := ConfigDigest(api)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := digest(`apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: wardle}
spec:
  group: wardle.example.com
  versions: [{name: v1alpha1}]
  server: {image: "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2"}
`)
	same := map[string]string{
		"block style, comments, key order, annotations": `kind: AggregatedAPI   # the config
apiVersion: aggapi.dev/v1alpha1
metadata:
  annotations:
    config.kubernetes.io/function: |
      exec: {path: ../../bin/aggapi}
    config.kubernetes.io/local-config: "true"
    internal.config.kubernetes.io/path: aggapi.yaml
  name: wardle
spec:
  server:
    image: registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2
  versions:
  - name: v1alpha1
  group: wardle.example.com
`,
		"defaults spelled out": `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: wardle}
spec:
  group: wardle.example.com
  versions: [{name: v1alpha1, versionPriority: 15}]
  groupPriorityMinimum: 1000
  namespace: wardle
  service: {name: wardle, port: 443}
  server: {image: "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2", port: 10250, replicas: 1}
  certificate: {mode: generate, validity: 8760h, renewBefore: 720h, overlap: 24h, keyAlgorithm: ECDSA-P256}
`,
	}
	for name, doc := range same {
		if got := digest(doc); got != base {
			t.Errorf("%s: digest %s, want %s", name, got, base)
		}
	}
	different := map[string]string{
		"replicas":  "server: {image: \"registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2\", replicas: 2}",
		"validity":  "server: {image: \"registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2\"}\n  certificate: {validity: 4380h}",
		"image tag": "server: {image: \"registry.k8s.io/e2e-test-images/sample-apiserver:1.29.3\"}",
	}
	for name, server := range different {
		doc := `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: wardle}
spec:
  group: wardle.example.com
  versions: [{name: v1alpha1}]
  ` + server + "\n"
		if digest(doc) == base {
			t.Errorf("%s: a changed config has the same digest", name)
		}
	}
}

// TestEditIsReported: a previous object changed after the render (a kustomize patch,
// images:, labels:) gives one warning naming the object, the changed paths and where
// the change belongs; the output is what the config says.
func TestEditIsReported(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	items := copyItems(t, first.Items)
	dep := find(items, "Deployment", "wardle-apiserver")
	for _, f := range []yaml.Filter{
		yaml.SetField("replicas", yaml.NewScalarRNode("3")),
	} {
		if err := dep.PipeE(yaml.Lookup("spec"), f); err != nil {
			t.Fatal(err)
		}
	}
	if err := dep.PipeE(yaml.Lookup("spec", "template", "spec", "containers", "[name=apiserver]"), yaml.SetField("image", yaml.NewStringRNode("mirror.example.com/sample-apiserver:1.29.2"))); err != nil {
		t.Fatal(err)
	}
	if err := dep.PipeE(yaml.SetLabel("team", "platform")); err != nil {
		t.Fatal(err)
	}
	// Tool bookkeeping is not an edit.
	sa := find(items, "ServiceAccount", "wardle-apiserver")
	if err := sa.PipeE(yaml.SetAnnotation("config.kubernetes.io/path", "wardle/sa.yaml")); err != nil {
		t.Fatal(err)
	}

	out := render(t, items, cfg, t0)
	var warnings []Result
	for _, r := range out.Results {
		if r.Severity == Warning {
			warnings = append(warnings, r)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("want one warning, got %d:\n%s", len(warnings), messages(out))
	}
	w := warnings[0]
	for _, want := range []string{
		"Deployment wardle/wardle-apiserver",
		"spec.replicas", "spec.template.spec.containers[name=apiserver].image", "metadata.labels.team",
		"`spec.server.replicas`", "`spec.server.image`", "kustomization over the rendered output",
	} {
		if !strings.Contains(w.Message, want) {
			t.Errorf("the warning does not say %q:\n%s", want, w.Message)
		}
	}
	if w.ResourceRef == nil || w.ResourceRef.Kind != "Deployment" || w.FieldPath == "" {
		t.Errorf("the warning is not tied to the Deployment's field: %+v", w)
	}
	got := find(out.Items, "Deployment", "wardle-apiserver")
	want := find(first.Items, "Deployment", "wardle-apiserver")
	if serialize(t, []*yaml.RNode{got}) != serialize(t, []*yaml.RNode{want}) {
		t.Errorf("the output Deployment is not the function's:\n%s", serialize(t, []*yaml.RNode{got}))
	}
}

func sopsSecret(t *testing.T, items []*yaml.RNode, how string) {
	t.Helper()
	s := find(items, "Secret", "wardle-serving-cert")
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if err := s.PipeE(yaml.Lookup("data"), yaml.SetField(k, yaml.NewStringRNode("ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]"))); err != nil {
			t.Fatal(err)
		}
	}
	if how == "with metadata" {
		meta := yaml.MustParse("age:\n- recipient: age1qqq\n  enc: |\n    -----BEGIN AGE ENCRYPTED FILE-----\nencrypted_regex: ^(data|stringData)$\nversion: 3.9.0\n")
		if err := s.PipeE(yaml.SetField("sops", meta)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSOPSEncryptedSecretIsAnError: an encrypted previous Secret is never read as "no
// certificate": that would issue a new CA without the old one in the caBundle.
func TestSOPSEncryptedSecretIsAnError(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	for _, how := range []string{"with metadata", "ENC values only"} {
		t.Run(how, func(t *testing.T) {
			items := copyItems(t, first.Items)
			sopsSecret(t, items, how)
			_ = find(items, "Secret", "wardle-serving-cert").PipeE(yaml.SetAnnotation("config.kubernetes.io/path", "secrets/wardle-serving-cert.yaml"))
			before := serialize(t, items)
			out := Process(items, cfg, t0)
			if !out.Failed {
				t.Fatalf("rendered over an encrypted Secret:\n%s", messages(out))
			}
			msg := messages(out)
			for _, want := range []string{"Secret wardle/wardle-serving-cert", "secrets/wardle-serving-cert.yaml", "SOPS-encrypted", "decrypt it before rendering"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q:\n%s", want, msg)
				}
			}
			if strings.Contains(msg, "issued") {
				t.Errorf("a certificate was issued anyway:\n%s", msg)
			}
			if got := serialize(t, out.Items); got != before {
				t.Errorf("the items changed on error")
			}
		})
	}
}

// TestBrokenSecretKeepsPreviousCAs: a previous Secret that does not parse is reissued,
// with a warning, and the new caBundle still trusts the CA of the previous APIServices'
// caBundle until the overlap ends, as a renewal does.
func TestBrokenSecretKeepsPreviousCAs(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	oldCA := pemAt(t, first.Items, "Secret", "data", "ca.crt")
	oldCert := pemAt(t, first.Items, "Secret", "data", "tls.crt")
	items := copyItems(t, first.Items)
	s := find(items, "Secret", "wardle-serving-cert")
	if err := s.PipeE(yaml.Lookup("data"), yaml.SetField("tls.crt", yaml.NewStringRNode("bm90IGEgY2VydGlmaWNhdGU="))); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	out := render(t, items, cfg, at)
	newCA := pemAt(t, out.Items, "Secret", "data", "ca.crt")
	bundle := pemAt(t, out.Items, "APIService", "spec", "caBundle")
	if bundle != newCA+oldCA {
		t.Fatalf("the caBundle is not the new CA followed by the previous one")
	}
	if err := verifies(oldCert, bundle, "api.wardle.svc", at); err != nil {
		t.Errorf("pods still serving the previous certificate are not trusted: %v", err)
	}
	var warned bool
	for _, r := range out.Results {
		warned = warned || r.Severity == Warning && strings.Contains(r.Message, "issued a new serving certificate")
	}
	if !warned {
		t.Errorf("a broken previous Secret is not a warning:\n%s", messages(out))
	}
	if !strings.Contains(messages(out), "from the previous APIServices' caBundle") {
		t.Errorf("the results do not say where the kept CA comes from:\n%s", messages(out))
	}
	inOverlap := render(t, copyItems(t, out.Items), cfg, at.Add(time.Hour))
	if got := pemAt(t, inOverlap.Items, "APIService", "spec", "caBundle"); got != bundle {
		t.Errorf("a render inside the overlap dropped the previous CA")
	}
	after := render(t, copyItems(t, inOverlap.Items), cfg, at.Add(25*time.Hour))
	if got := pemAt(t, after.Items, "APIService", "spec", "caBundle"); got != newCA {
		t.Errorf("the previous CA is still trusted after the overlap")
	}
}

// TestSlowKeyGenerationIsAnnounced: RSA-3072 and RSA-4096 say so before the wait.
func TestSlowKeyGenerationIsAnnounced(t *testing.T) {
	t.Parallel()
	var progress bytes.Buffer
	var notedFirst bool
	keys := func(pki.KeyAlgorithm) (crypto.Signer, error) {
		notedFirst = notedFirst || progress.Len() > 0
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // the note is under test, not RSA
	}
	for alg, slow := range map[string]bool{"RSA-4096": true, "RSA-3072": true, "RSA-2048": false, "ECDSA-P256": false} {
		progress.Reset()
		notedFirst = false
		cfg := loadConfig(t)
		if err := cfg.PipeE(yaml.LookupCreate(yaml.MappingNode, "spec", "certificate"), yaml.SetField("keyAlgorithm", yaml.NewStringRNode(alg))); err != nil {
			t.Fatal(err)
		}
		Process(nil, cfg, t0, WithProgress(&progress), WithKeySource(keys))
		if slow && (!notedFirst || !strings.Contains(progress.String(), alg)) {
			t.Errorf("%s: no note before generating (%q)", alg, progress.String())
		}
		if !slow && progress.Len() > 0 {
			t.Errorf("%s: a note for a fast key: %q", alg, progress.String())
		}
	}
}

// TestSameEditOnManyObjectsIsOneWarning: labels: in the render's kustomization changes
// every object alike; one warning names them all.
func TestSameEditOnManyObjectsIsOneWarning(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	items := copyItems(t, first.Items)
	for _, it := range items {
		if err := it.PipeE(yaml.SetLabel("team", "a")); err != nil {
			t.Fatal(err)
		}
	}
	out := render(t, items, cfg, t0)
	var warnings []string
	for _, r := range out.Results {
		if r.Severity == Warning {
			warnings = append(warnings, r.Message)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("want one warning, got %d:\n%s", len(warnings), strings.Join(warnings, "\n"))
	}
	if !strings.Contains(messages(out), "reused the serving certificate") {
		t.Errorf("labels alone on the Secret cost a reissue:\n%s", messages(out))
	}
	want := strings.Join([]string{"objects (", "Secret wardle/wardle-serving-cert", "Namespace wardle", "Deployment wardle/wardle-apiserver", "APIService v1beta1.wardle.example.com", "(metadata.labels.team)", "`labels:`"}, "|")
	for _, w := range strings.Split(want, "|") {
		if !strings.Contains(warnings[0], w) {
			t.Errorf("the warning does not say %q:\n%s", w, warnings[0])
		}
	}
}
