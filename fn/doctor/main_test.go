package doctor

import (
	"bytes"
	"strings"
	"testing"
)

// TestMainHelpAndVersion: --help and --version exit 0 without touching a cluster.
func TestMainHelpAndVersion(t *testing.T) {
	for _, c := range []struct {
		args       []string
		wantStdout string
		wantStderr string
	}{
		{[]string{"--help"}, "", "Usage: aggapi doctor"},
		{[]string{"-h"}, "", "Usage: aggapi doctor"},
		{[]string{"--version"}, "aggapi-doctor ", ""},
	} {
		t.Setenv("KUBECONFIG", "/nonexistent")
		var stdout, stderr bytes.Buffer
		code := Main(c.args, strings.NewReader(""), &stdout, &stderr)
		if code != 0 {
			t.Errorf("aggapi-doctor %s: exit status %d, want 0\nstdout: %s\nstderr: %s", c.args[0], code, &stdout, &stderr)
		}
		if !strings.HasPrefix(stdout.String(), c.wantStdout) || (c.wantStdout == "" && stdout.Len() > 0) {
			t.Errorf("aggapi-doctor %s: stdout %q, want it to start with %q", c.args[0], &stdout, c.wantStdout)
		}
		if !strings.Contains(stderr.String(), c.wantStderr) || (c.wantStderr == "" && stderr.Len() > 0) {
			t.Errorf("aggapi-doctor %s: stderr %q, want %q", c.args[0], &stderr, c.wantStderr)
		}
	}
}
