package gate

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// treeCopy copies the files git tracks into a temporary directory (outside any git
// checkout, so the Makefile lists Go files with find) and returns it.
func treeCopy(t *testing.T) string {
	t.Helper()
	if _, ok := testutil.TrackedFiles(testutil.Root(t)); !ok {
		t.Skip("not a git checkout: the gate is checked on a copy of what git tracks")
	}
	dir := filepath.Join(t.TempDir(), "aggapi")
	testutil.CopyTracked(t, testutil.Root(t), dir)
	return dir
}

func makeCmd(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("make")
	if err != nil {
		if testutil.ToolsRequired() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return path
}

// runMake runs a make target in dir and returns its output and exit status.
func runMake(t *testing.T, dir, target string) (string, int) {
	t.Helper()
	r := testutil.Cmd{Dir: dir, Timeout: 10 * time.Minute}.Run(t, makeCmd(t), "--no-print-directory", target)
	if r.ExitCode() < 0 {
		t.Fatalf("make %s: %v\n%s", target, r.Err, r.Output())
	}
	return r.Output(), r.ExitCode()
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFmt(t *testing.T) {
	t.Parallel()
	dir := treeCopy(t)
	if out, code := runMake(t, dir, "verify-fmt"); code != 0 {
		t.Fatalf("make verify-fmt fails on the tree as it is (exit %d):\n%s", code, out)
	}
	// hack/ too: the old fmt target covered fn, config and test only.
	for _, file := range []string{"fn/pki/certs.go", "hack/bench/bare/main.go"} {
		t.Run(file, func(t *testing.T) {
			dir := treeCopy(t)
			appendTo(t, filepath.Join(dir, file), "\nvar  unformatted = 1\n")
			out, code := runMake(t, dir, "verify-fmt")
			if code == 0 {
				t.Fatalf("make verify-fmt passes with an unformatted line in %s:\n%s", file, out)
			}
			if !strings.Contains(out, file) {
				t.Errorf("make verify-fmt does not name %s:\n%s", file, out)
			}
		})
	}
}

func TestVerifyGenerate(t *testing.T) {
	t.Parallel()
	dir := treeCopy(t)
	if out, code := runMake(t, dir, "verify-generate"); code != 0 {
		t.Fatalf("make verify-generate fails on the tree as it is: the CRD in config/crd is stale (exit %d):\n%s", code, out)
	}
	// A field in types.go without make generate.
	types := filepath.Join(dir, "fn", "config", "types.go")
	testutil.ReplaceOnce(t, types, "type AggregatedAPISpec struct {\n",
		"type AggregatedAPISpec struct {\n\t// GateProbe is not generated yet.\n\t// +optional\n\tGateProbe string `json:\"gateProbe,omitempty\"`\n\n")
	out, code := runMake(t, dir, "verify-generate")
	if code == 0 {
		t.Fatalf("make verify-generate passes with a field that is not in the CRD:\n%s", out)
	}
	for _, want := range []string{"gateProbe", "the generated files were stale"} {
		if !strings.Contains(out, want) {
			t.Errorf("make verify-generate does not say %q:\n%s", want, out)
		}
	}
	// make generate rewrote the CRD: the gate passes again.
	if out, code := runMake(t, dir, "verify-generate"); code != 0 {
		t.Errorf("make verify-generate fails after make generate (exit %d):\n%s", code, out)
	}
}
