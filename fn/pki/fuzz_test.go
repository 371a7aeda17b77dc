package pki

import (
	"testing"
	"time"
)

// FuzzCheck: previous certificate material from an untrusted Secret never panics the
// parser; whatever it accepts really verifies.
func FuzzCheck(f *testing.F) {
	m := TLSMaterial{}
	func() {
		ca, err := NewCertificateAuthority("seed", ECDSAP256, t0, t0.Add(100*time.Hour))
		if err != nil {
			f.Fatal(err)
		}
		kp, err := ca.NewServingCert(ServingCertRequest{DNSNames: names, KeyAlgorithm: ECDSAP256, NotAfter: t0.Add(100 * time.Hour)}, t0)
		if err != nil {
			f.Fatal(err)
		}
		key, _ := EncodePrivateKeyPEM(kp.Key)
		m = TLSMaterial{CertPEM: EncodeCertPEM(kp.Cert), KeyPEM: key, CAPEM: EncodeCertPEM(ca.Cert)}
	}()
	f.Add(m.CertPEM, m.KeyPEM, m.CAPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte{}, []byte("x"))
	f.Fuzz(func(t *testing.T, cert, key, ca []byte) {
		p, err := TLSMaterial{CertPEM: cert, KeyPEM: key, CAPEM: ca}.Check(
			ServingCertRequest{DNSNames: names, KeyAlgorithm: ECDSAP256}, time.Hour, t0)
		if err == nil && (p == nil || !p.Leaf.NotAfter.After(t0)) {
			t.Fatal("accepted material that is not valid now")
		}
		_, _ = ParsePrivateKeyPEM(key)
		_, _ = ParseCertsPEM(ca)
	})
}
