package frontproxy

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/fn/pki"
)

var t0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func opts(dir string) Options {
	return Options{Dir: dir, ClientName: "front-proxy-client", KeyAlgorithm: pki.ECDSAP256, Validity: 100 * time.Hour, RenewBefore: 10 * time.Hour}
}

func TestEnsureIssuesReusesAndRenews(t *testing.T) {
	dir := t.TempDir()
	first, err := Ensure(opts(dir), t0)
	if err != nil || !first.Issued {
		t.Fatalf("first run: %v %+v", err, first)
	}
	ca, _ := os.ReadFile(filepath.Join(dir, CAFile))
	crt, _ := os.ReadFile(filepath.Join(dir, CertFile))
	certs, err := pki.ParseCertsPEM(crt)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the proxy client cert does not verify as a client against the front-proxy CA: %v", err)
	}
	if certs[0].Subject.CommonName != "front-proxy-client" {
		t.Errorf("CN %q", certs[0].Subject.CommonName)
	}
	if info, _ := os.Stat(filepath.Join(dir, KeyFile)); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", info.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("%d files in the directory, want 3 (no CA key, no temporary files)", len(entries))
	}

	again, err := Ensure(opts(dir), t0.Add(50*time.Hour))
	if err != nil || again.Issued {
		t.Fatalf("a valid certificate was not reused: %v %+v", err, again)
	}
	if crt2, _ := os.ReadFile(filepath.Join(dir, CertFile)); !bytes.Equal(crt, crt2) {
		t.Errorf("reuse rewrote the certificate")
	}

	renewed, err := Ensure(opts(dir), t0.Add(95*time.Hour))
	if err != nil || !renewed.Issued || !strings.Contains(renewed.Reason, "within renewBefore") {
		t.Fatalf("no renewal inside renewBefore: %v %+v", err, renewed)
	}

	other := opts(dir)
	other.ClientName = "aggregator"
	renamed, err := Ensure(other, t0.Add(96*time.Hour))
	if err != nil || !renamed.Issued || !strings.Contains(renamed.Reason, `asked for "aggregator"`) {
		t.Fatalf("a new client name did not reissue: %v %+v", err, renamed)
	}
}

func TestFlags(t *testing.T) {
	got := strings.Join(Flags("/pki", "front-proxy-client", true), " ")
	for _, want := range []string{
		"--requestheader-client-ca-file=/pki/front-proxy-ca.crt",
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file=/pki/front-proxy-client.crt",
		"--proxy-client-key-file=/pki/front-proxy-client.key",
		"--enable-aggregator-routing=true",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("flags lack %s", want)
		}
	}
}

func TestGarbageIsReplaced(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{CAFile, CertFile, KeyFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Ensure(opts(dir), t0)
	if err != nil || !res.Issued {
		t.Fatalf("garbage was not replaced: %v %+v", err, res)
	}
}
