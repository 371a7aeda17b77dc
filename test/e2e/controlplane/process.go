package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is a child process whose stdout and stderr go to a log file.
type Process struct {
	Name    string
	LogPath string

	cmd      *exec.Cmd
	logFile  *os.File
	done     chan struct{} // closed once the process has exited
	waitErr  error         // valid after done is closed
	stopOnce sync.Once
	stopErr  error
	quit     atomic.Bool // stopped by SIGQUIT or SIGKILL after a grace period
}

// startProcess starts bin with args; its output goes to <logDir>/<name>.log.
func startProcess(name, bin string, args []string, logDir string) (*Process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log file for %s: %w", name, err)
	}
	// Record the exact command line at the top of the log for debugging.
	fmt.Fprintf(logFile, "$ %s %s\n\n", bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Dir = logDir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, bin, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited, and if so with what error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop sends SIGTERM and waits up to grace for the process to exit. A
// process still running then gets SIGQUIT (a Go program writes every
// goroutine's stack to its log and exits), and SIGKILL 3s later. It is safe
// to call more than once; later calls return the result of the first.
// Exiting because of a signal is not an error, and neither is a slow exit:
// a k8s.io/apiserver server waits up to a minute for requests in flight, which
// is the server's business, not the test's. SlowToStop reports it, and
// StopReport says where the process was. Only a process that outlives SIGKILL
// is an error.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(grace) })
	return p.stopErr
}

// SlowToStop reports whether Stop had to send SIGQUIT or SIGKILL.
func (p *Process) SlowToStop() bool {
	select {
	case <-p.done:
		return p.quit.Load()
	default:
		return false
	}
}

// StopReport is, for a process SlowToStop, the last lines it logged before
// SIGQUIT (k8s.io/apiserver servers log each graceful-termination step) and
// the goroutines of the dump that were inside k8s.io/apiserver's server.
func (p *Process) StopReport() string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.LogPath, err)
	}
	before, dump, found := bytes.Cut(data, []byte("SIGQUIT: quit"))
	lines := bytes.Split(bytes.TrimRight(before, "\n"), []byte("\n"))
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	var b strings.Builder
	b.Write(bytes.Join(lines, []byte("\n")))
	if !found {
		return b.String()
	}
	for _, g := range bytes.Split(dump, []byte("\n\n")) {
		if bytes.Contains(g, []byte("k8s.io/apiserver/pkg/server")) {
			b.WriteString("\n\n")
			b.Write(bytes.TrimSpace(g))
		}
	}
	return b.String()
}

func (p *Process) stop(grace time.Duration) error {
	if exited, _ := p.Exited(); exited {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("sending SIGTERM to %s (pid %d): %w", p.Name, p.PID(), err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	signals := []os.Signal{syscall.SIGQUIT, syscall.SIGKILL}
	if grace == 0 { // no grace asked for: no dump either
		signals = signals[1:]
	} else {
		p.quit.Store(true)
	}
	for _, sig := range signals {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("sending %v to %s (pid %d): %w", sig, p.Name, p.PID(), err)
		}
		wait := 10 * time.Second
		if sig == syscall.SIGQUIT {
			wait = 3 * time.Second // a Go program writes its stacks and exits at once
		}
		select {
		case <-p.done:
			return nil
		case <-time.After(wait):
		}
	}
	return fmt.Errorf("%s (pid %d) did not exit even after SIGKILL", p.Name, p.PID())
}

// LogTail returns the last n lines of the process's log.
func (p *Process) LogTail(n int) string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.LogPath, err)
	}
	data = bytes.TrimRight(data, "\n")
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > n {
		lines = append([][]byte{[]byte(fmt.Sprintf("... (%d earlier lines in %s)", len(lines)-n, p.LogPath))}, lines[len(lines)-n:]...)
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// waitReady polls probe until it succeeds, the process exits, or timeout or
// ctx expire. Errors include the tail of the process's log.
func (p *Process) waitReady(ctx context.Context, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var lastErr error
	for {
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("%s exited before becoming ready (%v); last lines of %s:\n%s", p.Name, err, p.LogPath, p.LogTail(40))
		}
		probeCtx, probeCancel := context.WithTimeout(ctx, 5*time.Second)
		lastErr = probe(probeCtx)
		probeCancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v (last probe error: %v); last lines of %s:\n%s",
				p.Name, time.Since(start).Round(time.Millisecond), lastErr, p.LogPath, p.LogTail(40))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. All listeners are
// held until every port is chosen, so the n ports differ; another process may
// still grab one before our child binds it, which is unlikely enough for tests.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port on 127.0.0.1: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// StartProcess starts bin with args; its output goes to <logDir>/<name>.log.
// Stop it with Process.Stop. For components outside this package (a node).
func StartProcess(name, bin string, args []string, logDir string) (*Process, error) {
	return startProcess(name, bin, args, logDir)
}

// WaitReady polls probe until it succeeds, the process exits, or timeout or
// ctx expire; errors include the tail of the process's log.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration, probe func(context.Context) error) error {
	return p.waitReady(ctx, timeout, probe)
}
