package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAggregationLayerValidatesDirs: --dir and --flag-dir are printed in the flags,
// so a newline there printed flags of its own (--anonymous-auth=true below); they
// are held to CheckDir like --allowed-name, bad usage, and nothing is written.
func TestAggregationLayerValidatesDirs(t *testing.T) {
	base := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dir", filepath.Join(base, "pki\n--anonymous-auth=true")}, `--dir "`},
		{[]string{"--dir", filepath.Join(base, "p ki")}, `--dir "`},
		{[]string{"--dir", filepath.Join(base, "pki\x1b[2J")}, `--dir "`},
		{[]string{"--dir", filepath.Join(base, "pki"), "--flag-dir", "/etc/pki\n--anonymous-auth=true"}, `--flag-dir "/etc/pki\n--anonymous-auth=true": character '\n'`},
		{[]string{"--dir", filepath.Join(base, "pki"), "--flag-dir", "/etc/pki\r"}, "--flag-dir"},
		{[]string{"--dir", filepath.Join(base, "pki"), "--flag-dir", `/etc/"pki"`}, "--flag-dir"},
	} {
		code, stdout, stderr := run(append([]string{"aggregation-layer"}, c.args...), "")
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) || strings.ContainsAny(stderr, "\r\x1b") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("bad usage wrote %d entries", len(entries))
	}
}

// TestAggregationLayerChecksTheAbsoluteDir: without --flag-dir the flags print --dir
// made absolute, which holds the working directory's name: it is checked too, and
// --flag-dir is the way out.
func TestAggregationLayerChecksTheAbsoluteDir(t *testing.T) {
	cwd := filepath.Join(t.TempDir(), "my\nwork")
	if err := os.Mkdir(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	code, stdout, stderr := run([]string{"aggregation-layer", "--dir", "pki"}, "")
	if code != 2 || stdout != "" || !strings.Contains(stderr, "give --flag-dir") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = run([]string{"aggregation-layer", "--dir", "pki", "--flag-dir", "/etc/kubernetes/pki"}, "")
	if code != 0 || !strings.Contains(stdout, "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestAggregationLayerNeverChmodsThroughASymlink: a key file linked to a file
// elsewhere is refused; the file behind the link keeps its mode.
func TestAggregationLayerNeverChmodsThroughASymlink(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "pki"), filepath.Join(base, "elsewhere.key")
	if code, _, stderr := run([]string{"aggregation-layer", "--dir", dir}, ""); code != 0 {
		t.Fatal(stderr)
	}
	key := filepath.Join(dir, "front-proxy-client.key")
	if err := os.Rename(key, outside); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(outside, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, key); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run([]string{"aggregation-layer", "--dir", dir}, "")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "front-proxy-client.key is a symbolic link") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if info, _ := os.Stat(outside); info.Mode().Perm() != 0o644 {
		t.Errorf("the file behind the link was made %v", info.Mode().Perm())
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("the key directory is %v, want 0700", info.Mode().Perm())
	}
}
