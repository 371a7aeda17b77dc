package render

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/pki"
)

func providedConfig(t *testing.T, base *yaml.RNode, caFile string) *yaml.RNode {
	t.Helper()
	orig := base.Copy()
	spec, _ := orig.Pipe(yaml.Lookup("spec"))
	if err := spec.PipeE(yaml.SetField("certificate", yaml.MustParse("mode: provided\nprovided: {secretName: wardle-tls, caFile: "+caFile+"}\n"))); err != nil {
		t.Fatal(err)
	}
	return orig
}

// TestCAFileStaysInsideAndBounded: caFile is read inside the working directory, from a
// regular file, at most 64 KiB. Each bad file is an error naming the field and the path,
// and nothing outside the working directory reaches the caBundle. A FIFO read by a
// blocking open would hang here until the test times out; /dev/zero would exhaust memory.
func TestCAFileStaysInsideAndBounded(t *testing.T) {
	ca, err := pki.NewCertificateAuthority("outside CA", pki.ECDSAP256, t0, t0.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	caPEM := pki.EncodeCertPEM(ca.Cert)
	tmp := t.TempDir()
	work, outside := filepath.Join(tmp, "work"), filepath.Join(tmp, "outside")
	for _, d := range []string{work, outside, filepath.Join(work, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "ca.pem"), caPEM, 0o644))
	must(os.WriteFile(filepath.Join(work, "ca.pem"), caPEM, 0o644))
	must(os.Symlink("/dev/zero", filepath.Join(work, "zero.pem")))
	must(os.Symlink("/dev/urandom", filepath.Join(work, "urandom.pem")))
	must(os.Symlink(filepath.Join(outside, "ca.pem"), filepath.Join(work, "out.pem")))
	must(os.Symlink("../outside", filepath.Join(work, "outdir")))
	must(os.Symlink(outside, filepath.Join(work, "sub", "absdir")))
	must(syscall.Mkfifo(filepath.Join(work, "fifo.pem"), 0o644))
	must(os.WriteFile(filepath.Join(work, "big.pem"), append([]byte(strings.Repeat("# padding\n", 7000)), caPEM...), 0o644))
	base := loadConfig(t)
	t.Chdir(work)

	for file, want := range map[string]string{
		"zero.pem":          "inside the working directory",
		"urandom.pem":       "inside the working directory",
		"out.pem":           "inside the working directory",
		"outdir/ca.pem":     "inside the working directory",
		"sub/absdir/ca.pem": "inside the working directory",
		"fifo.pem":          "named pipe",
		"sub":               "a directory",
		"big.pem":           "larger than 65536 bytes",
		"no-such-file.pem":  "no such file",
	} {
		t.Run(file, func(t *testing.T) {
			out := Process(nil, providedConfig(t, base, file), t0)
			if !out.Failed || len(out.Results) == 0 {
				t.Fatalf("caFile %s rendered", file)
			}
			msg := out.Results[0].Message
			for _, w := range []string{"spec.certificate.provided.caFile", `"` + file + `"`, want} {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if out.Results[0].FieldPath != "spec.certificate.provided.caFile" {
				t.Errorf("field %q", out.Results[0].FieldPath)
			}
		})
	}
	// The same CA inside the working directory is accepted.
	if out := Process(nil, providedConfig(t, base, "ca.pem"), t0); out.Failed {
		t.Fatalf("a CA inside the working directory: %v", out.Results)
	}
}
