package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// ModulePath is the module of the repository.
const ModulePath = "github.com/aggapi/aggapi"

// RequireToolsEnv names the variable that, when "1" (`make unit`, `make e2e` and so `make test` set it), makes
// a missing or wrongly versioned pinned tool fail the test instead of skipping it.
const RequireToolsEnv = "AGGAPI_REQUIRE_TOOLS"

// RepoRoot returns the root of the repository: the closest parent of the working
// directory holding a go.mod that declares ModulePath (go test runs each package in
// its own directory, and hack/e2e is a nested module with a go.mod of its own).
var RepoRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting the working directory: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && ModuleOf(b) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("the repository root (a go.mod of module %s) is not above the working directory", ModulePath)
		}
		dir = parent
	}
})

// Root is RepoRoot for tests.
func Root(tb testing.TB) string {
	tb.Helper()
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// ModuleOf returns the module path a go.mod declares, "" when it declares none.
func ModuleOf(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// Build builds the package pkg of the repository ("./fn/cmd/aggapi") into out as
// `make build` does: see BuildIn.
func Build(pkg, out string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	return BuildIn(root, pkg, out)
}

// BuildIn builds the package pkg of the module in dir into out as `make build` does
// (static, without cgo, -trimpath). It writes a temporary file beside out and renames
// it into place, so a process running the previous binary (a parallel test package
// builds it too) never sees a partial file.
func BuildIn(dir, pkg, out string) error {
	return build(dir, pkg, out, "CGO_ENABLED=0")
}

// BuildCgo builds the package pkg of the repository into out as a plain `go build` or
// `go install` does on a machine with a C compiler: with cgo, so glibc is linked.
func BuildCgo(pkg, out string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	return build(root, pkg, out, "CGO_ENABLED=1")
}

func build(dir, pkg, out, cgo string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	built := filepath.Join(tmp, filepath.Base(out))
	cmd := exec.Command("go", "build", "-trimpath", "-o", built, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), cgo)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build -o %s %s: %v\n%s", out, pkg, err, b)
	}
	return os.Rename(built, out)
}

// The commands of the repository, and where `make build` puts them.
const (
	AggapiPackage       = "./fn/cmd/aggapi"
	AggapiDoctorPackage = "./fn/cmd/aggapi-doctor"
)

// BuildAggapi builds <root>/bin/aggapi from the working tree, once per process, and
// returns its path.
var BuildAggapi = sync.OnceValues(func() (string, error) {
	return buildInBin("aggapi", AggapiPackage)
})

// BuildAggapiDoctor builds <root>/bin/aggapi-doctor, once per process, and returns its
// path; `aggapi doctor` finds it beside bin/aggapi.
var BuildAggapiDoctor = sync.OnceValues(func() (string, error) {
	return buildInBin("aggapi-doctor", AggapiDoctorPackage)
})

func buildInBin(name, pkg string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(root, "bin", name)
	return out, Build(pkg, out)
}

// Aggapi is BuildAggapi for tests.
func Aggapi(tb testing.TB) string {
	tb.Helper()
	path, err := BuildAggapi()
	if err != nil {
		tb.Fatalf("building bin/aggapi: %v", err)
	}
	return path
}

// AggapiWithDoctor builds bin/aggapi and bin/aggapi-doctor and returns bin/aggapi.
func AggapiWithDoctor(tb testing.TB) string {
	tb.Helper()
	if _, err := BuildAggapiDoctor(); err != nil {
		tb.Fatalf("building bin/aggapi-doctor: %v", err)
	}
	return Aggapi(tb)
}

var kustomizePin = regexp.MustCompile(`(?m)^KUSTOMIZE_VERSION\s*\?=\s*(\S+)`)

// PinnedKustomizeVersion is the KUSTOMIZE_VERSION of the Makefile; a Makefile without
// one is an error, not "any version".
func PinnedKustomizeVersion() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return "", err
	}
	m := kustomizePin.FindSubmatch(b)
	if m == nil {
		return "", errors.New("the Makefile pins no KUSTOMIZE_VERSION")
	}
	return string(m[1]), nil
}

// ToolError is a pinned tool that is missing or of another version: a reason to skip,
// unless $AGGAPI_REQUIRE_TOOLS=1.
type ToolError struct{ Problem string }

func (e *ToolError) Error() string {
	return e.Problem + ": run `make tools` to install the pinned tools into bin/"
}

// FindKustomize returns <root>/bin/kustomize when it is the version the Makefile pins.
// A missing or other kustomize is a *ToolError; a Makefile without a pin is another
// error.
var FindKustomize = sync.OnceValues(func() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	want, err := PinnedKustomizeVersion()
	if err != nil {
		return "", err
	}
	path := filepath.Join(root, "bin", "kustomize")
	if _, err := os.Stat(path); err != nil {
		return "", &ToolError{fmt.Sprintf("kustomize not found at %s", path)}
	}
	out, err := exec.Command(path, "version").Output()
	if err != nil {
		return "", &ToolError{fmt.Sprintf("%s version: %v", path, err)}
	}
	if got := strings.TrimSpace(string(out)); got != want {
		return "", &ToolError{fmt.Sprintf("%s is kustomize %s, the Makefile pins %s", path, got, want)}
	}
	return path, nil
})

// Kustomize returns the pinned kustomize in bin/. Without it the test is skipped, or
// fails when $AGGAPI_REQUIRE_TOOLS=1; a Makefile without a pin always fails it.
func Kustomize(tb testing.TB) string {
	tb.Helper()
	path, err := FindKustomize()
	return toolOrSkip(tb, path, err)
}

// ToolsRequired reports whether $AGGAPI_REQUIRE_TOOLS is 1.
func ToolsRequired() bool { return os.Getenv(RequireToolsEnv) == "1" }

// Kpt returns kpt from $PATH, or skips the test: the Makefile does not install kpt,
// so it is never required.
func Kpt(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("kpt")
	if err != nil {
		tb.Skipf("kpt not installed: no kpt on PATH (%v); install kpt v1 to run the kpt tests", err)
	}
	return path
}
