package pipeline

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

var (
	repoRoot  string // the directory of the module's go.mod
	aggapiBin string // <repoRoot>/bin/aggapi, built by TestMain
)

const (
	// The exec paths of the examples, relative to the kustomization directory
	// (kustomize) and to kpt's working directory (kpt).
	kustomizeExecPath = "path: ../../bin/aggapi"
	kptExecPath       = "exec: ./bin/aggapi"
	// The invalid config of TestInvalidConfig and where the function reports it.
	validPriority   = "versionPriority: 15"
	invalidPriority = "versionPriority: 5000"
	invalidField    = "spec.versions[0].versionPriority"
)

// TestMain builds the function once into the repository's bin/aggapi, where the
// examples look for it.
func TestMain(m *testing.M) {
	root, err := testutil.RepoRoot()
	if err == nil {
		repoRoot = root
		aggapiBin, err = testutil.BuildAggapi()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/pipeline: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func kustomizeBuild(t *testing.T, kustomizeBin, dir string) []byte {
	t.Helper()
	return testutil.MustRun(t, dir, nil, kustomizeBin, "build", "--enable-alpha-plugins", "--enable-exec", ".")
}

// Files.

// copyKustomizeExample copies a kustomize example with its exec path made absolute.
func copyKustomizeExample(t *testing.T, name string) string {
	t.Helper()
	dir := testutil.CopyExample(t, name)
	testutil.ReplaceOnce(t, filepath.Join(dir, "aggapi.yaml"), kustomizeExecPath, "path: "+aggapiBin)
	return dir
}

// copyKptExample copies examples/kpt with the Kptfile's exec path made absolute.
func copyKptExample(t *testing.T) string {
	t.Helper()
	return copyKptPackage(t, "kpt")
}

// copyKptPackage copies the kpt package examples/<name> with the Kptfile's exec path
// made absolute.
func copyKptPackage(t *testing.T, name string) string {
	t.Helper()
	dir := testutil.CopyExample(t, name)
	testutil.ReplaceOnce(t, filepath.Join(dir, "Kptfile"), kptExecPath, "exec: "+aggapiBin)
	return dir
}

// repoCopy lays out a temporary directory like the repository, with bin/aggapi and
// copies of the named examples (as git tracks them), so the examples run with the
// relative paths they ship with, and returns it.
func repoCopy(t *testing.T, examples ...string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(aggapiBin, filepath.Join(root, "bin", "aggapi")); err != nil {
		t.Fatal(err)
	}
	for _, name := range examples {
		testutil.CopyTracked(t, filepath.Join(repoRoot, "examples", name), filepath.Join(root, "examples", name))
	}
	return root
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
	k := testutil.Kustomize(t)
	dir := copyKustomizeExample(t, "kustomize")
	out := kustomizeBuild(t, k, dir)
	if bytes.Contains(out, []byte(privateKeyMarker)) {
		t.Errorf("the output holds a plain-text %q", privateKeyMarker)
	}
	checkRender(t, parseYAML(t, out), wardle)
}

// TestKustomizeExamplesAsCommitted builds the kustomize examples with the relative exec
// path they ship with (kustomize resolves it against the kustomization directory), in
// a copy laid out like the repository.
func TestKustomizeExamplesAsCommitted(t *testing.T) {
	t.Parallel()
	k := testutil.Kustomize(t)
	for _, name := range []string{"kustomize", "kustomize-transformer"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := testutil.MustRun(t, repoCopy(t, name), nil, k, "build", "--enable-alpha-plugins", "--enable-exec", filepath.Join("examples", name))
			checkRender(t, parseYAML(t, out), wardle)
		})
	}
}

// TestKustomizeWithoutEnableExec documents why both flags are needed: with
// --enable-alpha-plugins alone, kustomize v5 skips an exec function without a word.
func TestKustomizeWithoutEnableExec(t *testing.T) {
	t.Parallel()
	k := testutil.Kustomize(t)
	t.Run("generator emits nothing", func(t *testing.T) {
		t.Parallel()
		dir := copyKustomizeExample(t, "kustomize")
		// Control: the same copy renders with both flags.
		if n := len(parseYAML(t, kustomizeBuild(t, k, dir))); n != len(wardle.Objects) {
			t.Fatalf("with --enable-exec: %d objects, want %d", n, len(wardle.Objects))
		}
		r := testutil.Run(t, dir, nil, k, "build", "--enable-alpha-plugins", ".")
		if r.Err != nil {
			t.Fatalf("without --enable-exec: %v\n%s", r.Err, r.Stderr)
		}
		if len(r.Stdout) != 0 {
			t.Errorf("without --enable-exec the generator emitted:\n%s", r.Stdout)
		}
		if len(r.Stderr) != 0 {
			t.Errorf("without --enable-exec kustomize warned (so it is no longer silent):\n%s", r.Stderr)
		}
	})
	t.Run("transformer passes its input through", func(t *testing.T) {
		t.Parallel()
		dir := copyKustomizeExample(t, "kustomize-transformer")
		rendered := filepath.Join(dir, "rendered.yaml")
		testutil.WriteFile(t, rendered, nil)
		previous := kustomizeBuild(t, k, dir)
		testutil.WriteFile(t, rendered, previous)
		testutil.ReplaceOnce(t, filepath.Join(dir, "aggapi.yaml"), "replicas: 1", "replicas: 3")
		// Control: with both flags the config change shows.
		if changed := kustomizeBuild(t, k, dir); !bytes.Contains(changed, []byte("replicas: 3")) || bytes.Equal(changed, previous) {
			t.Fatalf("with --enable-exec the new replica count does not show:\n%s", changed)
		}
		r := testutil.Run(t, dir, nil, k, "build", "--enable-alpha-plugins", ".")
		if r.Err != nil {
			t.Fatalf("without --enable-exec: %v\n%s", r.Err, r.Stderr)
		}
		if !bytes.Equal(r.Stdout, previous) {
			t.Errorf("without --enable-exec the output is not the stale input: %s", firstDiff(string(previous), string(r.Stdout)))
		}
		if len(r.Stderr) != 0 {
			t.Errorf("without --enable-exec kustomize warned (so it is no longer silent):\n%s", r.Stderr)
		}
	})
}

// TestKustomizeTransformerRerender renders the transformer form over an empty
// rendered.yaml, then over its own output: the second build is byte-identical.
func TestKustomizeTransformerRerender(t *testing.T) {
	t.Parallel()
	k := testutil.Kustomize(t)
	dir := copyKustomizeExample(t, "kustomize-transformer")
	rendered := filepath.Join(dir, "rendered.yaml")
	testutil.WriteFile(t, rendered, nil)
	first := kustomizeBuild(t, k, dir)
	r1 := checkRender(t, parseYAML(t, first), wardle)

	testutil.WriteFile(t, rendered, first)
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
			cli := checkRender(t, parseYAML(t, kustomizeBuild(t, testutil.Kustomize(t), dir)), wardle)
			if !slices.Equal(r.Order, cli.Order) {
				t.Errorf("objects in process %v, with the CLI %v", r.Order, cli.Order)
			}
		})
	})
	t.Run("transformer over the CLI's output gives the CLI's bytes", func(t *testing.T) {
		t.Parallel()
		k := testutil.Kustomize(t)
		dir := copyKustomizeExample(t, "kustomize-transformer")
		testutil.WriteFile(t, filepath.Join(dir, "rendered.yaml"), nil)
		cli := kustomizeBuild(t, k, dir)
		testutil.WriteFile(t, filepath.Join(dir, "rendered.yaml"), cli)
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
	k := testutil.Kpt(t)
	pkg := copyKptExample(t)
	before := snapshot(t, pkg)
	testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
	first := snapshot(t, pkg)
	checkKptPackage(t, pkg, before, first)

	testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
	assertSameTree(t, "the second render changed the package", first, snapshot(t, pkg))
}

// TestKptEval runs the function with kpt fn eval --exec twice on a copy of the kpt
// example: the second run changes no byte.
func TestKptEval(t *testing.T) {
	t.Parallel()
	k := testutil.Kpt(t)
	pkg := testutil.CopyExample(t, "kpt")
	before := snapshot(t, pkg)
	eval := []string{"fn", "eval", ".", "--exec", aggapiBin, "--fn-config", "aggapi.yaml"}
	testutil.MustRun(t, pkg, nil, k, eval...)
	first := snapshot(t, pkg)
	checkKptPackage(t, pkg, before, first)

	testutil.MustRun(t, pkg, nil, k, eval...)
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
	k := testutil.Kpt(t)
	root := repoCopy(t, "kpt")
	pkg := filepath.Join(root, "examples", "kpt")
	before := snapshot(t, pkg)

	t.Run("from the repository root", func(t *testing.T) {
		out := testutil.MustRun(t, root, nil, k, "fn", "render", "examples/kpt", "--allow-exec", "-o", "unwrap")
		cluster, local := splitLocalConfig(parseYAML(t, out))
		assertLocalConfig(t, local, true)
		checkRender(t, cluster, wardle)
		assertSameTree(t, "render -o unwrap changed the package", before, snapshot(t, pkg))
	})
	t.Run("from the package directory", func(t *testing.T) {
		r := testutil.Run(t, pkg, nil, k, "fn", "render", ".", "--allow-exec", "-o", "unwrap")
		testutil.MustFail(t, r)
		if !strings.Contains(r.Output(), "bin/aggapi") {
			t.Errorf("the failure does not name the exec path:\n%s", r.Output())
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
		k := testutil.Kustomize(t)
		dir := copyKustomizeExample(t, "kustomize")
		testutil.ReplaceOnce(t, filepath.Join(dir, "aggapi.yaml"), validPriority, invalidPriority)
		r := testutil.Run(t, dir, nil, k, "build", "--enable-alpha-plugins", "--enable-exec", ".")
		testutil.MustFail(t, r)
		if !strings.Contains(string(r.Stderr), invalidField) {
			t.Errorf("stderr does not name %s:\n%s", invalidField, r.Stderr)
		}
		if len(r.Stdout) != 0 {
			t.Errorf("the failed build wrote to stdout:\n%s", r.Stdout)
		}
	})
	kptRender := func(t *testing.T, pkg string) {
		t.Helper()
		before := snapshot(t, pkg)
		r := testutil.Run(t, filepath.Dir(pkg), nil, testutil.Kpt(t), "fn", "render", pkg, "--allow-exec")
		testutil.MustFail(t, r)
		if !strings.Contains(r.Output(), invalidField) {
			t.Errorf("the output does not name %s:\n%s", invalidField, r.Output())
		}
		assertSameTree(t, "the failed render changed the package", before, snapshot(t, pkg))
	}
	t.Run("kpt render of a new package", func(t *testing.T) {
		t.Parallel()
		testutil.Kpt(t)
		pkg := copyKptExample(t)
		testutil.ReplaceOnce(t, filepath.Join(pkg, "aggapi.yaml"), validPriority, invalidPriority)
		kptRender(t, pkg)
	})
	t.Run("kpt render over a previous render", func(t *testing.T) {
		t.Parallel()
		k := testutil.Kpt(t)
		pkg := copyKptExample(t)
		testutil.MustRun(t, filepath.Dir(pkg), nil, k, "fn", "render", pkg, "--allow-exec")
		testutil.ReplaceOnce(t, filepath.Join(pkg, "aggapi.yaml"), validPriority, invalidPriority)
		kptRender(t, pkg)
	})
}
