package node

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

const (
	// envInside marks the test binary re-run inside the namespaces; its value
	// is the cgroup directory name the run owns (see cgroupRootName).
	envInside = "AGGAPI_E2E_NODE_INSIDE"
	// envSkip carries why the namespaces could not be made, for Require.
	envSkip = "AGGAPI_E2E_NODE_SKIP"

	// The node's network: both ends of a veth pair inside the namespace, the
	// node's address on one of them. No default route: nothing can leave.
	hostVeth = "aggapi0"
	peerVeth = "aggapi1"
	// stateDir holds the node's files, on the namespace's private /var/lib.
	stateDir = "/var/lib/aggapi-e2e-node"
)

var (
	// NodeIP is the node's InternalIP; the control plane listens there too.
	NodeIP     = netip.MustParseAddr("10.200.0.1")
	nodePrefix = netip.MustParsePrefix("10.200.0.1/24")
	// PodCIDR is the bridge CNI network's range.
	PodCIDR = netip.MustParsePrefix("10.244.0.0/24")
)

// privateSysctls are the machine-wide kernel settings the kubelet writes
// (vm.overcommit_memory, vm.panic_on_oom, kernel.panic, kernel.panic_on_oops,
// kernel.keys.root_maxkeys and root_maxbytes): inside the mount namespace each
// is a bind mount of a private file holding the host's value.
var privateSysctls = []string{
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
}

// Main runs the tests of a package that uses a node (call it from TestMain).
// As root with the binaries present it re-runs the test binary in a new PID,
// mount and network namespace and exits with its status; otherwise, or when
// the namespaces cannot be set up, the tests run here and Require skips them
// with the reason.
func Main(m *testing.M) {
	if os.Getenv(envInside) != "" {
		if err := setUpNamespace(); err != nil {
			os.Setenv(envSkip, "setting up the node's namespaces: "+err.Error())
		}
		os.Exit(m.Run())
	}
	if reason := prerequisites(); reason != "" {
		os.Setenv(envSkip, reason)
		os.Exit(m.Run())
	}
	os.Exit(runInside(m))
}

// prerequisites says what is missing for a node, or "".
func prerequisites() string {
	if os.Geteuid() != 0 {
		return "a node needs root (namespaces, mounts, cgroups)"
	}
	if _, err := FindBinaries(); err != nil {
		return err.Error()
	}
	if _, err := controlplane.FindBinaries(); err != nil {
		return err.Error()
	}
	for _, ns := range []string{"pid", "mnt", "net"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			return "no " + ns + " namespaces: " + err.Error()
		}
	}
	if _, err := cgroupHierarchies(); err != nil {
		return err.Error()
	}
	return ""
}

// runInside re-runs the test binary in new namespaces, removes what a killed
// earlier run left behind first and what this run left afterwards, and returns
// the exit status. The child gets SIGKILL if this process dies; the kernel then
// ends every process of its PID namespace.
func runInside(m *testing.M) int {
	root := cgroupRootName(os.Getpid())
	if err := removeStaleCgroups(); err != nil {
		fmt.Fprintf(os.Stderr, "node: removing cgroups of an earlier run: %v\n", err)
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...) //nolint:gosec // this very test binary, with its own arguments
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envInside+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		// Namespaces refused (a container without CAP_SYS_ADMIN, say): the tests
		// run here and Require says why they cannot.
		os.Setenv(envSkip, "cannot create PID, mount and network namespaces: "+err.Error())
		return m.Run()
	}
	err := cmd.Wait()
	if cerr := removeCgroups(root); cerr != nil {
		fmt.Fprintf(os.Stderr, "node: removing this run's cgroups: %v\n", cerr)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "node: the test binary in the namespaces ended: %v\n", err)
		return 1
	}
	return 0
}

// setUpNamespace runs first in the new namespaces (as their PID 1).
func setUpNamespace() error {
	// Nothing mounted from here on propagates to the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making / private: %w", err)
	}
	// A /proc of this PID namespace: the kubelet and runc read it.
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %w", err)
	}
	// Private, memory-backed state: containerd's and the shims' sockets (/run),
	// the kubelet's and containerd's data and the CNI cache (/var/lib), pod logs.
	for _, dir := range []string{"/run", "/var/log", "/var/lib"} {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
		}
	}
	if err := privateSysctlCopies(filepath.Join("/run", "aggapi-e2e-node-sysctl")); err != nil {
		return err
	}
	return setUpNetwork()
}

func privateSysctlCopies(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, key := range privateSysctls {
		src := filepath.Join("/proc/sys", key)
		value, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("reading %s: %w", src, err)
		}
		cp := filepath.Join(dir, strings.ReplaceAll(key, "/", "."))
		if err := os.WriteFile(cp, value, 0o644); err != nil {
			return err
		}
		if err := syscall.Mount(cp, src, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mounting a private copy over %s: %w", src, err)
		}
	}
	return nil
}

func setUpNetwork() error {
	serviceCIDR := netip.MustParsePrefix(controlplane.ServiceClusterIPRange)
	steps := [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", hostVeth, "type", "veth", "peer", "name", peerVeth},
		{"addr", "add", nodePrefix.String(), "dev", hostVeth},
		{"link", "set", hostVeth, "up"},
		{"link", "set", peerVeth, "up"},
		// Locally sent packets to a ClusterIP need a route before kube-proxy's
		// DNAT (in OUTPUT) rewrites them.
		{"route", "add", serviceCIDR.String(), "dev", hostVeth, "src", NodeIP.String()},
	}
	for _, args := range steps {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// Require skips the test (fails it with E2E_REQUIRE=1) unless it runs in the
// node's namespaces with every binary present.
func Require(tb testing.TB) Binaries {
	tb.Helper()
	reason := os.Getenv(envSkip)
	if reason == "" && os.Getenv(envInside) == "" {
		reason = "not running in the node's namespaces: the package's TestMain must call node.Main"
	}
	var b Binaries
	if reason == "" {
		var err error
		if b, err = FindBinaries(); err != nil {
			reason = err.Error()
		}
	}
	if reason != "" {
		if os.Getenv(controlplane.EnvRequire) == "1" {
			tb.Fatalf("%s ($%s=1, so not skipping)", reason, controlplane.EnvRequire)
		}
		tb.Skipf("skipping: %s", reason)
	}
	return b
}

// cgroupRootName is the cgroup directory (in every hierarchy) a run's pods live
// under; the number is the outer test process, so a stale one can be told.
func cgroupRootName(pid int) string { return cgroupPrefix + strconv.Itoa(pid) }
