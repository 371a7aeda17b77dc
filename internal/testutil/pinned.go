package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// PinnedVersion is the value of the Makefile variable name (SOPS_VERSION, ...); a
// Makefile without it is an error, not "any version".
func PinnedVersion(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s*\?=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("the Makefile pins no %s", name)
	}
	return string(m[1]), nil
}

// FindPinned returns <root>/bin/<name> when `go version -m` says it was built from
// the Go package pkg of a module at the version the Makefile variable pin holds, as
// hack/tools.sh installs it. A missing or other binary is a *ToolError.
func FindPinned(name, pkg, pin string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	want, err := PinnedVersion(pin)
	if err != nil {
		return "", err
	}
	path := filepath.Join(root, "bin", name)
	if _, err := os.Stat(path); err != nil {
		return "", &ToolError{fmt.Sprintf("%s not found at %s", name, path)}
	}
	out, err := exec.Command("go", "version", "-m", path).Output()
	if err != nil {
		return "", &ToolError{fmt.Sprintf("go version -m %s: %v", path, err)}
	}
	var gotPkg, gotVersion string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "path":
			gotPkg = f[1]
		case len(f) >= 3 && f[0] == "mod":
			gotVersion = f[2]
		}
	}
	if gotPkg != pkg || gotVersion != want {
		return "", &ToolError{fmt.Sprintf("%s is %s@%s, the Makefile pins %s@%s", path, gotPkg, gotVersion, pkg, want)}
	}
	return path, nil
}

// Pinned is FindPinned for tests: without the tool the test is skipped, or fails when
// $AGGAPI_REQUIRE_TOOLS=1.
func Pinned(tb testing.TB, name, pkg, pin string) string {
	tb.Helper()
	path, err := FindPinned(name, pkg, pin)
	return toolOrSkip(tb, path, err)
}

// toolOrSkip returns path when err is nil; a missing or mismatched tool (a ToolError)
// skips the test, or fails it when $AGGAPI_REQUIRE_TOOLS=1; any other error fails it.
func toolOrSkip(tb testing.TB, path string, err error) string {
	tb.Helper()
	var missing *ToolError
	switch {
	case err == nil:
		return path
	case errors.As(err, &missing) && !ToolsRequired():
		tb.Skip(err)
	default:
		tb.Fatal(err)
	}
	return ""
}

// Sops returns the pinned sops in bin/ (see Pinned).
func Sops(tb testing.TB) string {
	tb.Helper()
	return Pinned(tb, "sops", "github.com/getsops/sops/v3/cmd/sops", "SOPS_VERSION")
}

// AgeKeygen returns the pinned age-keygen in bin/ (see Pinned).
func AgeKeygen(tb testing.TB) string {
	tb.Helper()
	return Pinned(tb, "age-keygen", "filippo.io/age/cmd/age-keygen", "AGE_VERSION")
}
