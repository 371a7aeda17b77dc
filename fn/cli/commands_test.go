package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func run(args []string, stdin string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestSubcommandHelp: help is not bad usage: exit 0 and the usage, flags included, on
// stdout; a bad flag is exit 2 with the usage on stderr.
func TestSubcommandHelp(t *testing.T) {
	for _, cmd := range []string{"verify", "aggregation-layer", "import"} {
		for _, h := range []string{"-h", "--help", "-help"} {
			code, stdout, stderr := run([]string{cmd, h}, "")
			if code != 0 || !strings.HasPrefix(stdout, "Usage: aggapi "+cmd) || !strings.Contains(stdout, "Flags:\n  -") || stderr != "" {
				t.Errorf("aggapi %s %s: exit %d, stdout %q, stderr %q", cmd, h, code, stdout, stderr)
			}
		}
		code, stdout, stderr := run([]string{cmd, "--no-such-flag"}, "")
		if code != 2 || stdout != "" || !strings.Contains(stderr, "no-such-flag") || !strings.Contains(stderr, "Usage: aggapi "+cmd) {
			t.Errorf("aggapi %s --no-such-flag: exit %d, stdout %q, stderr %q", cmd, code, stdout, stderr)
		}
	}
}

// TestAggregationLayerRefusesBadFlags: values that would print broken flags or issue a
// certificate that is already expired are bad usage, and nothing is written.
func TestAggregationLayerRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--allowed-name", "front-proxy\n--anonymous-auth=true"}, "--allowed-name"},
		{[]string{"--allowed-name", "a,b"}, "--allowed-name"},
		{[]string{"--allowed-name", "a b"}, "--allowed-name"},
		{[]string{"--allowed-name", "tab\there"}, "--allowed-name"},
		{[]string{"--allowed-name", `"quoted"`}, "--allowed-name"},
		{[]string{"--allowed-name", "\u00a0nbsp"}, "--allowed-name"},
		{[]string{"--allowed-name", strings.Repeat("a", 65)}, "1 to 64"},
		{[]string{"--allowed-name", ""}, "1 to 64"},
		{[]string{"--validity", "1ns"}, "--validity 1ns: give 1h to 87600h"},
		{[]string{"--validity", "1ns", "--renew-before", "0s"}, "--validity 1ns"},
		{[]string{"--validity", "59m", "--renew-before", "1m"}, "--validity"},
		{[]string{"--validity", "87601h"}, "--validity"},
		{[]string{"--renew-before", "-1h"}, "--renew-before"},
		{[]string{"--renew-before", "8760h"}, "--renew-before"},
		{[]string{"stray"}, "unexpected argument"},
	} {
		code, stdout, stderr := run(append([]string{"aggregation-layer", "--dir", dir}, c.args...), "")
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad usage wrote %d files", len(entries))
	}
	// The bounds themselves are accepted, and names with the allowed punctuation.
	for _, args := range [][]string{
		{"--validity", "1h", "--renew-before", "0s"},
		{"--validity", "87600h", "--allowed-name", "system:kube-aggregator"},
		{"--allowed-name", "front-proxy_client.a@b"},
	} {
		if code, _, stderr := run(append([]string{"aggregation-layer", "--dir", t.TempDir()}, args...), ""); code != 0 {
			t.Errorf("%q: exit %d: %s", args, code, stderr)
		}
	}
}

// TestAggregationLayerTightensReusedKey: a reused key file that others can read is made
// 0600, and the run says so.
func TestAggregationLayerTightensReusedKey(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run([]string{"aggregation-layer", "--dir", dir}, ""); code != 0 {
		t.Fatal(stderr)
	}
	key := filepath.Join(dir, "front-proxy-client.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run([]string{"aggregation-layer", "--dir", dir}, "")
	if code != 0 || !strings.Contains(stderr, "reused") || !strings.Contains(stderr, "made it 0600") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if info, _ := os.Stat(key); info.Mode().Perm() != 0o600 {
		t.Errorf("the reused key file is %v", info.Mode().Perm())
	}
	// Already private: nothing said.
	if _, _, stderr := run([]string{"aggregation-layer", "--dir", dir}, ""); strings.Contains(stderr, "0600") {
		t.Errorf("a private key file was reported: %s", stderr)
	}
}

// TestAggregationLayerReadsOnlyRegularFiles: a FIFO in place of a credential file is an
// error, not a hang (the test would time out) and not replaced.
func TestAggregationLayerReadsOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run([]string{"aggregation-layer", "--dir", dir}, ""); code != 0 {
		t.Fatal(stderr)
	}
	crt := filepath.Join(dir, "front-proxy-client.crt")
	if err := os.Remove(crt); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(crt, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run([]string{"aggregation-layer", "--dir", dir}, "")
	if code != 1 || !strings.Contains(stderr, "named pipe") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestVerifyReadsBounded: a device, a FIFO, or input over --max-size is an error (exit 1)
// naming what was read, fast; stdin is held to the limit too.
func TestVerifyReadsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "f.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"/dev/zero"}, "", "/dev/zero: it is a character device, not a regular file"},
		{[]string{fifo}, "", "named pipe"},
		{[]string{dir}, "", "f.yaml: it is a named pipe"},
		{[]string{"--max-size", "10"}, strings.Repeat("# comment\n", 2), "reading stdin: the manifests are larger than 10 bytes"},
		{[]string{"--max-size", "1Ki", "/dev/null"}, "", "character device"},
	} {
		code, _, stderr := run(append([]string{"verify"}, c.args...), c.stdin)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("verify %q: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
	}
	for _, bad := range []string{"0", "-1", "1Ti0", "64MB", "2Ti"} {
		if code, _, _ := run([]string{"verify", "--max-size", bad}, ""); code != 2 {
			t.Errorf("--max-size %s: exit %d, want 2", bad, code)
		}
	}
}
