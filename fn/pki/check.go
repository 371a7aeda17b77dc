package pki

import (
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// ServingMaterial is the PEM a serving Secret holds: tls.crt, tls.key and ca.crt.
type ServingMaterial struct {
	CertPEM []byte
	KeyPEM  []byte
	CAPEM   []byte
}

// Parsed is serving material that parsed and checked out.
type Parsed struct {
	Leaf *x509.Certificate
	CAs  []*x509.Certificate
}

// RenewalTime is when a certificate is due for replacement.
func RenewalTime(cert *x509.Certificate, renewBefore time.Duration) time.Time {
	return cert.NotAfter.Add(-renewBefore)
}

// Check parses previous serving material and reports, as an error, why it cannot serve
// req any longer: unparsable, key mismatch, not signed by the CA, wrong names or key
// algorithm, outliving its CA, or due for renewal at now. A nil error means reuse it.
func (m ServingMaterial) Check(req ServingCertRequest, renewBefore time.Duration, now time.Time) (*Parsed, error) {
	certs, err := ParseCertsPEM(m.CertPEM)
	if err != nil {
		return nil, fmt.Errorf("tls.crt: %w", err)
	}
	leaf := certs[0]
	key, err := ParsePrivateKeyPEM(m.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls.key: %w", err)
	}
	if !KeyMatchesCert(key, leaf) {
		return nil, fmt.Errorf("tls.key does not match the certificate in tls.crt")
	}
	cas, err := ParseCertsPEM(m.CAPEM)
	if err != nil {
		return nil, fmt.Errorf("ca.crt: %w", err)
	}
	for i, ca := range cas {
		if !ca.IsCA {
			return nil, fmt.Errorf("ca.crt: certificate %d (%q) is not a CA", i+1, ca.Subject.CommonName)
		}
	}
	p := &Parsed{Leaf: leaf, CAs: cas}
	if len(req.DNSNames) == 0 {
		return p, fmt.Errorf("no DNS names requested")
	}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		DNSName:     req.DNSNames[0],
		Roots:       pool,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return p, fmt.Errorf("tls.crt does not verify against ca.crt for %s at %s: %w", req.DNSNames[0], now.UTC().Format(time.RFC3339), err)
	}
	issuer := chains[0][len(chains[0])-1]
	if leaf.NotAfter.After(issuer.NotAfter) {
		return p, fmt.Errorf("tls.crt (expires %s) outlives its CA (expires %s)", stamp(leaf.NotAfter), stamp(issuer.NotAfter))
	}
	if !sameNames(leaf.DNSNames, req.DNSNames) {
		return p, fmt.Errorf("tls.crt is for %v, the config asks for %v", leaf.DNSNames, req.DNSNames)
	}
	if got := AlgorithmOf(leaf.PublicKey); got != req.KeyAlgorithm {
		return p, fmt.Errorf("tls.crt has a %s key, the config asks for %s", describe(got), req.KeyAlgorithm)
	}
	if renew := RenewalTime(leaf, renewBefore); !now.Before(renew) {
		return p, fmt.Errorf("tls.crt expires %s, within renewBefore (%s)", stamp(leaf.NotAfter), renewBefore)
	}
	return p, nil
}

func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func describe(a KeyAlgorithm) string {
	if a == "" {
		return "unsupported"
	}
	return string(a)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
