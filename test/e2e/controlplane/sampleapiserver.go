package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// SampleAPIServerOptions configure a k8s.io/sample-apiserver process (group
// wardle.example.com), the stand-in for an aggregated API server.
//
// The identity in the kubeconfigs needs what any aggregated API server needs:
// the system:auth-delegator ClusterRole, the
// extension-apiserver-authentication-reader Role in kube-system, and
// get/list/watch on namespaces, flowschemas and prioritylevelconfigurations
// (flowcontrol.apiserver.k8s.io) and on the admissionregistration.k8s.io
// webhook and policy configurations. An admin kubeconfig has all of that.
type SampleAPIServerOptions struct {
	// Binary is the sample-apiserver executable.
	Binary string
	// Name names the log file (<Dir>/<Name>.log); default "sample-apiserver".
	Name string
	// Dir holds the log file and, if generated, the serving certificate.
	Dir string

	// EtcdURL is the etcd to store wardle objects in, under EtcdPrefix
	// (default "/sample-apiserver"), so it can share the control plane's etcd.
	EtcdURL    string
	EtcdPrefix string

	// Kubeconfig is used for --kubeconfig (the "core" API server, for
	// admission and priority-and-fairness informers) and, unless set
	// separately, --authentication-kubeconfig and --authorization-kubeconfig.
	Kubeconfig               string
	AuthenticationKubeconfig string
	AuthorizationKubeconfig  string

	// TLSCertFile and TLSKeyFile are the serving certificate. If both are
	// empty a CA and a certificate for 127.0.0.1, localhost and
	// ServingDNSNames are generated (see SampleAPIServer.ServingCAPEM).
	TLSCertFile, TLSKeyFile string
	// ServingDNSNames are extra DNS names for a generated certificate, e.g.
	// "<service>.<namespace>.svc", the name the aggregator verifies.
	ServingDNSNames []string
	// ServingCAPEM, if set, verifies a given certificate during the readiness
	// probe, with ServerName as the expected name (default: 127.0.0.1; set it
	// when the certificate only covers a service name).
	// Without it the probe does not verify the certificate, which is
	// acceptable for a loopback readiness check only.
	ServingCAPEM []byte
	ServerName   string

	// Port is the --secure-port on 127.0.0.1; 0 picks a free one.
	Port int
	// ExtraArgs are appended last, so they can override defaults.
	ExtraArgs []string

	ReadyTimeout time.Duration // default 60s
	StopGrace    time.Duration // default 10s
}

// SampleAPIServer is a running sample-apiserver.
type SampleAPIServer struct {
	URL  string // https://127.0.0.1:<Port>
	Port int
	// TLSCertFile and TLSKeyFile are the serving certificate in use.
	TLSCertFile, TLSKeyFile string
	// ServingCAPEM is the CA of the serving certificate (for an APIService
	// caBundle), if it was generated or given.
	ServingCAPEM []byte
	Process      *Process

	stopGrace time.Duration
}

// Stop stops the process (SIGTERM, then SIGKILL after the grace period).
func (s *SampleAPIServer) Stop() error { return s.Process.Stop(s.stopGrace) }

// StartSampleAPIServer starts a sample-apiserver and waits until its /healthz
// answers 200 over TLS. The caller must Stop it before the control plane;
// ControlPlane.StartSampleAPIServer does that automatically.
func StartSampleAPIServer(ctx context.Context, opts SampleAPIServerOptions) (*SampleAPIServer, error) {
	if opts.Binary == "" || opts.Dir == "" || opts.EtcdURL == "" || opts.Kubeconfig == "" {
		return nil, errors.New("SampleAPIServerOptions: Binary, Dir, EtcdURL and Kubeconfig are required")
	}
	if (opts.TLSCertFile == "") != (opts.TLSKeyFile == "") {
		return nil, errors.New("SampleAPIServerOptions: set both TLSCertFile and TLSKeyFile, or neither")
	}
	if opts.Name == "" {
		opts.Name = "sample-apiserver"
	}
	if opts.EtcdPrefix == "" {
		opts.EtcdPrefix = "/sample-apiserver"
	}
	if opts.AuthenticationKubeconfig == "" {
		opts.AuthenticationKubeconfig = opts.Kubeconfig
	}
	if opts.AuthorizationKubeconfig == "" {
		opts.AuthorizationKubeconfig = opts.Kubeconfig
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = 10 * time.Second
	}
	if opts.Port == 0 {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		opts.Port = ports[0]
	}
	workDir := filepath.Join(opts.Dir, opts.Name)
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", workDir, err)
	}

	s := &SampleAPIServer{
		URL:          "https://" + hostPort(opts.Port),
		Port:         opts.Port,
		TLSCertFile:  opts.TLSCertFile,
		TLSKeyFile:   opts.TLSKeyFile,
		ServingCAPEM: opts.ServingCAPEM,
		stopGrace:    opts.StopGrace,
	}
	if s.TLSCertFile == "" {
		ca, err := NewCA("aggapi-e2e-" + opts.Name + "-ca")
		if err != nil {
			return nil, err
		}
		serving, err := ca.ServingCert(opts.Name, append([]string{"localhost"}, opts.ServingDNSNames...),
			[]net.IP{net.ParseIP("127.0.0.1")})
		if err != nil {
			return nil, err
		}
		if s.TLSCertFile, s.TLSKeyFile, err = serving.WriteFiles(workDir, "serving"); err != nil {
			return nil, err
		}
		s.ServingCAPEM = ca.CertPEM
	}

	args := []string{
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(opts.Port),
		"--tls-cert-file=" + s.TLSCertFile,
		"--tls-private-key-file=" + s.TLSKeyFile,
		// Unused while a certificate is given, but keeps anything the server
		// might generate out of the working directory of the test.
		"--cert-dir=" + workDir,
		"--etcd-servers=" + opts.EtcdURL,
		"--etcd-prefix=" + opts.EtcdPrefix,
		"--kubeconfig=" + opts.Kubeconfig,
		"--authentication-kubeconfig=" + opts.AuthenticationKubeconfig,
		"--authorization-kubeconfig=" + opts.AuthorizationKubeconfig,
		"--v=1",
	}
	args = append(args, opts.ExtraArgs...)
	p, err := startProcess(opts.Name, opts.Binary, args, opts.Dir)
	if err != nil {
		return nil, err
	}
	s.Process = p

	if err := p.waitHealthy(ctx, s.URL, "/healthz", s.ServingCAPEM, opts.ServerName, opts.ReadyTimeout, opts.StopGrace); err != nil {
		return nil, err
	}
	return s, nil
}

// StartSampleAPIServer starts a sample-apiserver against this control plane:
// unset options default to the control plane's binary, directory, etcd and
// admin kubeconfig, and the process is stopped by Stop before the control
// plane. EtcdPrefix defaults to a prefix unique to this instance.
func (cp *ControlPlane) StartSampleAPIServer(ctx context.Context, opts SampleAPIServerOptions) (*SampleAPIServer, error) {
	cp.mu.Lock()
	n := len(cp.extras)
	cp.mu.Unlock()
	if opts.Binary == "" {
		opts.Binary = cp.opts.Binaries.SampleAPIServer
	}
	if opts.Binary == "" {
		return nil, errors.New("no sample-apiserver binary (Options.Binaries.SampleAPIServer)")
	}
	if opts.Name == "" {
		opts.Name = "sample-apiserver-" + strconv.Itoa(n)
	}
	if opts.Dir == "" {
		opts.Dir = cp.Dir
	}
	if opts.EtcdURL == "" {
		opts.EtcdURL = cp.EtcdURL
	}
	if opts.EtcdPrefix == "" {
		opts.EtcdPrefix = "/" + opts.Name
	}
	if opts.Kubeconfig == "" {
		opts.Kubeconfig = cp.Kubeconfig
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = cp.opts.ReadyTimeout
	}
	s, err := StartSampleAPIServer(ctx, opts)
	if err != nil {
		return nil, err
	}
	cp.addExtra(s.Process)
	return s, nil
}
