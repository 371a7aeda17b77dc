package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestGoInstall runs the README's install snippet: the binaries are named by their
// import paths, `aggapi version` says which build it is, and every --help exits 0.
func TestGoInstall(t *testing.T) {
	t.Parallel()
	// The snippet as the README spells it: the test runs these words.
	const snippet = "CGO_ENABLED=0 go install ./fn/cmd/aggapi ./fn/cmd/aggapi-doctor\n"
	if readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md")); err != nil || !strings.Contains(string(readme), "\n"+snippet) {
		t.Fatalf("README.md has no line %q (%v)", snippet, err)
	}
	gobin := t.TempDir()
	// The flags of make build, so the build cache of the other tests serves this one.
	install := testutil.Cmd{Dir: repoRoot, Env: append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0", "GOFLAGS=-trimpath"), Timeout: 10 * time.Minute}
	if r := install.Run(t, "go", "install", "./fn/cmd/aggapi", "./fn/cmd/aggapi-doctor"); r.Err != nil {
		t.Fatalf("go install: %v\n%s", r.Err, r.Output())
	}
	aggapi, doctor := filepath.Join(gobin, "aggapi"), filepath.Join(gobin, "aggapi-doctor")
	for _, bin := range []string{aggapi, doctor} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("go install made no %s: %v", filepath.Base(bin), err)
		}
	}

	// What `aggapi version` says is what the go command stamped into the binary: the
	// module version and, for a build in a checkout with VCS stamping on, the commit.
	// (This machine's GOFLAGS may say -buildvcs=false; then the version is "(devel)".)
	want := []string{testutil.ModulePath}
	info := string(testutil.MustRun(t, repoRoot, nil, "go", "version", "-m", aggapi))
	for _, line := range strings.Split(info, "\n") {
		switch f := strings.Fields(line); {
		case len(f) >= 3 && f[0] == "mod" && f[1] == testutil.ModulePath:
			want = append(want, "aggapi "+f[2]+" (")
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want = append(want, "revision "+strings.TrimPrefix(f[1], "vcs.revision=")[:12])
		}
	}
	if len(want) < 2 {
		t.Fatalf("go version -m %s names no version of %s:\n%s", aggapi, testutil.ModulePath, info)
	}
	t.Logf("want %q", want)
	for _, c := range []struct {
		bin  string
		args []string
	}{{aggapi, []string{"version"}}, {aggapi, []string{"--version"}}, {doctor, []string{"--version"}}} {
		out := string(testutil.MustRun(t, repoRoot, nil, c.bin, c.args...))
		if !strings.HasPrefix(out, filepath.Base(c.bin)+" ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%s %s printed %q, want one line starting with %q", filepath.Base(c.bin), c.args[0], out, filepath.Base(c.bin)+" ")
		}
		for _, w := range want {
			if w = strings.Replace(w, "aggapi ", filepath.Base(c.bin)+" ", 1); !strings.Contains(out, w) {
				t.Errorf("%s %s printed %q, want %q in it", filepath.Base(c.bin), c.args[0], out, w)
			}
		}
	}

	// Help asked for is not bad usage. (aggapi doctor finds aggapi-doctor beside aggapi.)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"version", "--help"}, {"doctor", "--help"}} {
		r := testutil.Run(t, repoRoot, nil, aggapi, args...)
		if r.ExitCode() != 0 || !strings.Contains(r.Output(), "Usage") {
			t.Errorf("aggapi %s: exit status %d, want 0 with a usage\n%s", strings.Join(args, " "), r.ExitCode(), r.Output())
		}
	}
	if r := testutil.Run(t, repoRoot, nil, doctor, "--help"); r.ExitCode() != 0 {
		t.Errorf("aggapi-doctor --help: exit status %d, want 0\n%s", r.ExitCode(), r.Output())
	}
}
