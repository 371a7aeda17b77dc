package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestVerifyRefusesAConfigWhereAManifestBelongs: `verify --config apis/*/render` gives
// --config the first directory and makes the others manifest arguments; a directory
// of configs and no rendered objects is a usage error naming it, not a pass or "the
// function did not run".
func TestVerifyRefusesAConfigWhereAManifestBelongs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rendered := renderTo(t, dir, verifyConfig)
	a, b := filepath.Join(dir, "a", "render"), filepath.Join(dir, "b", "render")
	for _, d := range []string{a, b} {
		testutil.WriteFile(t, filepath.Join(d, "aggapi.yaml"), []byte(verifyConfig))
	}
	var out, errOut bytes.Buffer
	code := Run(testEnv(goldenNow), []string{"verify", "--config", a, b, rendered}, strings.NewReader(""), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), b+" holds AggregatedAPI configs and no rendered objects") {
		t.Errorf("exit %d, want 2 naming %s:\n%s%s", code, b, out.String(), errOut.String())
	}

	// A kpt package holds its config beside the rendered objects: read as manifests.
	pkg := filepath.Join(dir, "pkg")
	testutil.WriteFile(t, filepath.Join(pkg, "aggapi.yaml"), []byte(verifyConfig))
	testutil.WriteFile(t, filepath.Join(pkg, "rendered.yaml"), testutil.ReadFile(t, rendered))
	out.Reset()
	errOut.Reset()
	if code := Run(testEnv(goldenNow), []string{"verify", pkg}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Errorf("a package with its config: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}

// TestVerifySaysWhenStdinIsNotRead: with file arguments a piped stdin is not read, and
// verify says so instead of passing over it in silence; "-" reads it too.
func TestVerifySaysWhenStdinIsNotRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rendered := renderTo(t, dir, verifyConfig)
	data, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		warn bool
	}{
		{[]string{rendered}, true},
		{[]string{rendered, "-"}, false},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			w.Write(data)
			w.Close()
		}()
		var out, errOut bytes.Buffer
		code := Run(testEnv(goldenNow), append([]string{"verify"}, c.args...), r, &out, &errOut)
		r.Close()
		said := strings.Contains(errOut.String(), "stdin is not read when FILE or DIR arguments are given")
		if code != 0 || said != c.warn {
			t.Errorf("%v: exit %d, warned %v (want %v):\n%s%s", c.args, code, said, c.warn, out.String(), errOut.String())
		}
	}
}
