package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/aggapi/aggapi/fn/verify"
)

// FuzzFunction: any stdin gives exit 0 with output that verifies, or exit 1 with a
// message; never a stack trace and never key material in an error.
func FuzzFunction(f *testing.F) {
	dirs, _ := filepath.Glob("../../testdata/*")
	for _, d := range dirs {
		if strings.Contains(d, "multi-megabyte") {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(d, "input.yaml")); err == nil {
			f.Add(b)
		} else if _, err := os.Stat(filepath.Join(d, "config.yaml")); err == nil {
			f.Add(goldenInput(f, d))
		}
	}
	f.Fuzz(func(t *testing.T, stdin []byte) {
		out, stderr, code := runFunction(t, stdin, goldenNow)
		switch code {
		case 0:
			nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(out), OmitReaderAnnotations: true}).Read()
			if err != nil {
				t.Fatalf("exit 0 with unreadable output: %v", err)
			}
			r := verify.Manifests(nodes, verify.Options{Now: goldenNow.Add(time.Hour)})
			for _, f := range r.Findings {
				if f.Severity == verify.Error && strings.Contains(f.Message, "FailedDiscoveryCheck") {
					t.Fatalf("exit 0 with a certificate that does not verify: %s", f)
				}
			}
		case 1:
			if stderr == "" {
				t.Fatal("exit 1 without a message")
			}
			if strings.Contains(stderr, "PRIVATE KEY") && !bytes.Contains(stdin, []byte("PRIVATE KEY")) {
				t.Fatal("key material in an error message")
			}
		default:
			t.Fatalf("exit %d", code)
		}
	})
}
