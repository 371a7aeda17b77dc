package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// runMain runs Main and fails the test rather than hang when Main does not return.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		c := Main(args, strings.NewReader(""), &o, &e)
		done <- result{o.String(), e.String(), c}
	}()
	select {
	case r := <-done:
		return r.stdout, r.stderr, r.code
	case <-time.After(10 * time.Second):
		t.Fatalf("Main(%q) did not return", args)
		return "", "", 0
	}
}

func noClusterEnv(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
}

// TestKubeconfigIsABoundedRegularFile: a FIFO (which would block the read until
// someone writes), a device (which never ends) and an oversized file are refused
// with their kind, given with --kubeconfig or in $KUBECONFIG.
func TestKubeconfigIsABoundedRegularFile(t *testing.T) {
	noClusterEnv(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxKubeconfigBytes+1); err != nil { // sparse: no disk
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "is a named pipe (FIFO), not a regular file"},
		{"/dev/zero", "is a character device, not a regular file"},
		{dir, "is a directory, not a regular file"},
		{big, fmt.Sprintf("is larger than the %d bytes accepted", MaxKubeconfigBytes)},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			start := time.Now()
			stdout, stderr, code := runMain(t, "--kubeconfig", tc.path, "--request-timeout", "2s")
			if code != 1 || !strings.Contains(stdout, "FAIL: kubeconfig: kubeconfig \""+tc.path+"\" "+tc.want) {
				t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	t.Run("KUBECONFIG", func(t *testing.T) {
		ok := filepath.Join(dir, "ok")
		if err := os.WriteFile(ok, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("KUBECONFIG", ok+string(os.PathListSeparator)+fifo)
		stdout, _, code := runMain(t)
		if code != 1 || !strings.Contains(stdout, "named pipe (FIFO)") {
			t.Errorf("exit %d\nstdout: %s", code, stdout)
		}
	})
}

func TestRequestTimeoutMustBePositive(t *testing.T) {
	for _, v := range []string{"0", "0s", "-1s"} {
		_, stderr, code := runMain(t, "--request-timeout", v)
		if code != 2 || !strings.Contains(stderr, "--request-timeout") || !strings.Contains(stderr, "give a positive duration") {
			t.Errorf("--request-timeout %s: exit %d, stderr %q", v, code, stderr)
		}
	}
}

// huge is a server whose every answer is a JSON string of 64 MiB, twice the limit
// (finite, so that a client without the bound survives to fail the test), with or
// without a Content-Length of a TiB.
func huge(t *testing.T, announce bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if announce {
			w.Header().Set("Content-Length", fmt.Sprint(int64(1)<<40))
		}
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("a"), 1<<16)
		w.Write([]byte(`{"major":"`))
		for range (2 * MaxResponseBytes) / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestResponseBodiesAreBounded: a server (or a proxy in front of it) that answers
// with a huge body gets a clear error, not all the memory.
func TestResponseBodiesAreBounded(t *testing.T) {
	for _, announce := range []bool{false, true} {
		t.Run(fmt.Sprintf("content-length=%v", announce), func(t *testing.T) {
			srv := huge(t, announce)
			cfg := &rest.Config{Host: srv.URL, Timeout: 20 * time.Second}
			boundBodies(cfg, 1<<20)
			kube, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = kube.Discovery().ServerVersion()
			var tooLarge *BodyTooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("err %v, want a body too large", err)
			}
			_, err = kube.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "x", metav1.GetOptions{})
			if !errors.As(err, &tooLarge) {
				t.Fatalf("err %v, want a body too large", err)
			}
		})
	}
	t.Run("within the limit", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"major":"1","minor":"37","gitVersion":"v1.37.2"}`)
		}))
		defer srv.Close()
		cfg := &rest.Config{Host: srv.URL}
		boundBodies(cfg, 1<<10)
		kube, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := kube.Discovery().ServerVersion(); err != nil || v.GitVersion != "v1.37.2" {
			t.Fatalf("%v, %v", v, err)
		}
	})
	t.Run("Main", func(t *testing.T) {
		noClusterEnv(t)
		srv := huge(t, false)
		kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, srv.URL)), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := runMain(t, "--kubeconfig", kubeconfig, "--request-timeout", "15s")
		if code != 1 || !strings.Contains(stdout, "FAIL: cluster: ") || !strings.Contains(stdout, "larger than the 32 MiB aggapi doctor accepts") {
			t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
	})
}

// TestOutputIsEscaped: what doctor prints (paths, and what the cluster holds) reaches
// the terminal through redact.
func TestOutputIsEscaped(t *testing.T) {
	noClusterEnv(t)
	stdout, _, code := runMain(t, "--kubeconfig", filepath.Join(t.TempDir(), "a\x1b[2J\rb"))
	if code != 1 || strings.ContainsAny(stdout, "\x1b\r") || !strings.Contains(stdout, `a\x1b[2J\rb`) {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
}
