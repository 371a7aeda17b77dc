package render

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/provenance"
)

// setPEM sets a base64 PEM field of an item and then, as asked, leaves its rendered
// digest stale (an edit), recomputes it (the digest is no signature) or removes it (as
// an older aggapi's render has none).
func setPEM(t *testing.T, it *yaml.RNode, value []byte, stamp string, path ...string) {
	t.Helper()
	if err := it.PipeE(yaml.Lookup(path[:len(path)-1]...), yaml.SetField(path[len(path)-1], yaml.NewStringRNode(base64.StdEncoding.EncodeToString(value)))); err != nil {
		t.Fatal(err)
	}
	switch stamp {
	case "restamped":
		if err := provenance.SetRenderedDigest(it); err != nil {
			t.Fatal(err)
		}
	case "unstamped":
		if err := it.PipeE(yaml.ClearAnnotation(keys.RenderedDigestAnnotation)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAppendedCANeverReachesTheCABundle: a CA appended to the previous Secret's ca.crt
// or to the APIServices' caBundle is never carried into the new caBundle, whether the
// object's rendered digest is stale, recomputed or absent, and the render says why.
func TestAppendedCANeverReachesTheCABundle(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	extra, err := pki.NewCertificateAuthority("platform team CA", pki.ECDSAP256, t0, t0.Add(24*time.Hour*3650))
	if err != nil {
		t.Fatal(err)
	}
	extraPEM := string(pki.EncodeCertPEM(extra.Cert))
	ourCA := pemAt(t, first.Items, "Secret", "data", "ca.crt")
	for _, where := range []string{"Secret", "APIService"} {
		for _, stamp := range []string{"edited", "restamped", "unstamped"} {
			t.Run(where+"/"+stamp, func(t *testing.T) {
				items := copyItems(t, first.Items)
				for _, it := range items {
					switch {
					case where == "Secret" && it.GetKind() == "Secret":
						setPEM(t, it, []byte(ourCA+extraPEM), stamp, "data", "ca.crt")
					case where == "APIService" && it.GetKind() == "APIService":
						setPEM(t, it, []byte(ourCA+extraPEM), stamp, "spec", "caBundle")
					}
				}
				out := render(t, items, cfg, t0)
				for _, it := range out.Items {
					if it.GetKind() != "APIService" {
						continue
					}
					if strings.Contains(pemAt(t, []*yaml.RNode{it}, "APIService", "spec", "caBundle"), extraPEM) {
						t.Fatalf("the appended CA is in the caBundle of %s:\n%s", it.GetName(), messages(out))
					}
				}
				if strings.Contains(pemAt(t, out.Items, "Secret", "data", "ca.crt"), extraPEM) {
					t.Fatalf("the appended CA is still in the Secret's ca.crt")
				}
				msg := messages(out)
				want := map[string]string{
					"Secret/edited":        "changed after aggapi rendered it",
					"Secret/restamped":     "ca.crt holds 2 certificates",
					"Secret/unstamped":     "ca.crt holds 2 certificates",
					"APIService/edited":    "spec.caBundle",
					"APIService/restamped": `holds a certificate aggapi did not issue (CA "platform team CA" is not named`,
					"APIService/unstamped": `holds a certificate aggapi did not issue`,
				}[where+"/"+stamp]
				if !strings.Contains(msg, want) {
					t.Errorf("the results do not say %q:\n%s", want, msg)
				}
				if where == "Secret" && !strings.Contains(msg, "issued a new serving certificate") {
					t.Errorf("the Secret with two CAs was reused:\n%s", msg)
				}
				if where == "APIService" && !strings.Contains(msg, "reused the serving certificate") {
					t.Errorf("an intact Secret was not reused:\n%s", msg)
				}
			})
		}
	}
}

// TestForgedLongLivedCertificateIsReissued: a Secret replaced with material shaped as
// aggapi's (its CA's name, self-signed, the right DNS names) but valid for 100 years,
// its digest recomputed, is not reused: no config asks for that lifetime.
func TestForgedLongLivedCertificateIsReissued(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	century := t0.AddDate(100, 0, 0)
	ca, err := pki.NewCertificateAuthority("aggapi CA for api.wardle.svc", pki.ECDSAP256, t0, century)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.NewServingCert(pki.ServingCertRequest{
		DNSNames:     []string{"api.wardle.svc", "api", "api.wardle", "api.wardle.svc.cluster.local"},
		KeyAlgorithm: pki.ECDSAP256, NotAfter: century,
	}, t0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.EncodePrivateKeyPEM(kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	items := copyItems(t, first.Items)
	s := find(items, "Secret", "wardle-serving-cert")
	setPEM(t, s, pki.EncodeCertPEM(ca.Cert), "", "data", "ca.crt")
	setPEM(t, s, pki.EncodeCertPEM(kp.Cert), "", "data", "tls.crt")
	setPEM(t, s, key, "restamped", "data", "tls.key")
	out := render(t, items, cfg, t0)
	if !strings.Contains(messages(out), "issued a new serving certificate") || !strings.Contains(messages(out), "longer than validity (8760h0m0s) plus the 5m0s backdate") {
		t.Fatalf("a 100-year certificate was not reissued for its lifetime:\n%s", messages(out))
	}
	if strings.Contains(pemAt(t, out.Items, "APIService", "spec", "caBundle"), string(pki.EncodeCertPEM(ca.Cert))) {
		t.Errorf("the 100-year CA is in the caBundle")
	}
}

// TestReformattedSecretIsReused: a Secret written back in another form (keys in another
// order, other quoting, as sops --decrypt or an editor may leave it) is what aggapi
// rendered, by its digest: reused, without a warning.
func TestReformattedSecretIsReused(t *testing.T) {
	cfg := loadConfig(t)
	first := render(t, nil, cfg, t0)
	items := copyItems(t, first.Items)
	s := find(items, "Secret", "wardle-serving-cert")
	data, err := s.Pipe(yaml.Lookup("data"))
	if err != nil {
		t.Fatal(err)
	}
	c := data.YNode().Content
	for i, j := 0, len(c)-2; i < j; i, j = i+2, j-2 {
		c[i], c[i+1], c[j], c[j+1] = c[j], c[j+1], c[i], c[i+1]
	}
	for _, v := range c {
		v.Style = yaml.DoubleQuotedStyle
	}
	out := render(t, items, cfg, t0)
	if !strings.Contains(messages(out), "reused the serving certificate") {
		t.Fatalf("a reformatted Secret was not reused:\n%s", messages(out))
	}
	for _, r := range out.Results {
		if r.Severity != Info {
			t.Errorf("a %s: %s", r.Severity, r.Message)
		}
	}
}

// TestCANamePrefixIsAggapis: every CA name the config derives, shortened or not, starts
// with the prefix the render takes for aggapi's.
func TestCANamePrefixIsAggapis(t *testing.T) {
	for _, svc := range []string{"api", strings.Repeat("s", 63)} {
		cfg := loadConfig(t)
		if err := cfg.PipeE(yaml.Lookup("spec", "service"), yaml.SetField("name", yaml.NewStringRNode(svc))); err != nil {
			t.Fatal(err)
		}
		out := render(t, nil, cfg, t0)
		certs, err := pki.ParseCertsPEM([]byte(pemAt(t, out.Items, "Secret", "data", "ca.crt")))
		if err != nil {
			t.Fatal(err)
		}
		if cn := certs[0].Subject.CommonName; !strings.HasPrefix(cn, caNamePrefix) {
			t.Errorf("the CA is named %q, not %q...", cn, caNamePrefix)
		}
	}
}
