package cli

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// TestHelpExitsZero: help asked for is not bad usage.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"version", "--help"}, {"version", "-h"}} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("aggapi %s: exit status %d, want 0 (stderr: %s)", strings.Join(args, " "), code, &stderr)
		}
		if !strings.Contains(stdout.String(), "Usage:") {
			t.Errorf("aggapi %s: no usage on stdout: %q", strings.Join(args, " "), &stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("aggapi %s: exit status %d, want 0 (stderr: %s)", args[0], code, &stderr)
		}
		out := stdout.String()
		if !strings.HasPrefix(out, "aggapi ") || !strings.HasSuffix(out, runtime.Version()+")\n") || strings.Count(out, "\n") != 1 {
			t.Errorf("aggapi %s printed %q, want one line: aggapi VERSION (..., %s)", args[0], out, runtime.Version())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"version", "--short"}, strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("aggapi version --short: exit status %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), `unexpected argument "--short"`) {
		t.Errorf("aggapi version --short: stderr %q", &stderr)
	}
}
