package testutil

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
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

// TestImportsNothingOfOurs: testutil imports no package of this module, so the tests of
// every package can use it; one that imported fn/config made fn/config's own tests
// write their configs inline.
func TestImportsNothingOfOurs(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == ModulePath || strings.HasPrefix(path, ModulePath+"/") {
				t.Errorf("%s imports %s", f, path)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("checked %d files", checked)
	}
}

// fatalRecorder is a testing.TB whose Fatal and Fatalf record the message and end the
// goroutine, as the real ones do, so a test can see a helper fail.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failsWith runs f with a fatalRecorder and returns what it failed with ("" if it did not).
func failsWith(t *testing.T, f func(tb testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

// TestReplaceOnce: an edit whose text is absent or ambiguous fails and leaves the file
// as it was, so a test cannot go on checking the unedited input.
func TestReplaceOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	WriteFile(t, path, []byte("a: 1\nb: 1\n"))
	for old, want := range map[string]string{"c: 1": "occurs 0 times", ": 1": "occurs 2 times"} {
		if msg := failsWith(t, func(tb testing.TB) { ReplaceOnce(tb, path, old, "x") }); !strings.Contains(msg, want) {
			t.Errorf("ReplaceOnce(%q): failed with %q, want %q", old, msg, want)
		}
	}
	if got := string(ReadFile(t, path)); got != "a: 1\nb: 1\n" {
		t.Errorf("a refused edit changed the file to %q", got)
	}
	if msg := failsWith(t, func(tb testing.TB) { ReplaceOnce(tb, path, "a: 1", "a: 2") }); msg != "" {
		t.Fatal(msg)
	}
	if got := string(ReadFile(t, path)); got != "a: 2\nb: 1\n" {
		t.Errorf("after the edit: %q", got)
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
