package frontproxy

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
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

func TestCheckDir(t *testing.T) {
	for _, ok := range []string{"/etc/kubernetes/pki", "pki", "./a/../b", "/srv/k8s_1.37/pki-2+x@y:z,w=v~", "/home/josé/pki"} {
		if err := CheckDir(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/pki\n--anonymous-auth=true", "/a b", "/a\tb", "/a\rb", "/a\x1b[2Jb", `/"q"`, "/a'b", "/a$b", "/a;b", "/a\u00a0b", "/a\u202eb", strings.Repeat("a", 4097)} {
		if err := CheckDir(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestEnsureMakesTheDirectory0700: a directory Ensure makes holds a private key, so
// only its owner may list or enter it (kubeadm's mode for its pki directory).
func TestEnsureMakesTheDirectory0700(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "pki")
	if _, err := Ensure(opts(dir), t0); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("%v, %v", info.Mode(), err)
	}
}

// TestEnsureRefusesSymlinks: a symlink planted in place of one of the files is
// refused, and the file it points to is neither read, written nor chmodded; whether
// the other files are there or not.
func TestEnsureRefusesSymlinks(t *testing.T) {
	for _, name := range []string{KeyFile, CertFile, CAFile} {
		for _, complete := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/complete=%v", name, complete), func(t *testing.T) {
				base := t.TempDir()
				dir, outside := filepath.Join(base, "pki"), filepath.Join(base, "outside")
				if _, err := Ensure(opts(dir), t0); err != nil {
					t.Fatal(err)
				}
				if !complete {
					for _, other := range []string{KeyFile, CertFile, CAFile} {
						if other != name {
							os.Remove(filepath.Join(dir, other))
						}
					}
				}
				// The real file moves outside, readable by all, and a link takes its place.
				if err := os.Rename(filepath.Join(dir, name), outside); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(outside, 0o644); err != nil {
					t.Fatal(err)
				}
				before, _ := os.ReadFile(outside)
				if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
				_, err := Ensure(opts(dir), t0.Add(time.Hour))
				if err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
					t.Fatalf("err %v, want a symlink refused", err)
				}
				after, _ := os.ReadFile(outside)
				info, _ := os.Stat(outside)
				if !bytes.Equal(before, after) || info.Mode().Perm() != 0o644 {
					t.Errorf("the file behind the link was changed (mode %v)", info.Mode().Perm())
				}
				if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Errorf("the link was replaced")
				}
			})
		}
	}
}

// TestWriteSetAllOrNothing: a failure while writing the new set leaves the previous
// set as it was and no temporary file; success replaces every file.
func TestWriteSetAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ensure(opts(dir), t0); err != nil {
		t.Fatal(err)
	}
	old := map[string][]byte{}
	for _, f := range []string{CAFile, CertFile, KeyFile} {
		old[f], _ = os.ReadFile(filepath.Join(dir, f))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	set := []file{{CAFile, []byte("new ca"), 0o644}, {KeyFile, []byte("new key"), 0o600}, {CertFile, []byte("new cert"), 0o644}}
	writes := 0
	failThird := func(f *os.File, data []byte) error {
		if writes++; writes == 3 {
			return errors.New("disk full")
		}
		return writeFile(f, data)
	}
	if err := writeSet(root, set, failThird); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d entries after a failed write, want the 3 files and no temporary one", len(entries))
	}
	for f, b := range old {
		if got, _ := os.ReadFile(filepath.Join(dir, f)); !bytes.Equal(got, b) {
			t.Errorf("%s changed by a failed write", f)
		}
	}

	if err := writeSet(root, set, writeFile); err != nil {
		t.Fatal(err)
	}
	for _, f := range set {
		got, _ := os.ReadFile(filepath.Join(dir, f.name))
		info, _ := os.Stat(filepath.Join(dir, f.name))
		if !bytes.Equal(got, f.data) || info.Mode().Perm() != f.mode {
			t.Errorf("%s: %q %v", f.name, got, info.Mode().Perm())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("%d entries, want 3", len(entries))
	}
}
