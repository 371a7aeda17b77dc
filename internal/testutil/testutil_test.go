package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

func TestModuleOf(t *testing.T) {
	for in, want := range map[string]string{
		"module github.com/aggapi/aggapi\n\ngo 1.26\n": "github.com/aggapi/aggapi",
		"// c\nmodule \"x/y\" // c\r\n":                "x/y",
		"go 1.26\n":                                    "",
	} {
		if got := ModuleOf([]byte(in)); got != want {
			t.Errorf("ModuleOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root := Root(t)
	if _, err := os.Stat(filepath.Join(root, "fn", "cmd", "aggapi")); err != nil {
		t.Errorf("RepoRoot %s: %v", root, err)
	}
}

func TestPinnedKustomizeVersion(t *testing.T) {
	v, err := PinnedKustomizeVersion()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^v5\.\d+\.\d+$`).MatchString(v) {
		t.Errorf("the Makefile pins kustomize %q, want v5.x.y", v)
	}
}

// TestCopyTracked: a copy holds what git tracks, as edited in the working tree, and
// not what a render left beside it.
func TestCopyTracked(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		if ToolsRequired() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	src := t.TempDir()
	WriteFile(t, filepath.Join(src, "pkg", "Kptfile"), []byte("committed\n"))
	WriteFile(t, filepath.Join(src, "pkg", "sub", "aggapi.yaml"), []byte("committed\n"))
	MustRun(t, src, nil, git, "init", "-q")
	MustRun(t, src, nil, git, "add", ".")
	WriteFile(t, filepath.Join(src, "pkg", "sub", "aggapi.yaml"), []byte("edited\n"))
	WriteFile(t, filepath.Join(src, "pkg", "apiservice_v1.yaml"), []byte("left by a render\n"))

	dst := filepath.Join(t.TempDir(), "pkg")
	CopyTracked(t, filepath.Join(src, "pkg"), dst)
	var got []string
	err = filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dst, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Kptfile", "sub/aggapi.yaml"}; !slices.Equal(got, want) {
		t.Errorf("copied %q, want %q", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "sub", "aggapi.yaml")); string(b) != "edited\n" {
		t.Errorf("the copy holds %q, want the working tree's %q", b, "edited\n")
	}
}

func TestResultExitCode(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip(err)
	}
	for script, want := range map[string]int{"exit 0": 0, "exit 3": 3} {
		if got := Run(t, t.TempDir(), nil, sh, "-c", script).ExitCode(); got != want {
			t.Errorf("sh -c %q: ExitCode %d, want %d", script, got, want)
		}
	}
	if got := Run(t, t.TempDir(), nil, filepath.Join(t.TempDir(), "missing")).ExitCode(); got != -1 {
		t.Errorf("a command that does not start: ExitCode %d, want -1", got)
	}
}

// TestValidGoldenConfigs: the basic case is in, a config Load refuses is not.
func TestValidGoldenConfigs(t *testing.T) {
	cases := map[string]bool{}
	for _, c := range ValidGoldenConfigs(t) {
		if c.API == nil {
			t.Errorf("%s: no config", c.Path)
		}
		cases[filepath.Base(filepath.Dir(c.Path))] = true
	}
	if !cases["basic"] || cases["err-bad-duration"] {
		t.Errorf("basic in: %v, err-bad-duration in: %v; want true, false", cases["basic"], cases["err-bad-duration"])
	}
}

// TestResourceList: the stdin the golden harness assembles, byte for byte.
func TestResourceList(t *testing.T) {
	for _, tc := range []struct{ items, want string }{
		{"- a: 1\n\n- b: 2\n", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n  - a: 1\n\n  - b: 2\nfunctionConfig:\n  kind: X\n  spec: {}\n"},
		{" \n", "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  kind: X\n  spec: {}\n"},
	} {
		if got := ResourceList(tc.items, "kind: X\nspec: {}\n"); got != tc.want {
			t.Errorf("items %q:\n%s\nwant\n%s", tc.items, got, tc.want)
		}
	}
}
