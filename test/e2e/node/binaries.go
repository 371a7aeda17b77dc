package node

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// Binaries are the programs a node runs.
type Binaries struct {
	// From hack/e2e/install.sh's build (controlplane.BinDir).
	Kubelet, KubeScheduler, KubeProxy, Pause string
	// From the distribution (apt): containerd, ctr, runc and the CNI plugins' directory.
	Containerd, Ctr, Runc, CNIDir string
}

// cniPlugins are the CNI plugins the node's network configuration uses.
var cniPlugins = []string{"bridge", "host-local", "loopback"}

// FindBinaries locates the node's binaries; the error names every one missing.
func FindBinaries() (Binaries, error) {
	dir, err := controlplane.BinDir()
	if err != nil {
		return Binaries{}, err
	}
	var missing []string
	inBin := func(name string) string {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
		missing = append(missing, name+" (in "+dir+")")
		return ""
	}
	onPath := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name+" (on $PATH)")
			return ""
		}
		return p
	}
	b := Binaries{
		Kubelet:       inBin("kubelet"),
		KubeScheduler: inBin("kube-scheduler"),
		KubeProxy:     inBin("kube-proxy"),
		Pause:         inBin("pause"),
		Containerd:    onPath("containerd"),
		Ctr:           onPath("ctr"),
		Runc:          onPath("runc"),
		CNIDir:        "/usr/lib/cni",
	}
	onPath("containerd-shim-runc-v2")
	onPath("iptables")
	onPath("ip")
	for _, p := range cniPlugins {
		if _, err := os.Stat(filepath.Join(b.CNIDir, p)); err != nil {
			missing = append(missing, "CNI plugin "+p+" (in "+b.CNIDir+")")
		}
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("node binaries not found: %s: run hack/e2e/install.sh (or `make e2e-tools`)", strings.Join(missing, ", "))
	}
	return b, nil
}
