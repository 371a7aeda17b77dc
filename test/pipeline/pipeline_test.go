package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var (
	repoRoot  string // the directory of the module's go.mod
	aggapiBin string // <repoRoot>/bin/aggapi, built by TestMain
)

const (
	requireToolsEnv = "AGGAPI_REQUIRE_TOOLS" // set to 1 by `make test`
	modulePath      = "github.com/aggapi/aggapi"
	// The exec paths of the examples, relative to the kustomization directory
	// (kustomize) and to kpt's working directory (kpt).
	kustomizeExecPath = "path: ../../bin/aggapi"
	kptExecPath       = "exec: ./bin/aggapi"
	// The invalid config of TestInvalidConfig and where the function reports it.
	validPriority   = "versionPriority: 15"
	invalidPriority = "versionPriority: 5000"
	invalidField    = "spec.versions[0].versionPriority"
	commandTimeout  = 2 * time.Minute
)

// TestMain builds the function once into the repository's bin/aggapi, where the
// examples look for it.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == "sops" { // the GitOps tests run this binary as sops
		os.Exit(fakeSops(os.Args[1:], os.Stderr))
	}
	root, err := findRepoRoot()
	if err == nil {
		repoRoot = root
		aggapiBin = filepath.Join(root, "bin", "aggapi")
		err = buildFunction(root, aggapiBin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/pipeline: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for line := range strings.Lines(string(b)) {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == modulePath {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// buildFunction builds ./fn the way `make build` does, then renames the binary into
// place, so that a process running the previous binary never sees a partial file.
func buildFunction(root, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".aggapi-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(tmp, "aggapi"), "./fn")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./fn: %v\n%s", err, b)
	}
	return os.Rename(filepath.Join(tmp, "aggapi"), out)
}

// Tools.

var kustomizeVersion = sync.OnceValues(func() (string, error) {
	out, err := exec.Command(filepath.Join(repoRoot, "bin", "kustomize"), "version").Output()
	return strings.TrimSpace(string(out)), err
})

// pinnedKustomizeVersion is the KUSTOMIZE_VERSION of the Makefile, "" if not found.
func pinnedKustomizeVersion() string {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`(?m)^KUSTOMIZE_VERSION\s*\?=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// kustomize returns the pinned kustomize in bin/. Without it the test is skipped, or
// fails when AGGAPI_REQUIRE_TOOLS=1 (`make test`).
func kustomize(t *testing.T) string {
	t.Helper()
	path := filepath.Join(repoRoot, "bin", "kustomize")
	problem := ""
	if _, err := os.Stat(path); err != nil {
		problem = fmt.Sprintf("kustomize not found at %s", path)
	} else if got, err := kustomizeVersion(); err != nil {
		problem = fmt.Sprintf("%s version: %v", path, err)
	} else if want := pinnedKustomizeVersion(); want != "" && got != want {
		problem = fmt.Sprintf("%s is kustomize %s, the Makefile pins %s", path, got, want)
	}
	if problem != "" {
		msg := problem + ": run `make tools` to install the pinned kustomize into bin/"
		if os.Getenv(requireToolsEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// kpt returns kpt from PATH, or skips the test.
func kpt(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kpt")
	if err != nil {
		t.Skipf("kpt not installed: no kpt on PATH (%v); install kpt v1 to run the kpt pipeline tests", err)
	}
	return path
}

// Commands.

type result struct {
	stdout, stderr []byte
	err            error
}

func (r result) output() string { return string(r.stdout) + string(r.stderr) }

func run(t *testing.T, dir, name string, args ...string) result {
	t.Helper()
	return runStdin(t, dir, nil, name, args...)
}

// runStdin is run with stdin fed from the given bytes.
func runStdin(t *testing.T, dir string, stdin []byte, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("(cd %s && %s %s): %v", dir, filepath.Base(name), strings.Join(args, " "), errOrOK(err))
	return result{stdout.Bytes(), stderr.Bytes(), err}
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

// mustRun runs a command that must succeed and returns its stdout.
func mustRun(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	r := run(t, dir, name, args...)
	if r.err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// mustFail checks that a command exited with a non-zero status (and did not fail to start).
func mustFail(t *testing.T, r result) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(r.err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("want a non-zero exit status, got %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
	}
}

func kustomizeBuild(t *testing.T, kustomizeBin, dir string) []byte {
	t.Helper()
	return mustRun(t, dir, kustomizeBin, "build", "--enable-alpha-plugins", "--enable-exec", ".")
}

// Files.

// copyDir copies the regular files and directories under src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		default:
			return fmt.Errorf("%s: not a regular file or directory", path)
		}
	})
	if err != nil {
		t.Fatalf("copying %s to %s: %v", src, dst, err)
	}
}

// copyExample copies examples/<name> into a new temporary directory and returns the copy.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	copyDir(t, filepath.Join(repoRoot, "examples", name), dst)
	return dst
}

// copyKustomizeExample copies a kustomize example with its exec path made absolute.
func copyKustomizeExample(t *testing.T, name string) string {
	t.Helper()
	dir := copyExample(t, name)
	replaceOnce(t, filepath.Join(dir, "aggapi.yaml"), kustomizeExecPath, "path: "+aggapiBin)
	return dir
}

// copyKptExample copies examples/kpt with the Kptfile's exec path made absolute.
func copyKptExample(t *testing.T) string {
	t.Helper()
	dir := copyExample(t, "kpt")
	replaceOnce(t, filepath.Join(dir, "Kptfile"), kptExecPath, "exec: "+aggapiBin)
	return dir
}

// replaceOnce replaces old, which must occur exactly once in the file, by new.
func replaceOnce(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), old); n != 1 {
		t.Fatalf("%s: %q occurs %d times, want once", path, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tree maps the slash-separated path of every file and directory under a root to its
// mode and, for a file, its content.
type tree map[string]string

func snapshot(t *testing.T, dir string) tree {
	t.Helper()
	s := tree{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		entry := info.Mode().String()
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			entry += "\n" + string(b)
		}
		s[filepath.ToSlash(rel)] = entry
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return s
}

// diffTrees lists how after differs from before.
func diffTrees(before, after tree) []string {
	var diffs []string
	for _, p := range slices.Sorted(maps.Keys(before)) {
		a, ok := after[p]
		switch {
		case !ok:
			diffs = append(diffs, "removed "+p)
		case a != before[p]:
			diffs = append(diffs, "changed "+p+": "+firstDiff(before[p], a))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(after)) {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "added "+p)
		}
	}
	return diffs
}

func assertSameTree(t *testing.T, what string, before, after tree) {
	t.Helper()
	if d := diffTrees(before, after); len(d) > 0 {
		t.Errorf("%s:\n  %s", what, strings.Join(d, "\n  "))
	}
}

// firstDiff describes the first line where a and b differ.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(la), len(lb)); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y || i >= len(la) || i >= len(lb) {
			return fmt.Sprintf("line %d: %.100q became %.100q", i+1, x, y)
		}
	}
	return "identical"
}

// assertNoSecretsInFiles checks that no file under a tree holds a plain-text private
// key or mentions insecureSkipTLSVerify.
func assertNoSecretsInFiles(t *testing.T, s tree) {
	t.Helper()
	for p, content := range s {
		if strings.Contains(content, privateKeyMarker) {
			t.Errorf("%s holds a plain-text %q", p, privateKeyMarker)
		}
		if strings.Contains(content, insecureSkipField) {
			t.Errorf("%s mentions %s", p, insecureSkipField)
		}
	}
}

// assertLocalConfig checks that the local-config objects are exactly the example's
// AggregatedAPI (plus the Kptfile when withKptfile).
func assertLocalConfig(t *testing.T, local []*yaml.RNode, withKptfile bool) {
	t.Helper()
	want := []objID{{"aggapi.dev/v1alpha1", "AggregatedAPI", "", "wardle"}}
	if withKptfile {
		want = append(want, objID{"kpt.dev/v1", "Kptfile", "", "wardle"})
	}
	assertIDs(t, "local-config objects", local, want)
}

// Kustomize.

// TestKustomizeGenerator renders the generator form with the pinned kustomize and checks
// the structure of the output.
func TestKustomizeGenerator(t *testing.T) {
	t.Parallel()
	k := kustomize(t)
	dir := copyKustomizeExample(t, "kustomize")
	out := kustomizeBuild(t, k, dir)
	if bytes.Contains(out, []byte(privateKeyMarker)) {
		t.Errorf("the output holds a plain-text %q", privateKeyMarker)
	}
	checkRender(t, parseYAML(t, out), wardle)
}

// TestKustomizeExamplesAsCommitted builds the kustomize examples in place, with the
// relative exec path they ship with (kustomize resolves it against the kustomization
// directory). kustomize build only reads the examples.
func TestKustomizeExamplesAsCommitted(t *testing.T) {
	t.Parallel()
	k := kustomize(t)
	for _, name := range []string{"kustomize", "kustomize-transformer"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := mustRun(t, repoRoot, k, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", name))
			checkRender(t, parseYAML(t, out), wardle)
		})
	}
}

// TestKustomizeWithoutEnableExec documents why both flags are needed: with
// --enable-alpha-plugins alone, kustomize v5 skips an exec function without a word.
func TestKustomizeWithoutEnableExec(t *testing.T) {
	t.Parallel()
	k := kustomize(t)
	t.Run("generator emits nothing", func(t *testing.T) {
		t.Parallel()
		dir := copyKustomizeExample(t, "kustomize")
		// Control: the same copy renders with both flags.
		if n := len(parseYAML(t, kustomizeBuild(t, k, dir))); n != len(wardle.Objects) {
			t.Fatalf("with --enable-exec: %d objects, want %d", n, len(wardle.Objects))
		}
		r := run(t, dir, k, "build", "--enable-alpha-plugins", ".")
		if r.err != nil {
			t.Fatalf("without --enable-exec: %v\n%s", r.err, r.stderr)
		}
		if len(r.stdout) != 0 {
			t.Errorf("without --enable-exec the generator emitted:\n%s", r.stdout)
		}
		if len(r.stderr) != 0 {
			t.Errorf("without --enable-exec kustomize warned (so it is no longer silent):\n%s", r.stderr)
		}
	})
	t.Run("transformer passes its input through", func(t *testing.T) {
		t.Parallel()
		dir := copyKustomizeExample(t, "kustomize-transformer")
		rendered := filepath.Join(dir, "rendered.yaml")
		writeFile(t, rendered, nil)
		previous := kustomizeBuild(t, k, dir)
		writeFile(t, rendered, previous)
		replaceOnce(t, filepath.Join(dir, "aggapi.yaml"), "replicas: 1", "replicas: 3")
		// Control: with both flags the config change shows.
		if changed := kustomizeBuild(t, k, dir); !bytes.Contains(changed, []byte("replicas: 3")) || bytes.Equal(changed, previous) {
			t.Fatalf("with --enable-exec the new replica count does not show:\n%s", changed)
		}
		r := run(t, dir, k, "build", "--enable-alpha-plugins", ".")
		if r.err != nil {
			t.Fatalf("without --enable-exec: %v\n%s", r.err, r.stderr)
		}
		if !bytes.Equal(r.stdout, previous) {
			t.Errorf("without --enable-exec the output is not the stale input: %s", firstDiff(string(previous), string(r.stdout)))
		}
		if len(r.stderr) != 0 {
			t.Errorf("without --enable-exec kustomize warned (so it is no longer silent):\n%s", r.stderr)
		}
	})
}

// TestKustomizeTransformerRerender renders the transformer form over an empty
// rendered.yaml, then over its own output: the second build is byte-identical.
func TestKustomizeTransformerRerender(t *testing.T) {
	t.Parallel()
	k := kustomize(t)
	dir := copyKustomizeExample(t, "kustomize-transformer")
	rendered := filepath.Join(dir, "rendered.yaml")
	writeFile(t, rendered, nil)
	first := kustomizeBuild(t, k, dir)
	r1 := checkRender(t, parseYAML(t, first), wardle)

	writeFile(t, rendered, first)
	second := kustomizeBuild(t, k, dir)
	if !bytes.Equal(first, second) {
		t.Errorf("the re-render over the previous output differs: %s", firstDiff(string(first), string(second)))
	}
	r2 := checkRender(t, parseYAML(t, second), wardle)
	if !reflect.DeepEqual(r1.Secret.Data, r2.Secret.Data) {
		t.Errorf("the re-render replaced the serving Secret")
	}
	if !r1.Leaf.Equal(r2.Leaf) {
		t.Errorf("the re-render issued a new serving certificate (serial %s, was %s)", r2.Leaf.SerialNumber, r1.Leaf.SerialNumber)
	}
}

// krustyBuild runs kustomize in-process with exec functions enabled, as
// `kustomize build --enable-alpha-plugins --enable-exec` does.
func krustyBuild(t *testing.T, dir string) []byte {
	t.Helper()
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionUnspecified // the CLI's default: legacy order unless the kustomization says otherwise
	opts.PluginConfig = types.EnabledPluginConfig(types.BploUseStaticallyLinked)
	opts.PluginConfig.FnpLoadingOptions.EnableExec = true
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("krusty: %v", err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatalf("krusty: %v", err)
	}
	return out
}

// TestKrustyInProcess runs the examples through the kustomize API in-process.
func TestKrustyInProcess(t *testing.T) {
	t.Parallel()
	t.Run("generator", func(t *testing.T) {
		t.Parallel()
		dir := copyKustomizeExample(t, "kustomize")
		r := checkRender(t, parseYAML(t, krustyBuild(t, dir)), wardle)
		t.Run("in the CLI's order", func(t *testing.T) {
			cli := checkRender(t, parseYAML(t, kustomizeBuild(t, kustomize(t), dir)), wardle)
			if !slices.Equal(r.Order, cli.Order) {
				t.Errorf("objects in process %v, with the CLI %v", r.Order, cli.Order)
			}
		})
	})
	t.Run("transformer over the CLI's output gives the CLI's bytes", func(t *testing.T) {
		t.Parallel()
		k := kustomize(t)
		dir := copyKustomizeExample(t, "kustomize-transformer")
		writeFile(t, filepath.Join(dir, "rendered.yaml"), nil)
		cli := kustomizeBuild(t, k, dir)
		writeFile(t, filepath.Join(dir, "rendered.yaml"), cli)
		if got := krustyBuild(t, dir); !bytes.Equal(got, cli) {
			t.Errorf("in process: %s", firstDiff(string(cli), string(got)))
		}
	})
}

// Kpt.

// TestKptRender renders a copy of the kpt example twice: the first render adds the
// objects and keeps the Kptfile and the config, the second changes no byte.
func TestKptRender(t *testing.T) {
	t.Parallel()
	k := kpt(t)
	pkg := copyKptExample(t)
	before := snapshot(t, pkg)
	mustRun(t, filepath.Dir(pkg), k, "fn", "render", pkg, "--allow-exec")
	first := snapshot(t, pkg)
	checkKptPackage(t, pkg, before, first)

	mustRun(t, filepath.Dir(pkg), k, "fn", "render", pkg, "--allow-exec")
	assertSameTree(t, "the second render changed the package", first, snapshot(t, pkg))
}

// TestKptEval runs the function with kpt fn eval --exec twice on a copy of the kpt
// example: the second run changes no byte.
func TestKptEval(t *testing.T) {
	t.Parallel()
	k := kpt(t)
	pkg := copyExample(t, "kpt")
	before := snapshot(t, pkg)
	eval := []string{"fn", "eval", ".", "--exec", aggapiBin, "--fn-config", "aggapi.yaml"}
	mustRun(t, pkg, k, eval...)
	first := snapshot(t, pkg)
	checkKptPackage(t, pkg, before, first)

	mustRun(t, pkg, k, eval...)
	assertSameTree(t, "the second eval changed the package", first, snapshot(t, pkg))
}

// checkKptPackage checks a package after its first render: every file it had is
// unchanged, new files were added, and its objects pass checkRender.
func checkKptPackage(t *testing.T, pkg string, before, after tree) {
	t.Helper()
	added := 0
	for _, d := range diffTrees(before, after) {
		if strings.HasPrefix(d, "added ") {
			added++
		} else {
			t.Errorf("the render touched an existing file: %s", d)
		}
	}
	if added == 0 {
		t.Errorf("the render added no file")
	}
	assertNoSecretsInFiles(t, after)
	cluster, local := splitLocalConfig(readTree(t, pkg))
	assertLocalConfig(t, local, false)
	checkRender(t, cluster, wardle)
}

// TestKptExampleAsCommitted runs examples/kpt with the relative exec path it ships
// with, in a copy laid out like the repository: kpt resolves the path against its
// working directory, so the render works from the root and fails from the package.
func TestKptExampleAsCommitted(t *testing.T) {
	t.Parallel()
	k := kpt(t)
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(aggapiBin, filepath.Join(root, "bin", "aggapi")); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, "examples", "kpt")
	copyDir(t, filepath.Join(repoRoot, "examples", "kpt"), pkg)
	before := snapshot(t, pkg)

	t.Run("from the repository root", func(t *testing.T) {
		out := mustRun(t, root, k, "fn", "render", "examples/kpt", "--allow-exec", "-o", "unwrap")
		cluster, local := splitLocalConfig(parseYAML(t, out))
		assertLocalConfig(t, local, true)
		checkRender(t, cluster, wardle)
		assertSameTree(t, "render -o unwrap changed the package", before, snapshot(t, pkg))
	})
	t.Run("from the package directory", func(t *testing.T) {
		r := run(t, pkg, k, "fn", "render", ".", "--allow-exec", "-o", "unwrap")
		mustFail(t, r)
		if !strings.Contains(r.output(), "bin/aggapi") {
			t.Errorf("the failure does not name the exec path:\n%s", r.output())
		}
		assertSameTree(t, "the failed render changed the package", before, snapshot(t, pkg))
	})
}

// Errors.

// TestInvalidConfig feeds a config with an out-of-range versionPriority through
// kustomize and kpt: each fails, names the field, and (kpt) leaves the package alone.
func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	t.Run("kustomize", func(t *testing.T) {
		t.Parallel()
		k := kustomize(t)
		dir := copyKustomizeExample(t, "kustomize")
		replaceOnce(t, filepath.Join(dir, "aggapi.yaml"), validPriority, invalidPriority)
		r := run(t, dir, k, "build", "--enable-alpha-plugins", "--enable-exec", ".")
		mustFail(t, r)
		if !strings.Contains(string(r.stderr), invalidField) {
			t.Errorf("stderr does not name %s:\n%s", invalidField, r.stderr)
		}
		if len(r.stdout) != 0 {
			t.Errorf("the failed build wrote to stdout:\n%s", r.stdout)
		}
	})
	kptRender := func(t *testing.T, pkg string) {
		t.Helper()
		before := snapshot(t, pkg)
		r := run(t, filepath.Dir(pkg), kpt(t), "fn", "render", pkg, "--allow-exec")
		mustFail(t, r)
		if !strings.Contains(r.output(), invalidField) {
			t.Errorf("the output does not name %s:\n%s", invalidField, r.output())
		}
		assertSameTree(t, "the failed render changed the package", before, snapshot(t, pkg))
	}
	t.Run("kpt render of a new package", func(t *testing.T) {
		t.Parallel()
		kpt(t)
		pkg := copyKptExample(t)
		replaceOnce(t, filepath.Join(pkg, "aggapi.yaml"), validPriority, invalidPriority)
		kptRender(t, pkg)
	})
	t.Run("kpt render over a previous render", func(t *testing.T) {
		t.Parallel()
		k := kpt(t)
		pkg := copyKptExample(t)
		mustRun(t, filepath.Dir(pkg), k, "fn", "render", pkg, "--allow-exec")
		replaceOnce(t, filepath.Join(pkg, "aggapi.yaml"), validPriority, invalidPriority)
		kptRender(t, pkg)
	})
}
