package controlplane

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

const (
	// EnvBinDir overrides the directory holding the built binaries
	// (default: <repo>/.cache/e2e/bin; a relative path is relative to the
	// repository root). hack/e2e/install.sh honours it too.
	EnvBinDir = "E2E_BIN_DIR"
	// EnvEtcd overrides the etcd binary (default: <bin dir>/etcd, then $PATH).
	EnvEtcd = "E2E_ETCD"
	// EnvRequire names the variable that, when "1", makes RequireBinaries fail the test instead of
	// skipping it, so that a CI job cannot go green by skipping everything.
	EnvRequire = "E2E_REQUIRE"

	installHint = "run hack/e2e/install.sh (or `make e2e-tools`) to install them"
)

// Binaries holds absolute paths of the programs the harness runs.
type Binaries struct {
	Etcd                  string
	KubeAPIServer         string
	KubeControllerManager string
	Kubectl               string
	SampleAPIServer       string
}

// MissingBinariesError lists the binaries FindBinaries could not find.
type MissingBinariesError struct {
	BinDir  string
	Missing []string
}

func (e *MissingBinariesError) Error() string {
	return fmt.Sprintf("e2e binaries not found (%s) in %s: %s",
		strings.Join(e.Missing, ", "), e.BinDir, installHint)
}

// BinDir returns the directory the binaries are expected in: $E2E_BIN_DIR, or
// <repo>/.cache/e2e/bin.
func BinDir() (string, error) {
	dir := os.Getenv(EnvBinDir)
	if filepath.IsAbs(dir) {
		return dir, nil
	}
	root, err := testutil.RepoRoot()
	if err != nil {
		return "", err
	}
	if dir != "" {
		// Relative to the repository root, not to the test's package directory.
		return filepath.Join(root, dir), nil
	}
	return filepath.Join(root, ".cache", "e2e", "bin"), nil
}

// FindBinaries locates all binaries. If any is missing it returns the ones it
// found together with a *MissingBinariesError.
func FindBinaries() (Binaries, error) {
	dir, err := BinDir()
	if err != nil {
		return Binaries{}, err
	}
	var missing []string
	find := func(name string) string {
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p
		}
		missing = append(missing, name)
		return ""
	}
	b := Binaries{
		KubeAPIServer:         find("kube-apiserver"),
		KubeControllerManager: find("kube-controller-manager"),
		Kubectl:               find("kubectl"),
		SampleAPIServer:       find("sample-apiserver"),
	}
	// etcd comes from the distribution (apt's etcd-server), so it is normally
	// on $PATH rather than in the bin directory.
	switch {
	case os.Getenv(EnvEtcd) != "":
		b.Etcd = os.Getenv(EnvEtcd)
		if !isExecutable(b.Etcd) {
			missing = append(missing, "etcd ($"+EnvEtcd+"="+b.Etcd+")")
			b.Etcd = ""
		}
	case isExecutable(filepath.Join(dir, "etcd")):
		b.Etcd = filepath.Join(dir, "etcd")
	default:
		if p, err := exec.LookPath("etcd"); err == nil {
			b.Etcd = p
		} else {
			missing = append(missing, "etcd (not on $PATH either)")
		}
	}
	if len(missing) > 0 {
		return b, &MissingBinariesError{BinDir: dir, Missing: missing}
	}
	return b, nil
}

// RequireBinaries returns the binaries, or skips the test (fails it when
// $E2E_REQUIRE=1) with a message saying how to install them.
func RequireBinaries(tb testing.TB) Binaries {
	tb.Helper()
	b, err := FindBinaries()
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("%v ($%s=1, so not skipping)", err, EnvRequire)
		}
		tb.Skipf("skipping: %v", err)
	}
	return b
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
