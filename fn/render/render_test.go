package render

import (
	"crypto/x509"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/provenance"
	"github.com/aggapi/aggapi/internal/testutil"
)

var t0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func loadConfig(t *testing.T) *yaml.RNode {
	t.Helper()
	return yaml.MustParse(string(testutil.ReadFile(t, "../../testdata/basic/config.yaml")))
}

func render(t *testing.T, items []*yaml.RNode, cfg *yaml.RNode, now time.Time) Output {
	t.Helper()
	out := Process(items, cfg, now)
	if out.Failed {
		t.Fatalf("render failed: %v", out.Results)
	}
	return out
}

func serialize(t *testing.T, items []*yaml.RNode) string {
	t.Helper()
	var b strings.Builder
	if err := (kio.ByteWriter{Writer: &b, KeepReaderAnnotations: true}).Write(items); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func find(items []*yaml.RNode, kind, name string) *yaml.RNode {
	for _, it := range items {
		if it.GetKind() == kind && it.GetName() == name {
			return it
		}
	}
	return nil
}

func valueAt(t *testing.T, n *yaml.RNode, path ...string) string {
	t.Helper()
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil {
		t.Fatalf("%s %s has no %v", n.GetKind(), n.GetName(), path)
	}
	return yaml.GetValue(v)
}

// TestRerenderIsByteIdentical renders, then renders over its own output at several later
// times before renewal: nothing may change.
func TestRerenderIsByteIdentical(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	want := serialize(t, first.Items)
	for _, later := range []time.Duration{0, time.Hour, 100 * 24 * time.Hour, (8760-720)*time.Hour - time.Second} {
		again := render(t, first.Items, cfg, t0.Add(later))
		if got := serialize(t, again.Items); got != want {
			t.Fatalf("re-render at +%s changed the output", later)
		}
	}
}

// TestRenewal steps a clock through a whole life: inside renewBefore the certificate,
// the caBundle and the pods' hash change together in one render, the caBundle trusts
// the new and the previous CA so old and new pods both verify, renders inside the
// overlap are stable, and once the overlap has passed the previous CA goes, for good.
func TestRenewal(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	renewAt := t0.Add((8760 - 720) * time.Hour)
	renewed := render(t, first.Items, cfg, renewAt)

	for _, c := range []struct {
		kind, name string
		path       []string
	}{
		{"Secret", "wardle-serving-cert", []string{"data", "tls.crt"}},
		{"Secret", "wardle-serving-cert", []string{"data", "ca.crt"}},
		{"APIService", "v1alpha1.wardle.example.com", []string{"spec", "caBundle"}},
		{"APIService", "v1beta1.wardle.example.com", []string{"spec", "caBundle"}},
		{"Deployment", "wardle-apiserver", []string{"spec", "template", "metadata", "annotations", "aggapi.dev/serving-cert-sha256"}},
	} {
		before := valueAt(t, find(first.Items, c.kind, c.name), c.path...)
		after := valueAt(t, find(renewed.Items, c.kind, c.name), c.path...)
		if before == after {
			t.Errorf("%s %s %v did not change on renewal", c.kind, c.name, c.path)
		}
	}
	oldCert, oldCA := pemAt(t, first.Items, "Secret", "data", "tls.crt"), pemAt(t, first.Items, "Secret", "data", "ca.crt")
	newCert, newCA := pemAt(t, renewed.Items, "Secret", "data", "tls.crt"), pemAt(t, renewed.Items, "Secret", "data", "ca.crt")
	bundle := pemAt(t, renewed.Items, "APIService", "spec", "caBundle")
	if want := newCA + oldCA; bundle != want {
		t.Fatalf("caBundle after renewal is not the new CA followed by the previous one")
	}
	for name, cert := range map[string]string{"previous": oldCert, "new": newCert} {
		if err := verifies(cert, bundle, "api.wardle.svc", renewAt); err != nil {
			t.Errorf("the %s serving certificate does not verify against the renewed caBundle: %v", name, err)
		}
	}
	if !strings.Contains(messages(renewed), "within renewBefore") {
		t.Errorf("renewal results do not say why: %s", messages(renewed))
	}

	inOverlap := render(t, renewed.Items, cfg, renewAt.Add(time.Hour))
	if serialize(t, inOverlap.Items) != serialize(t, renewed.Items) {
		t.Errorf("a render inside the overlap changed the output")
	}
	afterOverlap := render(t, inOverlap.Items, cfg, renewAt.Add(24*time.Hour))
	if got := pemAt(t, afterOverlap.Items, "APIService", "spec", "caBundle"); got != newCA {
		t.Errorf("the previous CA is still trusted after the overlap")
	}
	if err := verifies(oldCert, pemAt(t, afterOverlap.Items, "APIService", "spec", "caBundle"), "api.wardle.svc", renewAt); err == nil {
		t.Errorf("the previous serving certificate still verifies after the overlap")
	}
	if pemAt(t, afterOverlap.Items, "Secret", "data", "tls.crt") != newCert {
		t.Errorf("the serving certificate changed when the overlap ended")
	}
	stable := render(t, afterOverlap.Items, cfg, renewAt.Add(48*time.Hour))
	if serialize(t, stable.Items) != serialize(t, afterOverlap.Items) {
		t.Errorf("the output after the overlap is not stable")
	}
}

func pemAt(t *testing.T, items []*yaml.RNode, kind string, path ...string) string {
	t.Helper()
	for _, it := range items {
		if it.GetKind() == kind {
			b, err := base64.StdEncoding.DecodeString(valueAt(t, it, path...))
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("no %s", kind)
	return ""
}

func verifies(certPEM, bundle, name string, at time.Time) error {
	certs, err := pki.ParseCertsPEM([]byte(certPEM))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(bundle))
	_, err = certs[0].Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func messages(o Output) string {
	var b strings.Builder
	for _, r := range o.Results {
		b.WriteString(r.Message + "\n")
	}
	return b.String()
}

// TestOwnedObjectsAreUpsertedNotDuplicated: the second render replaces its objects in
// place, drops those the config no longer asks for, and keeps the tools' annotations.
func TestOwnedObjectsAreUpsertedNotDuplicated(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	for _, it := range first.Items {
		_ = it.PipeE(yaml.SetAnnotation("internal.config.kubernetes.io/path", strings.ToLower(it.GetKind())+".yaml"))
	}
	// The user drops v1beta1: its APIService must go, nothing may double.
	b, _ := cfg.String()
	smaller := yaml.MustParse(strings.Replace(b, "  - name: v1beta1\n", "", 1))
	second := render(t, first.Items, smaller, t0)
	if len(second.Items) != len(first.Items)-1 {
		t.Fatalf("%d items after dropping a version, want %d", len(second.Items), len(first.Items)-1)
	}
	if find(second.Items, "APIService", "v1beta1.wardle.example.com") != nil {
		t.Errorf("the APIService of a removed version survived")
	}
	for _, it := range second.Items {
		if it.GetAnnotations()["internal.config.kubernetes.io/path"] == "" {
			t.Errorf("%s %s lost its path annotation", it.GetKind(), it.GetName())
		}
	}
}

func TestErrorEmitsNothing(t *testing.T) {
	foreign := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n")
	bad := yaml.MustParse("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\nmetadata: {name: x}\nspec: {versions: [{name: v1}], server: {image: i}}\n")
	out := Process([]*yaml.RNode{foreign}, bad, t0)
	if !out.Failed {
		t.Fatal("a config without a group rendered")
	}
	if len(out.Items) != 1 || out.Items[0] != foreign {
		t.Errorf("on error the items must be the input items, got %d", len(out.Items))
	}
	if out.Results[0].FieldPath != "spec.group" || out.Results[0].ResourceRef.Name != "x" {
		t.Errorf("the error result does not point at spec.group of the config: %+v", out.Results[0])
	}
}

func TestErrorsNameTheConfigFile(t *testing.T) {
	for prefix, index := range map[string]int{"config.kubernetes.io/": 2, "internal.config.kubernetes.io/": 0} {
		bad := yaml.MustParse("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\nmetadata:\n  name: x\n  annotations:\n" +
			"    " + prefix + "path: platform/x.yaml\n    " + prefix + "index: '" + strconv.Itoa(index) + "'\n" +
			"spec: {group: x.example.com, versions: [{name: v1}], service: {port: '443'}, server: {image: i}}\n")
		out := Process(nil, bad, t0)
		if !out.Failed || len(out.Results) != 1 {
			t.Fatalf("%s: %+v", prefix, out.Results)
		}
		res := out.Results[0]
		if res.File == nil || res.File.Path != "platform/x.yaml" || res.File.Index != index {
			t.Errorf("%s: file %+v", prefix, res.File)
		}
		if want := "platform/x.yaml: `spec.service.port`: Invalid value: \"443\": must be an integer"; res.Line() != want {
			t.Errorf("%s: stderr line %q, want %q", prefix, res.Line(), want)
		}
		if out.OmitFunctionConfig {
			t.Errorf("%s: a small config is not echoed back", prefix)
		}
	}
}

func TestTooLargeConfigIsNotEchoed(t *testing.T) {
	huge := yaml.MustParse("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\nmetadata: {name: x}\nspec: {junk: [" +
		strings.TrimSuffix(strings.Repeat("1, ", 60_000), ", ") + "]}\n")
	out := Process(nil, huge, t0)
	if !out.Failed || !out.OmitFunctionConfig || !strings.Contains(out.Results[0].Message, "the function config is too large") {
		t.Errorf("failed %v, omit %v, results %+v", out.Failed, out.OmitFunctionConfig, out.Results)
	}
}

func BenchmarkRender(b *testing.B) {
	raw := testutil.ReadFile(b, "../../testdata/basic/config.yaml")
	cfg := yaml.MustParse(string(raw))
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			if out := Process(nil, cfg, t0); out.Failed {
				b.Fatal(out.Results)
			}
		}
	})
	prev := Process(nil, cfg, t0).Items
	b.Run("rerender", func(b *testing.B) {
		for b.Loop() {
			if out := Process(prev, cfg, t0); out.Failed {
				b.Fatal(out.Results)
			}
		}
	})
	// A re-render of a config with a podTemplate, names, a NetworkPolicy with extra
	// rules: what the strict decode and the strategic merge cost when warm.
	raw = testutil.ReadFile(b, "../../testdata/pod-template/config.yaml")
	withTemplate := yaml.MustParse(string(raw))
	prev = Process(nil, withTemplate, t0).Items
	b.Run("rerender-podTemplate", func(b *testing.B) {
		for b.Loop() {
			if out := Process(prev, withTemplate, t0); out.Failed {
				b.Fatal(out.Results)
			}
		}
	})
}

// TestBadPreviousSecretIsReissuedCleanly: previous material that is broken in any way
// gives a new certificate and a result saying why — never a crash, never a caBundle
// that does not verify the emitted certificate.
func TestBadPreviousSecretIsReissuedCleanly(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	other := render(t, nil, cfg, t0)
	otherKey := valueAt(t, find(other.Items, "Secret", "wardle-serving-cert"), "data", "tls.key")
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := map[string]struct {
		key, value, want string
		at               time.Time
	}{
		"key of another cert": {"tls.key", otherKey, "tls.key does not match", t0},
		"garbage cert":        {"tls.crt", b64("garbage"), "tls.crt: not PEM: no CERTIFICATE block found", t0},
		"not base64":          {"tls.crt", "%%%", "tls.crt is not base64", t0},
		"no ca.crt":           {"ca.crt", "", "ca.crt", t0},
		"expired":             {"", "", "expired", t0.Add(9000 * time.Hour)},
	}
	for name, c := range cases {
		// As edited (the rendered digest no longer matches), and with the digest
		// recomputed (the material itself is checked too: the digest is no signature).
		for _, restamp := range []bool{false, true} {
			t.Run(name+"/restamped="+strconv.FormatBool(restamp), func(t *testing.T) {
				items := copyItems(t, first.Items)
				want := c.want
				if c.key != "" {
					s := find(items, "Secret", "wardle-serving-cert")
					if c.value == "" {
						_ = s.PipeE(yaml.Lookup("data"), yaml.Clear(c.key))
					} else if err := s.PipeE(yaml.Lookup("data"), yaml.SetField(c.key, yaml.NewStringRNode(c.value))); err != nil {
						t.Fatal(err)
					}
					if restamp {
						if err := provenance.SetRenderedDigest(s); err != nil {
							t.Fatal(err)
						}
					} else {
						want = "changed after aggapi rendered it"
					}
				}
				out := render(t, items, cfg, c.at)
				if !strings.Contains(messages(out), "issued a new serving certificate") || !strings.Contains(messages(out), want) {
					t.Errorf("results do not report a reissue because of %q:\n%s", want, messages(out))
				}
				cert := pemAt(t, out.Items, "Secret", "data", "tls.crt")
				if err := verifies(cert, pemAt(t, out.Items, "APIService", "spec", "caBundle"), "api.wardle.svc", c.at); err != nil {
					t.Errorf("the reissued certificate does not verify against the caBundle: %v", err)
				}
			})
		}
	}
}

func copyItems(t *testing.T, items []*yaml.RNode) []*yaml.RNode {
	var out []*yaml.RNode
	for _, it := range items {
		out = append(out, it.Copy())
	}
	return out
}

// BenchmarkRenderAmong renders one API into a ResourceList that already holds the
// output of n-1 other APIs (kpt packages and kustomize transformers pass everything):
// the cost per API of passing the others through must stay flat.
func BenchmarkRenderAmong(b *testing.B) {
	raw := testutil.ReadFile(b, "../../testdata/basic/config.yaml")
	for _, n := range []int{1, 10, 100, 200} {
		var items []*yaml.RNode
		for i := 1; i < n; i++ {
			other := strings.NewReplacer("name: wardle\n", "name: api"+strconv.Itoa(i)+"\n",
				"group: wardle.example.com", "group: g"+strconv.Itoa(i)+".example.com",
				"namespace: wardle", "namespace: ns"+strconv.Itoa(i)).Replace(string(raw))
			out := Process(nil, yaml.MustParse(other), t0)
			if out.Failed {
				b.Fatal(out.Results)
			}
			items = append(items, out.Items...)
		}
		cfg := yaml.MustParse(string(raw))
		b.Run("apis="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if out := Process(items, cfg, t0); out.Failed {
					b.Fatal(out.Results)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/api")
		})
	}
}
