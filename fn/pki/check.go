package pki

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"time"
)

// TLSMaterial is the PEM a kubernetes.io/tls Secret holds (tls.crt, tls.key, ca.crt):
// a serving certificate (Check) or a client certificate (CheckClient), with its CA.
type TLSMaterial struct {
	CertPEM []byte
	KeyPEM  []byte
	CAPEM   []byte
}

// Parsed is TLS material that parsed and checked out.
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
func (m TLSMaterial) Check(req ServingCertRequest, renewBefore time.Duration, now time.Time) (*Parsed, error) {
	if len(req.DNSNames) == 0 {
		return nil, fmt.Errorf("no DNS names requested")
	}
	p, err := m.parse()
	if err != nil {
		return nil, err
	}
	if err := p.verify(req.DNSNames[0], x509.ExtKeyUsageServerAuth, now); err != nil {
		return p, err
	}
	if !sameNames(p.Leaf.DNSNames, req.DNSNames) {
		return p, fmt.Errorf("tls.crt is for %v, the config asks for %v", p.Leaf.DNSNames, req.DNSNames)
	}
	return p, p.due(req.KeyAlgorithm, renewBefore, now)
}

// CheckClient is Check for a client certificate: the same reasons, with the common
// name in place of the DNS names.
func (m TLSMaterial) CheckClient(req ClientCertRequest, renewBefore time.Duration, now time.Time) (*Parsed, error) {
	p, err := m.parse()
	if err != nil {
		return nil, err
	}
	if err := p.verify("", x509.ExtKeyUsageClientAuth, now); err != nil {
		return p, err
	}
	if p.Leaf.Subject.CommonName != req.CommonName {
		return p, fmt.Errorf("the certificate is for %q, asked for %q", p.Leaf.Subject.CommonName, req.CommonName)
	}
	return p, p.due(req.KeyAlgorithm, renewBefore, now)
}

func (m TLSMaterial) parse() (*Parsed, error) {
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
	return &Parsed{Leaf: leaf, CAs: cas}, nil
}

// verify checks the leaf chains to the CAs for usage at now and does not outlive its CA.
func (p *Parsed) verify(dnsName string, usage x509.ExtKeyUsage, now time.Time) error {
	pool := x509.NewCertPool()
	for _, ca := range p.CAs {
		pool.AddCert(ca)
	}
	chains, err := p.Leaf.Verify(x509.VerifyOptions{DNSName: dnsName, Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		what := "tls.crt does not verify against ca.crt"
		if dnsName != "" {
			what += " for " + dnsName
		}
		return fmt.Errorf("%s at %s: %w", what, stamp(now), err)
	}
	issuer := chains[0][len(chains[0])-1]
	if p.Leaf.NotAfter.After(issuer.NotAfter) {
		return fmt.Errorf("tls.crt (expires %s) outlives its CA (expires %s)", stamp(p.Leaf.NotAfter), stamp(issuer.NotAfter))
	}
	return nil
}

// due reports a key algorithm other than asked, or a certificate inside renewBefore.
func (p *Parsed) due(alg KeyAlgorithm, renewBefore time.Duration, now time.Time) error {
	if got := AlgorithmOf(p.Leaf.PublicKey); got != alg {
		return fmt.Errorf("tls.crt has a %s key, the config asks for %s", describe(got), alg)
	}
	if renew := RenewalTime(p.Leaf, renewBefore); !now.Before(renew) {
		return fmt.Errorf("tls.crt expires %s, within renewBefore (%s)", stamp(p.Leaf.NotAfter), renewBefore)
	}
	return nil
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

// MaxLifetime is the longest a certificate issued for validity can last: NotBefore is
// set backdate before now, and both ends are truncated to the second.
func MaxLifetime(validity time.Duration) time.Duration {
	return (validity + time.Second - 1).Truncate(time.Second) + backdate
}

// CheckLifetime reports, as an error, a certificate lasting longer (NotAfter less
// NotBefore) than one issued for validity would: it was issued for a longer validity,
// or not by us.
func CheckLifetime(what string, cert *x509.Certificate, validity time.Duration) error {
	if life := cert.NotAfter.Sub(cert.NotBefore); life > MaxLifetime(validity) {
		return fmt.Errorf("%s is valid for %s (%s to %s), longer than validity (%s) plus the %s backdate",
			what, life, stamp(cert.NotBefore), stamp(cert.NotAfter), validity, backdate)
	}
	return nil
}

// CheckSelfSignedCA reports, as an error, why ca is not a CA NewCertificateAuthority
// could have made: a self-signed certificate with basicConstraints CA:TRUE.
func CheckSelfSignedCA(ca *x509.Certificate) error {
	if !ca.IsCA || !ca.BasicConstraintsValid {
		return fmt.Errorf("%q is not a CA certificate", ca.Subject.CommonName)
	}
	if !bytes.Equal(ca.RawIssuer, ca.RawSubject) || ca.CheckSignatureFrom(ca) != nil {
		return fmt.Errorf("CA %q is not self-signed", ca.Subject.CommonName)
	}
	return nil
}
