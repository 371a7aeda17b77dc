package render

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/internal/testutil"
)

// TestCommonNamesFitAtTheNameLimits renders the longest names the config allows (a
// 40-character metadata.name, 63-character service and namespace names) in every mode
// that sets a commonName: each must fit RFC 5280's 64 bytes, which cert-manager's
// webhook enforces, while the DNS names still carry the full service name.
func TestCommonNamesFitAtTheNameLimits(t *testing.T) {
	name := strings.Repeat("n", 40)
	long := "s" + strings.Repeat("x", 61) + "s"
	modes := map[string]string{
		"generate":               "",
		"cert-manager":           "    mode: cert-manager\n",
		"cert-manager issuerRef": "    mode: cert-manager\n    certManager:\n      issuerRef: {name: cluster-ca, kind: ClusterIssuer, group: cert-manager.io}\n",
		"generate, short names":  "",
	}
	for mode, cert := range modes {
		t.Run(mode, func(t *testing.T) {
			svc, ns := long, long
			if strings.Contains(mode, "short") {
				svc, ns = "api", "wardle"
			}
			cfg := testutil.MinimalConfig(name) + "  namespace: " + ns + "\n  service: {name: " + svc + "}\n"
			if cert != "" {
				cfg += "  certificate:\n" + cert
			}
			out := render(t, nil, yaml.MustParse(cfg), t0)
			dnsName := svc + "." + ns + ".svc"
			checked := 0
			for _, it := range out.Items {
				switch it.GetKind() {
				case "Certificate":
					cn := valueAt(t, it, "spec", "commonName")
					checkCN(t, it.GetName(), cn)
					checked++
					if it.GetName() == name+"-serving-cert" && !strings.Contains(serialize(t, []*yaml.RNode{it}), "- "+dnsName+"\n") {
						t.Errorf("the serving Certificate lost DNS name %s", dnsName)
					}
				case "Secret":
					for _, key := range []string{"tls.crt", "ca.crt"} {
						b, err := base64.StdEncoding.DecodeString(valueAt(t, it, "data", key))
						if err != nil {
							t.Fatal(err)
						}
						certs, err := pki.ParseCertsPEM(b)
						if err != nil {
							t.Fatal(err)
						}
						for _, c := range certs {
							checkCN(t, key, c.Subject.CommonName)
							checked++
							if key == "tls.crt" && (len(c.DNSNames) == 0 || c.DNSNames[0] != dnsName) {
								t.Errorf("tls.crt DNS names %v, want %s first", c.DNSNames, dnsName)
							}
							if key == "tls.crt" && svc == "api" && c.Subject.CommonName != dnsName {
								t.Errorf("a short name is shortened: %q", c.Subject.CommonName)
							}
							if key == "tls.crt" {
								verifyChain(t, b, it, dnsName)
							}
						}
					}
				}
			}
			if checked == 0 {
				t.Fatal("no commonName checked")
			}
		})
	}
}

func checkCN(t *testing.T, what, cn string) {
	t.Helper()
	if cn == "" || len(cn) > pki.MaxCommonNameBytes {
		t.Errorf("%s: commonName %q is %d bytes", what, cn, len(cn))
	}
}

// verifyChain checks the serving certificate verifies for dnsName against the Secret's CA.
func verifyChain(t *testing.T, leafPEM []byte, secret *yaml.RNode, dnsName string) {
	t.Helper()
	caPEM, _ := base64.StdEncoding.DecodeString(valueAt(t, secret, "data", "ca.crt"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	leaf, _ := pki.ParseCertsPEM(leafPEM)
	if _, err := leaf[0].Verify(x509.VerifyOptions{DNSName: dnsName, Roots: pool}); err != nil {
		t.Errorf("the serving certificate does not verify for %s: %v", dnsName, err)
	}
}
