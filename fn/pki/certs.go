package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

const (
	// maxPEMBytes bounds what we parse: a chain of a few RSA-4096 certificates is far below it.
	maxPEMBytes = 64 << 10
	// MaxPEMBytes is that bound, for readers of PEM files.
	MaxPEMBytes = maxPEMBytes
	// backdate covers clock skew between the machine that renders and the cluster.
	backdate = 5 * time.Minute
)

// CertificateAuthority is a CA whose key lives only in memory for one render.
type CertificateAuthority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	keys KeySource // of the certificates it signs
}

// Issuer makes CAs whose keys, and the keys of the certificates they sign, come from
// Keys (nil: GenerateKey).
type Issuer struct {
	Keys KeySource
}

func (i Issuer) keySource() KeySource {
	if i.Keys == nil {
		return GenerateKey
	}
	return i.Keys
}

// NewCertificateAuthority makes a self-signed CA valid from now (less the backdate)
// until notAfter, with keys from GenerateKey.
func NewCertificateAuthority(commonName string, alg KeyAlgorithm, now, notAfter time.Time) (*CertificateAuthority, error) {
	return Issuer{}.NewCertificateAuthority(commonName, alg, now, notAfter)
}

// NewCertificateAuthority makes a self-signed CA valid from now (less the backdate)
// until notAfter, with keys from i.Keys.
func (i Issuer) NewCertificateAuthority(commonName string, alg KeyAlgorithm, now, notAfter time.Time) (*CertificateAuthority, error) {
	if err := checkCommonName(commonName); err != nil {
		return nil, err
	}
	keys := i.keySource()
	key, err := keys(alg)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate).UTC().Truncate(time.Second),
		NotAfter:              notAfter.UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the CA certificate just signed: %w", err)
	}
	return &CertificateAuthority{Cert: cert, Key: key, keys: keys}, nil
}

// MaxCommonNameBytes is RFC 5280's upper bound of a commonName (ub-common-name);
// cert-manager's webhook, among others, rejects longer ones.
const MaxCommonNameBytes = 64

// ServingCertRequest is what a serving certificate must be.
type ServingCertRequest struct {
	// CommonName defaults to the first DNS name. Clients verify the DNS names; the
	// CommonName only labels the certificate.
	CommonName   string
	DNSNames     []string
	KeyAlgorithm KeyAlgorithm
	NotAfter     time.Time
}

// ClientCertRequest is what a client certificate must be, such as the kube-apiserver's
// front-proxy client whose CN must be in --requestheader-allowed-names.
type ClientCertRequest struct {
	CommonName   string
	KeyAlgorithm KeyAlgorithm
	NotAfter     time.Time
}

// KeyPair is a certificate and its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// NewServingCert issues a server-auth certificate signed by ca; it never outlives the CA.
func (ca *CertificateAuthority) NewServingCert(req ServingCertRequest, now time.Time) (*KeyPair, error) {
	if len(req.DNSNames) == 0 {
		return nil, fmt.Errorf("a serving certificate needs at least one DNS name")
	}
	cn := req.CommonName
	if cn == "" {
		cn = req.DNSNames[0]
	}
	if err := checkCommonName(cn); err != nil {
		return nil, err
	}
	return ca.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		DNSNames:    req.DNSNames,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, req.KeyAlgorithm, req.NotAfter, now)
}

// NewClientCert issues a client-auth certificate signed by ca; it never outlives the CA.
func (ca *CertificateAuthority) NewClientCert(req ClientCertRequest, now time.Time) (*KeyPair, error) {
	if req.CommonName == "" {
		return nil, fmt.Errorf("a client certificate needs a common name")
	}
	if err := checkCommonName(req.CommonName); err != nil {
		return nil, err
	}
	return ca.sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: req.CommonName},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, req.KeyAlgorithm, req.NotAfter, now)
}

func (ca *CertificateAuthority) sign(tmpl *x509.Certificate, alg KeyAlgorithm, notAfter, now time.Time) (*KeyPair, error) {
	keys := ca.keys
	if keys == nil { // a CertificateAuthority{Cert, Key} a caller put together
		keys = GenerateKey
	}
	key, err := keys(alg)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return nil, err
	}
	tmpl.NotBefore = now.Add(-backdate).UTC().Truncate(time.Second)
	tmpl.NotAfter = notAfter.UTC().Truncate(time.Second)
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if _, isRSA := key.Public().(*rsa.PublicKey); isRSA {
		// RSA key exchange in TLS 1.2 needs key encipherment.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing the certificate just signed: %w", err)
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

// EncodeCertPEM encodes certificates as concatenated PEM blocks.
func EncodeCertPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// ParseCertsPEM reads every CERTIFICATE block of data; it fails on anything else.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	if len(data) > maxPEMBytes {
		return nil, fmt.Errorf("certificate PEM is %d bytes, more than the %d accepted", len(data), maxPEMBytes)
	}
	var certs []*x509.Certificate
	rest := bytes.TrimSpace(data)
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if len(certs) == 0 {
				return nil, fmt.Errorf("not PEM: no CERTIFICATE block found")
			}
			return nil, fmt.Errorf("data after certificate %d is not PEM", len(certs))
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", len(certs)+1, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
		rest = bytes.TrimSpace(rest)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no certificate found")
	}
	return certs, nil
}

func checkCommonName(cn string) error {
	if len(cn) > MaxCommonNameBytes {
		return fmt.Errorf("commonName %q is %d bytes, more than the %d of RFC 5280", cn, len(cn), MaxCommonNameBytes)
	}
	return nil
}
