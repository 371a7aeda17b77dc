package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Binaries of aggregated API servers nobody here wrote, built by
// hack/e2e/install.sh next to the control plane. They are not part of
// Binaries: only the tests that run them need them (see RequireBinary).
const (
	// MetricsServerBinary is sigs.k8s.io/metrics-server (metrics.k8s.io).
	MetricsServerBinary = "metrics-server"
	// CustomMetricsAdapterBinary is the test adapter of
	// sigs.k8s.io/custom-metrics-apiserver (custom.metrics.k8s.io and
	// external.metrics.k8s.io from one server).
	CustomMetricsAdapterBinary = "custom-metrics-test-adapter"
)

// CustomMetricsAdapterWritePort is where the test adapter (upstream main,
// unchanged) accepts fake metric values: POST /write-metrics/... on :8080, fixed.
const CustomMetricsAdapterWritePort = 8080

// WriteCustomMetric posts value as the metric of a pod to the test adapter
// listening on host (its CustomMetricsAdapterWritePort). The adapter keeps it in
// memory; anything but 200 is an error.
func WriteCustomMetric(ctx context.Context, host, namespace, pod, metric, value string) error {
	url := fmt.Sprintf("http://%s/write-metrics/namespaces/%s/pods/%s/%s",
		net.JoinHostPort(host, strconv.Itoa(CustomMetricsAdapterWritePort)), namespace, pod, metric)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(strconv.Quote(value)))
	if err != nil {
		return err
	}
	// The endpoint declares no produced type: "Accept: application/json" gets 406.
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// FindBinary returns the path of the named binary in BinDir.
func FindBinary(name string) (string, error) {
	dir, err := BinDir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	if !isExecutable(p) {
		return "", &MissingBinariesError{BinDir: dir, Missing: []string{name}}
	}
	return p, nil
}

// RequireBinary returns the path of the named binary in BinDir, or skips the
// test (fails it when $E2E_REQUIRE=1) with a message saying how to build it.
func RequireBinary(tb testing.TB, name string) string {
	tb.Helper()
	p, err := FindBinary(name)
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("%v ($%s=1, so not skipping)", err, EnvRequire)
		}
		tb.Skipf("skipping: %v", err)
	}
	return p
}

// ExtensionServerOptions start an aggregated API server built on
// k8s.io/apiserver with a command line the caller composed entirely (usually
// the args of a rendered Deployment, with paths and the port made local).
type ExtensionServerOptions struct {
	// Name names the process and its log file (<Dir>/<Name>.log).
	Name string
	// Binary is the executable, Args its complete command line.
	Binary string
	Args   []string
	// Dir holds the log file (default: the control plane's directory).
	Dir string
	// Port is the port the server listens on at 127.0.0.1 (its --secure-port).
	Port int
	// HealthPath is probed over TLS until it answers 200 (default /healthz).
	HealthPath string
	// ServingCAPEM verifies the serving certificate during the probe, for
	// ServerName (e.g. "<service>.<namespace>.svc").
	ServingCAPEM []byte
	ServerName   string

	ReadyTimeout time.Duration // default: the control plane's
	StopGrace    time.Duration // default 10s
}

// ExtensionServer is a running aggregated API server process.
type ExtensionServer struct {
	URL     string // https://127.0.0.1:<Port>
	Port    int
	Process *Process

	stopGrace time.Duration
}

// Stop stops the process (SIGTERM, then SIGKILL after the grace period).
func (s *ExtensionServer) Stop() error { return s.Process.Stop(s.stopGrace) }

// StartExtensionServer starts the process and waits until HealthPath answers
// 200 over TLS verified against ServingCAPEM. Stop stops it before the
// control plane.
func (cp *ControlPlane) StartExtensionServer(ctx context.Context, opts ExtensionServerOptions) (*ExtensionServer, error) {
	if opts.Name == "" || opts.Binary == "" || opts.Port == 0 || len(opts.ServingCAPEM) == 0 {
		return nil, errors.New("ExtensionServerOptions: Name, Binary, Port and ServingCAPEM are required")
	}
	if opts.Dir == "" {
		opts.Dir = cp.Dir
	}
	if opts.HealthPath == "" {
		opts.HealthPath = "/healthz"
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = cp.opts.ReadyTimeout
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = 10 * time.Second
	}
	p, err := startProcess(opts.Name, opts.Binary, opts.Args, opts.Dir)
	if err != nil {
		return nil, err
	}
	cp.addExtra(p)
	s := &ExtensionServer{URL: "https://" + hostPort(opts.Port), Port: opts.Port, Process: p, stopGrace: opts.StopGrace}

	if err := p.waitHealthy(ctx, s.URL, opts.HealthPath, opts.ServingCAPEM, opts.ServerName, opts.ReadyTimeout, opts.StopGrace); err != nil {
		return nil, fmt.Errorf("%s on port %s: %w", opts.Name, strconv.Itoa(opts.Port), err)
	}
	return s, nil
}

// waitHealthy waits until the process serves path over HTTPS at url, verified against
// caPEM (for serverName, when set); on failure it stops the process.
func (p *Process) waitHealthy(ctx context.Context, url, path string, caPEM []byte, serverName string, timeout, stopGrace time.Duration) error {
	hc, err := NewTLSClient(caPEM, nil)
	if err != nil {
		_ = p.Stop(stopGrace) // the client error is the one to report
		return err
	}
	if serverName != "" {
		hc.Transport.(*http.Transport).TLSClientConfig.ServerName = serverName
	}
	client := &Client{BaseURL: url, HTTPClient: hc}
	err = p.waitReady(ctx, timeout, func(ctx context.Context) error {
		return client.Get(ctx, path, new([]byte))
	})
	if err != nil {
		_ = p.Stop(stopGrace) // the readiness error is the one to report
	}
	return err
}
