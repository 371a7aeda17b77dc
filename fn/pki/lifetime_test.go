package pki

import (
	"testing"
	"time"
)

// TestIssuedCertificatesFitMaxLifetime: whatever the clock's fraction of a second and
// the validity's, what NewCertificateAuthority and NewServingCert issue passes
// CheckLifetime, and one lasting a second longer than a validity
// (plus the backdate) allows does not.
func TestIssuedCertificatesFitMaxLifetime(t *testing.T) {
	base := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, now := range []time.Time{base, base.Add(999 * time.Millisecond), base.Add(1)} {
		for _, validity := range []time.Duration{time.Hour, time.Hour + 500*time.Millisecond, time.Hour + time.Second - 1} {
			ca, err := NewCertificateAuthority("aggapi CA for api.x.svc", ECDSAP256, now, now.Add(validity))
			if err != nil {
				t.Fatal(err)
			}
			kp, err := ca.NewServingCert(ServingCertRequest{DNSNames: []string{"api.x.svc"}, KeyAlgorithm: ECDSAP256, NotAfter: now.Add(validity)}, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what string
				err  error
			}{{"CA", CheckLifetime("ca", ca.Cert, validity)}, {"leaf", CheckLifetime("leaf", kp.Cert, validity)}, {"self-signed", CheckSelfSignedCA(ca.Cert)}} {
				if c.err != nil {
					t.Errorf("now %s, validity %s: %s: %v", now, validity, c.what, c.err)
				}
			}
			life := ca.Cert.NotAfter.Sub(ca.Cert.NotBefore)
			if err := CheckLifetime("ca", ca.Cert, life-backdate-time.Second); err == nil {
				t.Errorf("now %s, validity %s: a CA a second longer than validity and backdate passes", now, validity)
			}
			if err := CheckSelfSignedCA(kp.Cert); err == nil {
				t.Errorf("a serving certificate passes as a self-signed CA")
			}
		}
	}
}
