package testutil

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CommandTimeout bounds every command Run starts.
const CommandTimeout = 2 * time.Minute

// Result is what a command did.
type Result struct {
	Stdout, Stderr []byte
	Err            error
}

// Output is stdout followed by stderr.
func (r Result) Output() string { return string(r.Stdout) + string(r.Stderr) }

// ExitCode is the command's exit status: 0 on success, -1 when it did not run to an
// exit (not started, killed by a signal or by the timeout).
func (r Result) ExitCode() int {
	var exit *exec.ExitError
	switch {
	case r.Err == nil:
		return 0
	case errors.As(r.Err, &exit):
		return exit.ExitCode()
	default:
		return -1
	}
}

// Cmd is a command to run: in Dir, with Stdin fed from bytes (none when nil), Env
// replacing the environment when not nil, within Timeout (CommandTimeout when 0).
type Cmd struct {
	Dir     string
	Stdin   []byte
	Env     []string
	Timeout time.Duration
}

// Run runs name with args in dir, stdin fed from the given bytes (nil: none), within
// CommandTimeout and the test's context, and logs the command and how it ended.
func Run(tb testing.TB, dir string, stdin []byte, name string, args ...string) Result {
	tb.Helper()
	return Cmd{Dir: dir, Stdin: stdin}.Run(tb, name, args...)
}

// Run runs the command; see the package function Run.
func (c Cmd) Run(tb testing.TB, name string, args ...string) Result {
	tb.Helper()
	timeout := c.Timeout
	if timeout == 0 {
		timeout = CommandTimeout
	}
	ctx, cancel := context.WithTimeout(tb.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	ended := "ok"
	if err != nil {
		ended = err.Error()
	}
	tb.Logf("(cd %s && %s %s): %s after %v", c.Dir, filepath.Base(name), strings.Join(args, " "), ended, time.Since(began).Round(time.Millisecond))
	return Result{stdout.Bytes(), stderr.Bytes(), err}
}

// MustRun runs a command that must succeed and returns its stdout.
func MustRun(tb testing.TB, dir string, stdin []byte, name string, args ...string) []byte {
	tb.Helper()
	r := Run(tb, dir, stdin, name, args...)
	if r.Err != nil {
		tb.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// MustFail checks that a command ran and exited with a non-zero status.
func MustFail(tb testing.TB, r Result) {
	tb.Helper()
	if r.ExitCode() <= 0 {
		tb.Fatalf("want a non-zero exit status, got %v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
	}
}
