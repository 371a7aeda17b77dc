package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var names = []string{"api.wardle.svc", "api", "api.wardle", "api.wardle.svc.cluster.local"}

func issue(t *testing.T, alg KeyAlgorithm, now time.Time, validity time.Duration) TLSMaterial {
	t.Helper()
	ca, err := NewCertificateAuthority("test CA", alg, now, now.Add(validity))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.NewServingCert(ServingCertRequest{DNSNames: names, KeyAlgorithm: alg, NotAfter: now.Add(validity)}, now)
	if err != nil {
		t.Fatal(err)
	}
	key, err := EncodePrivateKeyPEM(kp.Key)
	if err != nil {
		t.Fatal(err)
	}
	return TLSMaterial{CertPEM: EncodeCertPEM(kp.Cert), KeyPEM: key, CAPEM: EncodeCertPEM(ca.Cert)}
}

func TestServingCertificateProfile(t *testing.T) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, ECDSAP384, RSA2048, Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			m := issue(t, alg, t0, 8760*time.Hour)
			p, err := m.Check(ServingCertRequest{DNSNames: names, KeyAlgorithm: alg}, 720*time.Hour, t0)
			if err != nil {
				t.Fatalf("fresh material does not check out: %v", err)
			}
			leaf, ca := p.Leaf, p.CAs[0]
			if leaf.Subject.CommonName != "api.wardle.svc" {
				t.Errorf("CN = %q", leaf.Subject.CommonName)
			}
			if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
				t.Errorf("ext key usage = %v, want server auth only", leaf.ExtKeyUsage)
			}
			if leaf.IsCA || !ca.IsCA || !ca.MaxPathLenZero {
				t.Errorf("leaf IsCA=%v, CA IsCA=%v MaxPathLenZero=%v", leaf.IsCA, ca.IsCA, ca.MaxPathLenZero)
			}
			if leaf.NotAfter.After(ca.NotAfter) {
				t.Errorf("leaf outlives its CA")
			}
			if got := leaf.NotAfter.Sub(t0); got != 8760*time.Hour {
				t.Errorf("validity = %s", got)
			}
			if !leaf.NotBefore.Before(t0) {
				t.Errorf("NotBefore %s is not backdated", leaf.NotBefore)
			}
			if AlgorithmOf(leaf.PublicKey) != alg {
				t.Errorf("key algorithm %s", AlgorithmOf(leaf.PublicKey))
			}
		})
	}
}

// TestLifeCycle steps a clock through a certificate's life: reusable until renewBefore,
// then due for renewal, then expired.
func TestLifeCycle(t *testing.T) {
	validity, renew := 100*time.Hour, 10*time.Hour
	m := issue(t, ECDSAP256, t0, validity)
	req := ServingCertRequest{DNSNames: names, KeyAlgorithm: ECDSAP256}
	steps := []struct {
		at   time.Duration
		want string // "" means reusable
	}{
		{0, ""},
		{50 * time.Hour, ""},
		{validity - renew - time.Second, ""},
		{validity - renew, "within renewBefore"},
		{validity - time.Second, "within renewBefore"},
		{validity + time.Second, "expired"},
	}
	for _, s := range steps {
		_, err := m.Check(req, renew, t0.Add(s.at))
		switch {
		case s.want == "" && err != nil:
			t.Errorf("at +%s: %v, want reusable", s.at, err)
		case s.want != "" && (err == nil || !strings.Contains(err.Error(), s.want)):
			t.Errorf("at +%s: %v, want an error containing %q", s.at, err, s.want)
		}
	}
}

func TestCheckRejectsBadMaterial(t *testing.T) {
	good := issue(t, ECDSAP256, t0, 100*time.Hour)
	other := issue(t, ECDSAP256, t0, 100*time.Hour)
	req := ServingCertRequest{DNSNames: names, KeyAlgorithm: ECDSAP256}
	cases := map[string]struct {
		m    TLSMaterial
		req  ServingCertRequest
		want string
	}{
		"garbage cert":        {TLSMaterial{CertPEM: []byte("not pem"), KeyPEM: good.KeyPEM, CAPEM: good.CAPEM}, req, "tls.crt"},
		"garbage key":         {TLSMaterial{CertPEM: good.CertPEM, KeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), CAPEM: good.CAPEM}, req, "tls.key"},
		"key of another cert": {TLSMaterial{CertPEM: good.CertPEM, KeyPEM: other.KeyPEM, CAPEM: good.CAPEM}, req, "does not match"},
		"other CA":            {TLSMaterial{CertPEM: good.CertPEM, KeyPEM: good.KeyPEM, CAPEM: other.CAPEM}, req, "does not verify"},
		"leaf given as CA":    {TLSMaterial{CertPEM: good.CertPEM, KeyPEM: good.KeyPEM, CAPEM: good.CertPEM}, req, "is not a CA"},
		"key given as cert":   {TLSMaterial{CertPEM: good.KeyPEM, KeyPEM: good.KeyPEM, CAPEM: good.CAPEM}, req, "not a CERTIFICATE"},
		"oversized PEM":       {TLSMaterial{CertPEM: []byte(strings.Repeat("A", maxPEMBytes+1)), KeyPEM: good.KeyPEM, CAPEM: good.CAPEM}, req, "more than"},
		"other names":         {good, ServingCertRequest{DNSNames: []string{"api.other.svc"}, KeyAlgorithm: ECDSAP256}, "does not verify"},
		"extra name":          {good, ServingCertRequest{DNSNames: append(names, "more"), KeyAlgorithm: ECDSAP256}, "the config asks for"},
		"other algorithm":     {good, ServingCertRequest{DNSNames: names, KeyAlgorithm: RSA2048}, "the config asks for RSA-2048"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.m.Check(c.req, time.Hour, t0)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "-----BEGIN") || strings.Contains(err.Error(), string(good.KeyPEM[30:60])) {
				t.Errorf("error message carries key material: %v", err)
			}
		})
	}
}

func TestServingCertNeverOutlivesCA(t *testing.T) {
	ca, err := NewCertificateAuthority("short CA", ECDSAP256, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.NewServingCert(ServingCertRequest{DNSNames: names, KeyAlgorithm: ECDSAP256, NotAfter: t0.Add(48 * time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !kp.Cert.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("serving cert expires %s, CA %s", kp.Cert.NotAfter, ca.Cert.NotAfter)
	}
}

func TestParsePrivateKeyPEMRejectsCertificates(t *testing.T) {
	m := issue(t, ECDSAP256, t0, time.Hour*2)
	if _, err := ParsePrivateKeyPEM(m.CertPEM); err == nil || !strings.Contains(err.Error(), "not a private key") {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkIssueECDSAP256(b *testing.B) {
	for b.Loop() {
		ca, err := NewCertificateAuthority("bench", ECDSAP256, t0, t0.Add(time.Hour*2))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ca.NewServingCert(ServingCertRequest{DNSNames: names, KeyAlgorithm: ECDSAP256, NotAfter: t0.Add(time.Hour)}, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTLSHandshake proves each key algorithm works in Go's TLS stack, which both the
// kube-aggregator (client) and k8s.io/apiserver (server) use: a handshake over an
// in-memory pipe, the client verifying against the CA for <service>.<namespace>.svc.
func TestTLSHandshake(t *testing.T) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, ECDSAP384, RSA2048, Ed25519} {
		t.Run(string(alg), func(t *testing.T) {
			m := issue(t, alg, time.Now(), 2*time.Hour)
			pair, err := tls.X509KeyPair(m.CertPEM, m.KeyPEM)
			if err != nil {
				t.Fatalf("the server cannot load the pair: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(m.CAPEM) {
				t.Fatal("CA PEM not accepted")
			}
			for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				c, s := net.Pipe()
				server := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: version, MaxVersion: version})
				client := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "api.wardle.svc", MinVersion: version, MaxVersion: version})
				done := make(chan error, 1)
				go func() { done <- server.Handshake() }()
				if err := client.Handshake(); err != nil {
					t.Errorf("TLS %x handshake: %v", version, err)
				}
				// Close the pipe itself: a TLS close_notify would block on the unbuffered pipe.
				_ = c.Close()
				<-done
				_ = s.Close()
			}
		})
	}
}

// TestParseCertsPEMCountsCertificates: the message counts the certificates read before
// the bad data, not one more.
func TestParseCertsPEMCountsCertificates(t *testing.T) {
	one := issue(t, ECDSAP256, t0, time.Hour).CertPEM
	for in, want := range map[string]string{
		"garbage":                       "not PEM: no CERTIFICATE block found",
		string(one) + "garbage":         "data after certificate 1 is not PEM",
		string(one) + string(one) + "x": "data after certificate 2 is not PEM",
	} {
		if _, err := ParseCertsPEM([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

// TestCommonNameBound: no certificate is issued with a commonName over RFC 5280's 64 bytes.
func TestCommonNameBound(t *testing.T) {
	long := strings.Repeat("a", MaxCommonNameBytes+1)
	if _, err := NewCertificateAuthority(long, ECDSAP256, t0, t0.Add(time.Hour)); err == nil {
		t.Error("a CA with a 65-byte commonName was issued")
	}
	ca, err := NewCertificateAuthority(long[1:], ECDSAP256, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("a 64-byte commonName: %v", err)
	}
	if _, err := ca.NewServingCert(ServingCertRequest{DNSNames: []string{long + ".svc"}, KeyAlgorithm: ECDSAP256, NotAfter: t0.Add(time.Hour)}, t0); err == nil {
		t.Error("a serving certificate with a 69-byte commonName was issued")
	}
	kp, err := ca.NewServingCert(ServingCertRequest{CommonName: "short", DNSNames: []string{long + ".svc"}, KeyAlgorithm: ECDSAP256, NotAfter: t0.Add(time.Hour)}, t0)
	if err != nil || kp.Cert.Subject.CommonName != "short" || kp.Cert.DNSNames[0] != long+".svc" {
		t.Errorf("CommonName and DNS names: %v", err)
	}
}

// TestKeyAlgorithms: every listed algorithm generates a key that AlgorithmOf names back,
// of the family and size the list gives it.
func TestKeyAlgorithms(t *testing.T) {
	if len(KeyAlgorithms()) == 0 {
		t.Fatal("no key algorithms")
	}
	for _, alg := range KeyAlgorithms() {
		if alg == RSA4096 || alg == RSA3072 {
			continue // seconds to generate; the others cover both code paths
		}
		key, err := GenerateKey(alg)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if got := AlgorithmOf(key.Public()); got != alg {
			t.Errorf("a %s key is named %q", alg, got)
		}
		switch k := key.Public().(type) {
		case *ecdsa.PublicKey:
			if alg.Family() != "ECDSA" || k.Curve.Params().BitSize != alg.Size() {
				t.Errorf("%s: family %q size %d for a P-%d key", alg, alg.Family(), alg.Size(), k.Curve.Params().BitSize)
			}
		case *rsa.PublicKey:
			if alg.Family() != "RSA" || k.N.BitLen() != alg.Size() {
				t.Errorf("%s: family %q size %d for an RSA-%d key", alg, alg.Family(), alg.Size(), k.N.BitLen())
			}
		case ed25519.PublicKey:
			if alg.Family() != "Ed25519" || alg.Size() != 0 {
				t.Errorf("%s: family %q size %d for an Ed25519 key", alg, alg.Family(), alg.Size())
			}
		}
	}
	if KeyAlgorithm("DSA-1024").Family() != "" {
		t.Error("an unsupported algorithm has a family")
	}
}

// TestIssuerKeySource: an Issuer's CA and the certificates it signs take their keys
// from the Issuer's source, in that order.
func TestIssuerKeySource(t *testing.T) {
	t.Parallel()
	var made []crypto.Signer
	issuer := Issuer{Keys: func(alg KeyAlgorithm) (crypto.Signer, error) {
		k, err := GenerateKey(alg)
		made = append(made, k)
		return k, err
	}}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ca, err := issuer.NewCertificateAuthority("keys CA", ECDSAP256, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.NewServingCert(ServingCertRequest{DNSNames: []string{"api.x.svc"}, KeyAlgorithm: ECDSAP256, NotAfter: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 || made[0] != ca.Key || made[1] != kp.Key {
		t.Errorf("%d keys from the source; the CA's and the serving key must be the first two", len(made))
	}
}
