package gate

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestLintFails: make lint (part of make verify) passes on the tree as it is and fails
// on a planted finding, an error nobody checks. It runs the pinned golangci-lint of the
// checkout's bin/ (make lint-tools installs it) on a copy of the tree.
func TestLintFails(t *testing.T) {
	t.Parallel()
	testutil.Pinned(t, "golangci-lint", "github.com/golangci/golangci-lint/v2/cmd/golangci-lint", "GOLANGCI_LINT_VERSION")
	testutil.Pinned(t, "govulncheck", "golang.org/x/vuln/cmd/govulncheck", "GOVULNCHECK_VERSION")
	root := testutil.Root(t)
	dir := treeCopy(t)
	// The checkout's tools and database: lint-tools finds them installed and does nothing.
	lint := func() (string, int) {
		t.Helper()
		r := testutil.Cmd{Dir: dir, Timeout: 10 * time.Minute}.Run(t, makeCmd(t), "--no-print-directory", "lint",
			"BIN="+filepath.Join(root, "bin"), "VULNDB_DIR="+filepath.Join(root, ".cache", "vulndb"))
		if r.ExitCode() < 0 {
			t.Fatalf("make lint: %v\n%s", r.Err, r.Output())
		}
		return r.Output(), r.ExitCode()
	}
	if out, code := lint(); code != 0 {
		t.Fatalf("make lint fails on the tree as it is (exit %d):\n%s", code, out)
	}
	appendTo(t, filepath.Join(dir, "fn", "version", "version.go"),
		"\nfunc gateProbeErr() error { return nil }\n\n// GateProbe drops an error.\nfunc GateProbe() { gateProbeErr() }\n")
	out, code := lint()
	if code == 0 {
		t.Fatalf("make lint passes with an unchecked error in fn/version/version.go:\n%s", out)
	}
	if !strings.Contains(out, "errcheck") || !strings.Contains(out, "version.go") {
		t.Errorf("make lint does not name the errcheck finding in version.go:\n%s", out)
	}
}
