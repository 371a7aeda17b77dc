package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

const (
	// Name is the node's name (and the kubelet's hostname).
	Name = "aggapi-e2e-node"
	// SandboxImage is the pod sandbox image: the pause binary, imported at start.
	SandboxImage = "registry.k8s.io/pause:3.10"
	// EtcdPort is where pods reach the control plane's etcd on NodeIP (a
	// sample-apiserver in a pod stores its objects there).
	EtcdPort = 2379

	containerdSocket = "/run/containerd/containerd.sock"
	kubeletRoot      = "/var/lib/kubelet"
	criNamespace     = "k8s.io"
)

// ControlPlaneOptions returns opts changed so that a node can join: kube-apiserver
// listens on the node's address as well (pods reach it through the kubernetes
// Service, whose endpoint is the node's address) and kube-controller-manager runs
// what pods on a node need (Deployments, ReplicaSets, endpoints, the root CA
// ConfigMap for service-account volumes, PodDisruptionBudgets, the node's
// not-ready taint). Not the garbage collector: its watches on every aggregated
// resource hold an old sample-apiserver open until its grace period ends.
func ControlPlaneOptions(opts controlplane.Options) controlplane.Options {
	opts.StartControllerManager = true
	opts.APIServerExtraArgs = append(opts.APIServerExtraArgs,
		"--bind-address=0.0.0.0", // inside the node's network namespace
		"--advertise-address="+NodeIP.String(),
		"--endpoint-reconciler-type=lease",
	)
	opts.ControllerManagerExtraArgs = append(opts.ControllerManagerExtraArgs,
		// Added to the control plane's list (a repeated list flag appends).
		"--controllers=deployment-controller,replicaset-controller,endpoints-controller,endpointslice-controller,"+
			"root-ca-certificate-publisher-controller,disruption-controller,serviceaccount-controller,"+
			// Lifts the not-ready taint the kubelet registers the node with.
			"node-lifecycle-controller",
	)
	return opts
}

// Node is a running node. Start it with Start; Stop (run by Start's cleanup)
// removes every trace of it.
type Node struct {
	// Dir holds the node's configuration, certificates and logs (on the
	// namespace's private /var/lib).
	Dir string
	cp  *controlplane.ControlPlane
	bin Binaries

	logf       func(string, ...any)
	cgroupRoot string

	mu       sync.Mutex
	procs    []*controlplane.Process // in start order
	etcdLn   net.Listener
	stopOnce sync.Once
}

// Start starts containerd, the kubelet, kube-proxy and kube-scheduler joined to
// cp, imports the sandbox image and waits until the node is Ready. The test is
// skipped (failed with E2E_REQUIRE=1) when a node cannot run here; the node is
// stopped and removed in tb.Cleanup, with the ends of its logs if the test failed.
func Start(tb testing.TB, cp *controlplane.ControlPlane) *Node {
	tb.Helper()
	bin := Require(tb)
	n := &Node{
		Dir:        filepath.Join(stateDir, fmt.Sprintf("%d", time.Now().UnixNano())),
		cp:         cp,
		bin:        bin,
		logf:       tb.Logf,
		cgroupRoot: os.Getenv(envInside),
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("node logs:\n%s", n.LogTails(60))
		}
		t0 := time.Now()
		if err := n.Stop(); err != nil {
			tb.Errorf("stopping the node: %v", err)
		}
		tb.Logf("node stopped and removed in %v", time.Since(t0).Round(time.Millisecond))
	})
	t0 := time.Now()
	if err := n.start(tb.Context()); err != nil {
		tb.Fatalf("starting the node: %v", err)
	}
	tb.Logf("node %s Ready after %v", Name, time.Since(t0).Round(time.Millisecond))
	return n
}

func (n *Node) start(ctx context.Context) error {
	for _, dir := range []string{"pki", "logs", "cni", "images"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, dir), 0o700); err != nil {
			return err
		}
	}
	if err := createCgroupRoot(n.cgroupRoot); err != nil {
		return err
	}
	if err := n.proxyEtcd(); err != nil {
		return err
	}
	if err := n.writeConfig(); err != nil {
		return err
	}
	if err := n.startContainerd(ctx); err != nil {
		return err
	}
	if err := n.ImportBinaryImage(ctx, SandboxImage, n.bin.Pause); err != nil {
		return err
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	if err := n.startKubelet(ctx, ports[0]); err != nil {
		return err
	}
	if err := n.startKubeProxy(ctx, ports[1], ports[2]); err != nil {
		return err
	}
	return n.startScheduler(ctx, ports[3])
}

func (n *Node) path(elem ...string) string { return filepath.Join(append([]string{n.Dir}, elem...)...) }

// writeConfig writes the certificates, kubeconfigs and configuration files.
func (n *Node) writeConfig() error {
	pki := n.path("pki")
	ca := n.cp.CA
	serving, err := ca.ServingCert(Name, []string{Name}, []net.IP{net.IP(NodeIP.AsSlice())})
	if err != nil {
		return err
	}
	if _, _, err := serving.WriteFiles(pki, "kubelet-serving"); err != nil {
		return err
	}
	if err := os.WriteFile(n.path("pki", "ca.crt"), ca.CertPEM, 0o600); err != nil {
		return err
	}
	// The kubelet and kube-proxy have their own identities (the Node authorizer
	// and the system:node-proxier binding decide what they may do).
	for _, id := range []struct{ file, user, group string }{
		{"kubelet.kubeconfig", "system:node:" + Name, "system:nodes"},
		{"kube-proxy.kubeconfig", "system:kube-proxy", ""},
	} {
		var groups []string
		if id.group != "" {
			groups = append(groups, id.group)
		}
		kp, err := ca.ClientCert(id.user, groups...)
		if err != nil {
			return err
		}
		if err := n.cp.WriteKubeconfig(n.path(id.file), id.user,
			controlplane.Credentials{ClientCertPEM: kp.CertPEM, ClientKeyPEM: kp.KeyPEM}); err != nil {
			return err
		}
	}
	files := map[string]string{
		"containerd.toml":            n.containerdConfig(),
		"cni/10-aggapi-e2e.conflist": cniConfig,
	}
	for name, content := range files {
		if err := os.WriteFile(n.path(name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (n *Node) containerdConfig() string {
	return fmt.Sprintf(`version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # runc cannot lower its own oom_score_adj here (no CAP_SYS_RESOURCE): every
  # sandbox failed with "can't get final child's PID from pipe: EOF" without it.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = %q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q

[plugins."io.containerd.internal.v1.opt"]
  path = "/var/lib/containerd/opt"
`, containerdSocket, SandboxImage, n.bin.Runc, n.bin.CNIDir, n.path("cni"))
}

// cniConfig is a bridge network with host-local addresses; its IPAM state is on
// the private /run.
var cniConfig = fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "aggapi-e2e",
  "plugins": [{
    "type": "bridge",
    "bridge": "cni0",
    "isGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {
      "type": "host-local",
      "dataDir": "/run/aggapi-e2e-node-ipam",
      "ranges": [[{"subnet": %q}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
`, PodCIDR.String())

func (n *Node) startProcess(name, bin string, args ...string) (*controlplane.Process, error) {
	p, err := controlplane.StartProcess(name, bin, args, n.path("logs"))
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.procs = append(n.procs, p)
	n.mu.Unlock()
	return p, nil
}

func (n *Node) startContainerd(ctx context.Context) error {
	p, err := n.startProcess("containerd", n.bin.Containerd, "--config", n.path("containerd.toml"))
	if err != nil {
		return err
	}
	return p.WaitReady(ctx, 30*time.Second, func(ctx context.Context) error {
		_, err := n.Ctr(ctx, "version")
		return err
	})
}

// Ctr runs ctr against the node's containerd in the CRI namespace.
func (n *Node) Ctr(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, n.bin.Ctr, append([]string{"--address", containerdSocket, "--namespace", criNamespace}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// ImportBinaryImage builds an image of one static binary (WriteBinaryImage)
// named ref and imports it into the node's containerd, so that pods with
// imagePullPolicy IfNotPresent run it without a registry.
func (n *Node) ImportBinaryImage(ctx context.Context, ref, binary string) error {
	tarball := n.path("images", strings.NewReplacer("/", "_", ":", "_").Replace(ref)+".tar")
	f, err := os.Create(tarball)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = WriteBinaryImage(w, ref, binary)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the image %s: %w", ref, err)
	}
	defer os.Remove(tarball)
	if _, err := n.Ctr(ctx, "images", "import", tarball); err != nil {
		return fmt.Errorf("importing the image %s: %w", ref, err)
	}
	out, err := n.Ctr(ctx, "images", "ls", "--quiet")
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Fields(string(out)), ref) {
		return fmt.Errorf("ctr images import did not name the image %s (images: %s)", ref, strings.Fields(string(out)))
	}
	return nil
}

func (n *Node) startKubelet(ctx context.Context, healthzPort int) error {
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 needs both (and the kubelet's own cgroup driver: containerd 1.6 cannot say).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /%s
containerRuntimeEndpoint: unix://%s
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
tlsCertFile: %s
tlsPrivateKeyFile: %s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization: {mode: Webhook}
failSwapOn: false
# No cluster DNS here: pods get an empty resolv.conf.
resolvConf: ""
evictionHard: {memory.available: 1Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 30
`, n.cgroupRoot, containerdSocket, NodeIP, healthzPort,
		n.path("pki", "kubelet-serving.crt"), n.path("pki", "kubelet-serving.key"), n.path("pki", "ca.crt"))
	if err := os.WriteFile(n.path("kubelet.yaml"), []byte(config), 0o600); err != nil {
		return err
	}
	p, err := n.startProcess("kubelet", n.bin.Kubelet,
		"--config="+n.path("kubelet.yaml"),
		"--kubeconfig="+n.path("kubelet.kubeconfig"),
		"--root-dir="+kubeletRoot,
		"--hostname-override="+Name,
		"--node-ip="+NodeIP.String(),
		"--v=1",
	)
	if err != nil {
		return err
	}
	admin, err := n.cp.AdminClient()
	if err != nil {
		return err
	}
	return p.WaitReady(ctx, 90*time.Second, func(ctx context.Context) error {
		var node struct {
			Spec struct {
				Taints []struct{ Key, Effect string } `json:"taints"`
			} `json:"spec"`
			Status struct {
				Conditions []struct{ Type, Status, Reason, Message string } `json:"conditions"`
			} `json:"status"`
		}
		if err := admin.Get(ctx, "/api/v1/nodes/"+Name, &node); err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == "Ready" {
				if c.Status != "True" {
					return fmt.Errorf("node Ready=%s: %s: %s", c.Status, c.Reason, c.Message)
				}
				if len(node.Spec.Taints) > 0 {
					return fmt.Errorf("node Ready but tainted %v", node.Spec.Taints)
				}
				return nil
			}
		}
		return errors.New("node has no Ready condition yet")
	})
}

func (n *Node) startKubeProxy(ctx context.Context, healthzPort, metricsPort int) error {
	config := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: %s}
hostnameOverride: %s
bindAddress: %s
healthzBindAddress: 127.0.0.1:%d
metricsBindAddress: 127.0.0.1:%d
clusterCIDR: %s
# Zero leaves the machine-wide conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`, n.path("kube-proxy.kubeconfig"), Name, NodeIP, healthzPort, metricsPort, PodCIDR)
	if err := os.WriteFile(n.path("kube-proxy.yaml"), []byte(config), 0o600); err != nil {
		return err
	}
	p, err := n.startProcess("kube-proxy", n.bin.KubeProxy, "--config="+n.path("kube-proxy.yaml"), "--v=1")
	if err != nil {
		return err
	}
	return p.WaitReady(ctx, 60*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", healthzPort))
	})
}

func (n *Node) startScheduler(ctx context.Context, port int) error {
	p, err := n.startProcess("kube-scheduler", n.bin.KubeScheduler,
		"--kubeconfig="+n.cp.Kubeconfig,
		"--authentication-kubeconfig="+n.cp.Kubeconfig,
		"--authorization-kubeconfig="+n.cp.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--leader-elect=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	// /healthz is always allowed; the certificate is self-signed, hence no CA.
	probe, err := controlplane.NewTLSClient(nil, nil)
	if err != nil {
		return err
	}
	client := &controlplane.Client{BaseURL: fmt.Sprintf("https://127.0.0.1:%d", port), HTTPClient: probe}
	return p.WaitReady(ctx, 60*time.Second, func(ctx context.Context) error {
		var body []byte
		return client.Get(ctx, "/healthz", &body)
	})
}

// proxyEtcd forwards NodeIP:EtcdPort to the control plane's etcd on loopback,
// which pods cannot reach.
func (n *Node) proxyEtcd() error {
	u, err := url.Parse(n.cp.EtcdURL)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(NodeIP.String(), strconv.Itoa(EtcdPort)))
	if err != nil {
		return fmt.Errorf("listening for pods' etcd connections: %w", err)
	}
	n.etcdLn = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", u.Host)
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return nil
}

func httpOK(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// LogTails returns the last lines of every node process's log.
func (n *Node) LogTails(lines int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var b strings.Builder
	for _, p := range n.procs {
		fmt.Fprintf(&b, "===== %s =====\n%s\n", p.Name, p.LogTail(lines))
	}
	return b.String()
}

// Stop ends the node and removes every trace of it in the namespace: the
// kubelet first (so nothing restarts), the pods' processes by cgroup, the shims
// and containerd by process id; then the mounts under the kubelet's and
// containerd's directories, their files, the cgroups, the bridge, and the
// Service rules. Safe to call more than once.
func (n *Node) Stop() error {
	var err error
	n.stopOnce.Do(func() { err = n.stop() })
	return err
}

func (n *Node) stop() error {
	var errs []error
	if n.etcdLn != nil {
		n.etcdLn.Close()
	}
	n.mu.Lock()
	procs := slices.Clone(n.procs)
	n.mu.Unlock()
	slices.Reverse(procs)
	var containerd *controlplane.Process
	for _, p := range procs {
		if p.Name == "containerd" {
			containerd = p
			continue
		}
		// The kubelet, kube-proxy and the scheduler keep no state worth a
		// graceful exit; SIGKILL is immediate (grace 0).
		_ = p.Stop(0)
	}
	// The pods' processes, by cgroup; then the shims (whose parent is this
	// process, the namespace's init, once containerd started them).
	if err := killTree(n.cgroupRoot); err != nil {
		errs = append(errs, err)
	}
	if err := killByExe("containerd-shim-runc-v2"); err != nil {
		errs = append(errs, err)
	}
	if containerd != nil {
		_ = containerd.Stop(0)
	}
	if err := unmountUnder("/run/containerd", "/run/netns", kubeletRoot, "/var/lib/containerd", n.Dir); err != nil {
		errs = append(errs, err)
	}
	for _, dir := range []string{"/run/containerd", "/run/netns", kubeletRoot, "/var/lib/containerd", "/var/lib/cni",
		"/run/aggapi-e2e-node-ipam", "/var/log/pods", "/var/log/containers", n.Dir} {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeCgroups(n.cgroupRoot); err != nil {
		errs = append(errs, err)
	}
	// The bridge and kube-proxy's rules live in this network namespace only; the
	// next node starts without them.
	_ = exec.Command("ip", "link", "del", "cni0").Run()
	for _, table := range []string{"nat", "filter", "mangle"} {
		_ = exec.Command("iptables", "-t", table, "-F").Run()
		_ = exec.Command("iptables", "-t", table, "-X").Run()
	}
	return errors.Join(errs...)
}

// killTree SIGKILLs every process in the cgroup root's tree, in every hierarchy.
func killTree(root string) error {
	dirs, err := cgroupCleanupDirs()
	if err != nil {
		return err
	}
	for _, h := range dirs {
		_ = filepath.WalkDir(filepath.Join(h, root), func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				killCgroupProcs(path)
			}
			return nil
		})
	}
	return nil
}

// killByExe SIGKILLs every process of this PID namespace running the named
// program and waits until they are gone.
func killByExe(name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []int
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return err
		}
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
			if err != nil || filepath.Base(strings.TrimSuffix(exe, " (deleted)")) != name {
				continue
			}
			left = append(left, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s processes %v still there after SIGKILL", name, left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// unmountUnder detaches every mount at or below the given directories, deepest
// first.
func unmountUnder(dirs ...string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var targets []string
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		for _, d := range dirs {
			if mp == d || strings.HasPrefix(mp, d+"/") {
				targets = append(targets, mp)
				break
			}
		}
	}
	slices.SortFunc(targets, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	var errs []error
	for _, t := range slices.Compact(targets) {
		if err := syscall.Unmount(t, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", t, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
