package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// FrontProxyClientName is the CN kube-apiserver's proxy client certificate
	// must have; it is the default --requestheader-allowed-names.
	FrontProxyClientName = "front-proxy-client"
	// AdminUser is the user name of the admin client certificate (group system:masters).
	AdminUser = "aggapi-e2e-admin"
	// ServiceClusterIPRange is the (never routed) service IP range.
	ServiceClusterIPRange = "10.0.0.0/24"
	// ServiceAccountIssuer is the issuer of service-account tokens.
	ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// FrontProxy is the requestheader (front-proxy) CA and the client certificate
// kube-apiserver presents to aggregated API servers
// (--requestheader-client-ca-file, --proxy-client-cert-file/--proxy-client-key-file).
// Give either the three files or the three PEM blobs.
type FrontProxy struct {
	CAFile, ClientCertFile, ClientKeyFile string
	CAPEM, ClientCertPEM, ClientKeyPEM    []byte
}

// Options configure Start. The zero value plus Binaries is a working setup.
type Options struct {
	Binaries Binaries

	// Dir holds certificates, kubeconfigs, logs and etcd's data. If empty a
	// temporary directory is created, and removed by Stop.
	Dir string
	// KeepDir keeps a created Dir after Stop (for debugging).
	KeepDir bool

	// FrontProxy, if non-nil, is used instead of a generated front-proxy CA
	// and client certificate.
	FrontProxy *FrontProxy
	// RequestHeaderAllowedNames defaults to [FrontProxyClientName].
	RequestHeaderAllowedNames []string
	// DisableAggregatorRouting runs kube-apiserver with
	// --enable-aggregator-routing=false, which is needed to reach an aggregated
	// API server on loopback (see the package documentation).
	DisableAggregatorRouting bool

	// StartControllerManager also runs kube-controller-manager with only the
	// clusterrole-aggregation controller, so that ClusterRoles labelled
	// aggregate-to-view/edit/admin are folded into view/edit/admin.
	StartControllerManager bool

	// Extra command-line flags, appended last so they can override defaults.
	APIServerExtraArgs         []string
	ControllerManagerExtraArgs []string

	// ReadyTimeout bounds the wait for each component (default 90s).
	ReadyTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL (default 15s).
	StopGrace time.Duration
	// Logf receives progress messages (default: discarded).
	Logf func(format string, args ...any)
}

// PKIFiles are the paths of the generated (or injected) certificates and keys.
type PKIFiles struct {
	CACert, CAKey                 string // cluster CA: serving certs and --client-ca-file
	ServingCert, ServingKey       string // kube-apiserver serving certificate
	AdminCert, AdminKey           string // admin client certificate (O=system:masters)
	ServiceAccountKey             string // --service-account-signing-key-file
	ServiceAccountPub             string // --service-account-key-file
	FrontProxyCA                  string // --requestheader-client-ca-file
	FrontProxyCert, FrontProxyKey string // --proxy-client-cert-file/--proxy-client-key-file
}

// ControlPlane is a running control plane. Create it with Start.
type ControlPlane struct {
	Dir     string
	EtcdURL string // http://127.0.0.1:<port>
	URL     string // https://127.0.0.1:<port> of kube-apiserver
	// Kubeconfig is an admin (system:masters) kubeconfig for URL.
	Kubeconfig string
	PKI        PKIFiles
	// CA is the cluster CA. It signs kube-apiserver's serving certificate and
	// any client certificate it signs is accepted (--client-ca-file).
	CA *CA
	// Admin is the admin client certificate.
	Admin KeyPair
	// ControllerManagerURL is https://127.0.0.1:<port> of
	// kube-controller-manager, if it runs.
	ControllerManagerURL string

	opts      Options
	ownsDir   bool
	etcd      *Process
	apiserver *Process
	kcm       *Process

	mu       sync.Mutex
	extras   []*Process // stopped first, in reverse start order
	stopOnce sync.Once
	stopErr  error
}

// Start generates the PKI, starts etcd and kube-apiserver (and
// kube-controller-manager if asked) and waits until they are ready. On error
// everything already started is stopped again, and the error includes the
// end of the failing component's log.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, retErr error) {
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 90 * time.Second
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = 15 * time.Second
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if len(opts.RequestHeaderAllowedNames) == 0 {
		opts.RequestHeaderAllowedNames = []string{FrontProxyClientName}
	}
	if opts.Binaries.Etcd == "" || opts.Binaries.KubeAPIServer == "" {
		return nil, errors.New("Options.Binaries must name at least etcd and kube-apiserver (see FindBinaries)")
	}
	if opts.StartControllerManager && opts.Binaries.KubeControllerManager == "" {
		return nil, errors.New("StartControllerManager needs Options.Binaries.KubeControllerManager")
	}

	cp := &ControlPlane{opts: opts, Dir: opts.Dir}
	if cp.Dir == "" {
		dir, err := os.MkdirTemp("", "aggapi-e2e-")
		if err != nil {
			return nil, fmt.Errorf("creating work directory: %w", err)
		}
		cp.Dir, cp.ownsDir = dir, true
	} else if err := os.MkdirAll(cp.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating work directory: %w", err)
	}
	defer func() {
		if retErr != nil {
			// Keep the logs for a post-mortem but not etcd's data (tens of MB).
			cp.opts.KeepDir = true
			if err := cp.Stop(); err != nil {
				opts.Logf("stopping after failed start: %v", err)
			}
			os.RemoveAll(filepath.Join(cp.Dir, "etcd-data"))
			retErr = fmt.Errorf("%w (logs in %s)", retErr, cp.Dir)
		}
	}()

	t0 := time.Now()
	if err := cp.writePKI(); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	if err := cp.startEtcd(ctx, ports[0], ports[1]); err != nil {
		return nil, err
	}
	opts.Logf("etcd ready at %s after %v", cp.EtcdURL, time.Since(t0).Round(time.Millisecond))
	t1 := time.Now()
	if err := cp.startAPIServer(ctx, ports[2]); err != nil {
		return nil, err
	}
	opts.Logf("kube-apiserver ready at %s after %v", cp.URL, time.Since(t1).Round(time.Millisecond))
	if opts.StartControllerManager {
		t2 := time.Now()
		if err := cp.startControllerManager(ctx); err != nil {
			return nil, err
		}
		opts.Logf("kube-controller-manager ready at %s after %v", cp.ControllerManagerURL, time.Since(t2).Round(time.Millisecond))
	}
	return cp, nil
}

func (cp *ControlPlane) pkiPath(name string) string { return filepath.Join(cp.Dir, "pki", name) }

func (cp *ControlPlane) writePKI() error {
	if err := os.MkdirAll(filepath.Join(cp.Dir, "pki"), 0o700); err != nil {
		return fmt.Errorf("creating pki directory: %w", err)
	}
	pkiDir := filepath.Join(cp.Dir, "pki")
	ca, err := NewCA("aggapi-e2e-cluster-ca")
	if err != nil {
		return err
	}
	cp.CA = ca
	if cp.PKI.CACert, cp.PKI.CAKey, err = ca.WriteFiles(pkiDir, "ca"); err != nil {
		return err
	}

	serving, err := ca.ServingCert("kube-apiserver",
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		[]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback, net.ParseIP("10.0.0.1")})
	if err != nil {
		return err
	}
	if cp.PKI.ServingCert, cp.PKI.ServingKey, err = serving.WriteFiles(pkiDir, "apiserver"); err != nil {
		return err
	}

	if cp.Admin, err = ca.ClientCert(AdminUser, "system:masters"); err != nil {
		return err
	}
	if cp.PKI.AdminCert, cp.PKI.AdminKey, err = cp.Admin.WriteFiles(pkiDir, "admin"); err != nil {
		return err
	}

	saPriv, saPub, err := newServiceAccountKey()
	if err != nil {
		return err
	}
	cp.PKI.ServiceAccountKey, cp.PKI.ServiceAccountPub = cp.pkiPath("sa.key"), cp.pkiPath("sa.pub")
	if err := os.WriteFile(cp.PKI.ServiceAccountKey, saPriv, 0o600); err != nil {
		return fmt.Errorf("writing service-account key: %w", err)
	}
	if err := os.WriteFile(cp.PKI.ServiceAccountPub, saPub, 0o600); err != nil {
		return fmt.Errorf("writing service-account public key: %w", err)
	}

	if err := cp.writeFrontProxy(pkiDir); err != nil {
		return err
	}

	// The admin kubeconfig can be written before the server runs.
	cp.Kubeconfig = filepath.Join(cp.Dir, "admin.kubeconfig")
	return nil
}

func (cp *ControlPlane) writeFrontProxy(pkiDir string) error {
	fp := cp.opts.FrontProxy
	switch {
	case fp == nil:
		ca, err := NewCA("aggapi-e2e-front-proxy-ca")
		if err != nil {
			return err
		}
		client, err := ca.ClientCert(FrontProxyClientName)
		if err != nil {
			return err
		}
		if cp.PKI.FrontProxyCA, _, err = ca.WriteFiles(pkiDir, "front-proxy-ca"); err != nil {
			return err
		}
		cp.PKI.FrontProxyCert, cp.PKI.FrontProxyKey, err = client.WriteFiles(pkiDir, "front-proxy-client")
		return err
	case fp.CAFile != "" && fp.ClientCertFile != "" && fp.ClientKeyFile != "":
		cp.PKI.FrontProxyCA, cp.PKI.FrontProxyCert, cp.PKI.FrontProxyKey = fp.CAFile, fp.ClientCertFile, fp.ClientKeyFile
		return nil
	case len(fp.CAPEM) > 0 && len(fp.ClientCertPEM) > 0 && len(fp.ClientKeyPEM) > 0:
		cp.PKI.FrontProxyCA = filepath.Join(pkiDir, "front-proxy-ca.crt")
		if err := os.WriteFile(cp.PKI.FrontProxyCA, fp.CAPEM, 0o600); err != nil {
			return fmt.Errorf("writing front-proxy CA: %w", err)
		}
		var err error
		cp.PKI.FrontProxyCert, cp.PKI.FrontProxyKey, err = KeyPair{CertPEM: fp.ClientCertPEM, KeyPEM: fp.ClientKeyPEM}.WriteFiles(pkiDir, "front-proxy-client")
		return err
	default:
		return errors.New("Options.FrontProxy: set all of CAFile, ClientCertFile, ClientKeyFile or all of CAPEM, ClientCertPEM, ClientKeyPEM")
	}
}

func (cp *ControlPlane) startEtcd(ctx context.Context, clientPort, peerPort int) error {
	clientURL := "http://" + hostPort(clientPort)
	peerURL := "http://" + hostPort(peerPort)
	args := []string{
		"--name=e2e",
		"--data-dir=" + filepath.Join(cp.Dir, "etcd-data"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		// The peer port is never used by a one-member cluster, but etcd binds
		// it anyway, by default on :2380; pin it to a free loopback port.
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=e2e=" + peerURL,
		"--logger=zap",
		"--log-level=warn",
	}
	p, err := startProcess("etcd", cp.opts.Binaries.Etcd, args, cp.Dir)
	if err != nil {
		return err
	}
	cp.etcd, cp.EtcdURL = p, clientURL
	client := &Client{BaseURL: clientURL, HTTPClient: plainHTTPClient()}
	return p.waitReady(ctx, cp.opts.ReadyTimeout, func(ctx context.Context) error {
		var health struct {
			Health string `json:"health"`
		}
		if err := client.Get(ctx, "/health", &health); err != nil {
			return err
		}
		if health.Health != "true" {
			return fmt.Errorf("etcd /health: %q", health.Health)
		}
		return nil
	})
}

func (cp *ControlPlane) startAPIServer(ctx context.Context, port int) error {
	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		// The default (lease) reconciler publishes the advertise address in the
		// default/kubernetes Endpoints, where validation rejects loopback IPs.
		"--endpoint-reconciler-type=none",
		"--etcd-servers=" + cp.EtcdURL,
		"--service-cluster-ip-range=" + ServiceClusterIPRange,
		"--tls-cert-file=" + cp.PKI.ServingCert,
		"--tls-private-key-file=" + cp.PKI.ServingKey,
		"--client-ca-file=" + cp.PKI.CACert,
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=" + ServiceAccountIssuer,
		"--service-account-key-file=" + cp.PKI.ServiceAccountPub,
		"--service-account-signing-key-file=" + cp.PKI.ServiceAccountKey,
		// Aggregation layer.
		"--requestheader-client-ca-file=" + cp.PKI.FrontProxyCA,
		"--requestheader-allowed-names=" + strings.Join(cp.opts.RequestHeaderAllowedNames, ","),
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-username-headers=X-Remote-User",
		"--proxy-client-cert-file=" + cp.PKI.FrontProxyCert,
		"--proxy-client-key-file=" + cp.PKI.FrontProxyKey,
		"--enable-aggregator-routing=" + strconv.FormatBool(!cp.opts.DisableAggregatorRouting),
		"--v=1",
	}
	args = append(args, cp.opts.APIServerExtraArgs...)
	p, err := startProcess("kube-apiserver", cp.opts.Binaries.KubeAPIServer, args, cp.Dir)
	if err != nil {
		return err
	}
	cp.apiserver, cp.URL = p, "https://"+hostPort(port)
	if err := WriteKubeconfig(cp.Kubeconfig, cp.URL, cp.CA.CertPEM, AdminUser,
		Credentials{ClientCertPEM: cp.Admin.CertPEM, ClientKeyPEM: cp.Admin.KeyPEM}); err != nil {
		return err
	}
	client, err := cp.AdminClient()
	if err != nil {
		return err
	}
	return p.waitReady(ctx, cp.opts.ReadyTimeout, func(ctx context.Context) error {
		var body []byte
		return client.Get(ctx, "/readyz", &body)
	})
}

func (cp *ControlPlane) startControllerManager(ctx context.Context) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	certDir := filepath.Join(cp.Dir, "kube-controller-manager")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return fmt.Errorf("creating kube-controller-manager directory: %w", err)
	}
	args := []string{
		"--kubeconfig=" + cp.Kubeconfig,
		"--authentication-kubeconfig=" + cp.Kubeconfig,
		"--authorization-kubeconfig=" + cp.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[0]),
		// Self-signed serving certificate, generated into this directory.
		"--cert-dir=" + certDir,
		// Only aggregate ClusterRoles: nothing else is useful without kubelets.
		"--controllers=clusterrole-aggregation-controller",
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--v=1",
	}
	args = append(args, cp.opts.ControllerManagerExtraArgs...)
	p, err := startProcess("kube-controller-manager", cp.opts.Binaries.KubeControllerManager, args, cp.Dir)
	if err != nil {
		return err
	}
	cp.kcm, cp.ControllerManagerURL = p, "https://"+hostPort(ports[0])
	// /healthz is always allowed; the certificate is self-signed, hence no CA.
	probe, err := NewTLSClient(nil, nil)
	if err != nil {
		return err
	}
	client := &Client{BaseURL: cp.ControllerManagerURL, HTTPClient: probe}
	return p.waitReady(ctx, cp.opts.ReadyTimeout, func(ctx context.Context) error {
		var body []byte
		return client.Get(ctx, "/healthz", &body)
	})
}

// AdminClient returns a client authenticated as the admin (system:masters).
func (cp *ControlPlane) AdminClient() (*Client, error) {
	return cp.ClientFor(Credentials{ClientCertPEM: cp.Admin.CertPEM, ClientKeyPEM: cp.Admin.KeyPEM})
}

// ClientFor returns a client for kube-apiserver with the given credentials
// (a client certificate, a bearer token, or neither for anonymous).
func (cp *ControlPlane) ClientFor(creds Credentials) (*Client, error) {
	var kp *KeyPair
	if len(creds.ClientCertPEM) > 0 {
		kp = &KeyPair{CertPEM: creds.ClientCertPEM, KeyPEM: creds.ClientKeyPEM}
	}
	hc, err := NewTLSClient(cp.CA.CertPEM, kp)
	if err != nil {
		return nil, err
	}
	return &Client{BaseURL: cp.URL, HTTPClient: hc, BearerToken: creds.Token}, nil
}

// WriteKubeconfig writes a kubeconfig for this control plane and the given
// user and credentials.
func (cp *ControlPlane) WriteKubeconfig(path, user string, creds Credentials) error {
	return WriteKubeconfig(path, cp.URL, cp.CA.CertPEM, user, creds)
}

// ServiceAccountToken requests a token for an existing service account via
// the TokenRequest API.
func (cp *ControlPlane) ServiceAccountToken(ctx context.Context, namespace, name string, ttl time.Duration) (string, error) {
	client, err := cp.AdminClient()
	if err != nil {
		return "", err
	}
	req := map[string]any{
		"apiVersion": "authentication.k8s.io/v1",
		"kind":       "TokenRequest",
		"spec":       map[string]any{"expirationSeconds": int64(ttl.Seconds())},
	}
	var resp struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	path := fmt.Sprintf("/api/v1/namespaces/%s/serviceaccounts/%s/token", namespace, name)
	if err := client.Create(ctx, path, req, &resp); err != nil {
		return "", fmt.Errorf("requesting token for service account %s/%s: %w", namespace, name, err)
	}
	if resp.Status.Token == "" {
		return "", fmt.Errorf("empty token for service account %s/%s", namespace, name)
	}
	return resp.Status.Token, nil
}

// addExtra registers a process (e.g. an aggregated API server) to be stopped
// by Stop before the control plane itself.
func (cp *ControlPlane) addExtra(p *Process) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.extras = append(cp.extras, p)
}

// Processes returns every process started so far, in start order.
func (cp *ControlPlane) Processes() []*Process {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var ps []*Process
	for _, p := range []*Process{cp.etcd, cp.apiserver, cp.kcm} {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return append(ps, cp.extras...)
}

// DumpLogs writes the last lines of every process's log to w.
func (cp *ControlPlane) DumpLogs(w io.Writer, lines int) {
	for _, p := range cp.Processes() {
		fmt.Fprintf(w, "===== %s (%s) =====\n%s\n", p.Name, p.LogPath, p.LogTail(lines))
	}
}

// Stop stops all processes in reverse dependency order: registered extra
// processes (newest first), kube-controller-manager, kube-apiserver, and etcd
// last (kube-apiserver hangs for minutes if etcd goes away first). Each gets
// SIGTERM, then SIGKILL after Options.StopGrace. Then the work directory is
// removed if Start created it, unless KeepDir. Safe to call more than once.
func (cp *ControlPlane) Stop() error {
	cp.stopOnce.Do(func() {
		cp.mu.Lock()
		order := make([]*Process, 0, len(cp.extras)+3)
		for i := len(cp.extras) - 1; i >= 0; i-- {
			order = append(order, cp.extras[i])
		}
		cp.mu.Unlock()
		order = append(order, cp.kcm, cp.apiserver, cp.etcd)
		var errs []error
		for _, p := range order {
			if p == nil {
				continue
			}
			start := time.Now()
			if err := p.Stop(cp.opts.StopGrace); err != nil {
				errs = append(errs, err)
			}
			cp.opts.Logf("stopped %s in %v", p.Name, time.Since(start).Round(time.Millisecond))
			if p.SlowToStop() {
				cp.opts.Logf("%s did not exit within %v of SIGTERM and was stopped with SIGQUIT; where it was:\n%s", p.Name, cp.opts.StopGrace, p.StopReport())
			}
		}
		if cp.ownsDir && !cp.opts.KeepDir && len(errs) == 0 {
			if err := os.RemoveAll(cp.Dir); err != nil {
				errs = append(errs, fmt.Errorf("removing %s: %w", cp.Dir, err))
			}
		}
		cp.stopErr = errors.Join(errs...)
	})
	return cp.stopErr
}

// Kubectl runs the pinned kubectl (Options.Binaries.Kubectl) as admin
// against this control plane and returns its standard output. stdin may be
// nil. A failure's error includes kubectl's standard error.
func (cp *ControlPlane) Kubectl(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	if cp.opts.Binaries.Kubectl == "" {
		return nil, errors.New("no kubectl binary (Options.Binaries.Kubectl)")
	}
	cmd := exec.CommandContext(ctx, cp.opts.Binaries.Kubectl, append([]string{"--kubeconfig=" + cp.Kubeconfig}, args...)...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}
