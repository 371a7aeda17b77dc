package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// KeyAlgorithm names a private key type and size, as spec.certificate.keyAlgorithm does.
type KeyAlgorithm string

// The supported key algorithms. RSA-4096 takes seconds to generate.
const (
	ECDSAP256 KeyAlgorithm = "ECDSA-P256"
	ECDSAP384 KeyAlgorithm = "ECDSA-P384"
	RSA2048   KeyAlgorithm = "RSA-2048"
	RSA3072   KeyAlgorithm = "RSA-3072"
	RSA4096   KeyAlgorithm = "RSA-4096"
	// Ed25519 works end to end: Go's TLS client in the kube-aggregator and Go's TLS
	// server in k8s.io/apiserver both support Ed25519 certificates.
	Ed25519 KeyAlgorithm = "Ed25519"
)

// keyAlgorithms is the one list of what each algorithm is: the CRD's keyAlgorithm enum
// is tied to it by a test (fn/config TestEnumsMatchGo), and GenerateKey and
// AlgorithmOf by TestKeyAlgorithms.
var keyAlgorithms = []struct {
	alg    KeyAlgorithm
	family string // "ECDSA", "RSA" or "Ed25519", as cert-manager's privateKey.algorithm spells it
	size   int    // curve or modulus bits; 0 for Ed25519
}{
	{ECDSAP256, "ECDSA", 256},
	{ECDSAP384, "ECDSA", 384},
	{RSA2048, "RSA", 2048},
	{RSA3072, "RSA", 3072},
	{RSA4096, "RSA", 4096},
	{Ed25519, "Ed25519", 0},
}

// KeyAlgorithms lists the supported algorithms, in the order the docs give them.
func KeyAlgorithms() []KeyAlgorithm {
	out := make([]KeyAlgorithm, len(keyAlgorithms))
	for i, k := range keyAlgorithms {
		out[i] = k.alg
	}
	return out
}

// Family is the algorithm's family ("ECDSA", "RSA", "Ed25519"), "" if unsupported.
func (a KeyAlgorithm) Family() string {
	for _, k := range keyAlgorithms {
		if k.alg == a {
			return k.family
		}
	}
	return ""
}

// Size is the curve size or RSA modulus in bits; 0 for Ed25519 or an unsupported algorithm.
func (a KeyAlgorithm) Size() int {
	for _, k := range keyAlgorithms {
		if k.alg == a {
			return k.size
		}
	}
	return 0
}

// KeySource makes the private key of a new certificate. GenerateKey is the real one;
// a test passes its own (fixed keys, a counter) through Issuer, never by replacing a
// package variable.
type KeySource func(KeyAlgorithm) (crypto.Signer, error)

// GenerateKey generates a key of alg from crypto/rand.
func GenerateKey(alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	case RSA4096:
		return rsa.GenerateKey(rand.Reader, 4096)
	case Ed25519:
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return key, err
	}
	return nil, fmt.Errorf("unsupported key algorithm %q", alg)
}

// AlgorithmOf tells the KeyAlgorithm of a public key, or "" for one we do not issue.
func AlgorithmOf(pub crypto.PublicKey) KeyAlgorithm {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ECDSAP256
		case elliptic.P384():
			return ECDSAP384
		}
	case ed25519.PublicKey:
		return Ed25519
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048:
			return RSA2048
		case 3072:
			return RSA3072
		case 4096:
			return RSA4096
		}
	}
	return ""
}

// EncodePrivateKeyPEM encodes a key as PKCS#8 ("PRIVATE KEY"), which every
// k8s.io/apiserver based server reads.
func EncodePrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM reads one PKCS#8, PKCS#1 or SEC 1 private key.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	if len(data) > maxPEMBytes {
		return nil, fmt.Errorf("private key PEM is %d bytes, more than the %d accepted", len(data), maxPEMBytes)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block found in private key")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block of type %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", key)
	}
	return signer, nil
}

// KeyMatchesCert reports whether key is the private key of cert.
func KeyMatchesCert(key crypto.Signer, cert *x509.Certificate) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(cert.PublicKey)
}

// Slow tells whether generating a key of this algorithm takes seconds rather than
// milliseconds (RSA-3072 and RSA-4096), so a user should hear about it first.
func (a KeyAlgorithm) Slow() bool { return a == RSA3072 || a == RSA4096 }
