package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReport: a called finding not in the allow file fails; one in it passes with its
// reason; a finding the code does not call is not counted.
func TestReport(t *testing.T) {
	t.Parallel()
	stream := `{"config":{}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","function":"Get"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.60.0","trace":[{"module":"golang.org/x/net","function":"Do"}]}}
{"finding":{"osv":"GO-2026-0003","fixed_version":"v1.0.0","trace":[{"module":"example.com/m"}]}}
`
	called, err := calledFindings(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(called) != 2 {
		t.Fatalf("called: %v", called)
	}
	allow := filepath.Join(t.TempDir(), "allow.txt")
	if err := os.WriteFile(allow, []byte("# c\nGO-2026-0001 go1.26.9 the standard library\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	allowed, err := readAllow(allow)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := report(&out, called, allowed); code != 1 || !strings.Contains(out.String(), "FAIL GO-2026-0002") || !strings.Contains(out.String(), "accepted GO-2026-0001") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
	delete(called, "GO-2026-0002")
	out.Reset()
	if code := report(&out, called, allowed); code != 0 {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
	if err := os.WriteFile(allow, []byte("GO-2026-0001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readAllow(allow); err == nil {
		t.Error("an entry without a reason was accepted")
	}
}
