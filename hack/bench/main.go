package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

type command struct {
	name  string
	argv  []string
	stdin []byte
	times []time.Duration
	// CPU time in the process and its children, and minor page faults, summed over runs.
	user, sys time.Duration
	faults    int64
}

func main() {
	n := flag.Int("n", 200, "runs of each command")
	items := flag.String("items", "10000,50000", "item counts of the pass-through measurement (empty: none)")
	itemRuns := flag.Int("item-runs", 3, "runs of each pass-through measurement")
	only := flag.Bool("items-only", false, "only the pass-through measurement")
	baseline := flag.String("baseline", "", "a git revision whose aggapi renders too, interleaved in the same runs (before and after in one table)")
	flag.Parse()
	root, err := testutil.RepoRoot()
	must(err)
	tmp, err := os.MkdirTemp("", "aggapi-bench-")
	must(err)
	defer os.RemoveAll(tmp)

	// The binaries are built as make build builds them: static, without cgo, so no
	// dynamic loader runs at start.
	build := func(dir, pkg, name string) string {
		out := filepath.Join(tmp, name)
		must(testutil.BuildIn(dir, pkg, out))
		return out
	}
	bin := func(name, pkg string) string { return build(root, pkg, name) }
	// program builds a one-file main package (with files beside it) in a module of its own.
	program := func(name, src string, files map[string][]byte) string {
		dir := filepath.Join(tmp, name+"-src")
		must(os.MkdirAll(dir, 0o755))
		files = maps.Clone(files)
		if files == nil {
			files = map[string][]byte{}
		}
		files["go.mod"] = []byte("module " + name + "\n\ngo 1.26\n")
		files["main.go"] = []byte(src)
		for f, b := range files {
			must(os.WriteFile(filepath.Join(dir, f), b, 0o644))
		}
		return build(dir, ".", name)
	}
	aggapi := bin("aggapi", testutil.AggapiPackage)
	var base string // the baseline's aggapi, when asked for
	if *baseline != "" {
		base = baselineAggapi(root, tmp, *baseline)
	}
	if counts := parseCounts(*items); *only || len(counts) > 0 {
		cfg, err := os.ReadFile(filepath.Join(root, "testdata", "basic", "config.yaml"))
		must(err)
		bins := []binary{{"aggapi", aggapi}}
		if base != "" {
			bins = append(bins, binary{"baseline " + *baseline, base})
		}
		defer passThrough(bins, cfg, counts, *itemRuns)
		if *only {
			return
		}
	}
	bare := bin("bare", "./hack/bench/bare")
	floor := bin("floor", "./hack/bench/floor")
	kustomize, err := testutil.FindKustomize()
	must(err)

	// The example as a ResourceList, then the same with the first render's output as items.
	cfg, err := os.ReadFile(filepath.Join(root, "testdata", "basic", "config.yaml"))
	must(err)
	first := []byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n" + indent(string(cfg)))
	out := run(root, first, aggapi)
	again := out // a ResourceList whose items are the previous render

	// kustomize: the example with the function, and its output as plain resources.
	example, err := os.ReadFile(filepath.Join(root, "examples", "kustomize", "aggapi.yaml"))
	must(err)
	// generator writes a kustomization whose generator is the example run by execPath.
	generator := func(name, execPath string) string {
		dir := filepath.Join(tmp, name)
		must(os.MkdirAll(dir, 0o755))
		must(os.WriteFile(filepath.Join(dir, "aggapi.yaml"), bytes.Replace(example, []byte("path: ../../bin/aggapi"), []byte("path: "+execPath), 1), 0o644))
		must(os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("generators:\n- aggapi.yaml\n"), 0o644))
		return dir
	}
	withFn := generator("with-fn", aggapi)
	plain := filepath.Join(tmp, "plain")
	must(os.MkdirAll(plain, 0o755))
	rendered := run(root, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", withFn)
	must(os.WriteFile(filepath.Join(plain, "rendered.yaml"), rendered, 0o644))
	must(os.WriteFile(filepath.Join(plain, "kustomization.yaml"), []byte("resources:\n- rendered.yaml\n"), 0o644))

	// The same generator with a trivial exec function (the bare binary echoes the
	// ResourceList): what any exec function costs kustomize.
	trivial := filepath.Join(tmp, "trivial-fn")
	must(os.MkdirAll(trivial, 0o755))
	must(os.WriteFile(filepath.Join(trivial, "fn.yaml"), []byte("apiVersion: example.com/v1\nkind: Trivial\nmetadata:\n  name: t\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: "+bare+"\n"), 0o644))
	must(os.WriteFile(filepath.Join(trivial, "kustomization.yaml"), []byte("resources:\n- ../plain/rendered.yaml\ngenerators:\n- fn.yaml\n"), 0o644))

	// A canned exec function prints what aggapi prints to kustomize, whatever its input:
	// kustomize does the same work downstream, so the difference is what computing the
	// output costs. A recorder, run once in aggapi's place, captures what kustomize sends.
	recorded := filepath.Join(tmp, "kustomize-input.yaml")
	recorder := program("recorder", fmt.Sprintf(recorderSrc, recorded), nil)
	run(root, nil, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", generator("recording", recorder))
	kustomizeInput, err := os.ReadFile(recorded)
	must(err)
	cannedBin := program("canned", cannedSrc, map[string][]byte{"out.yaml": run(root, kustomizeInput, aggapi)})
	canned := generator("canned-fn", cannedBin)

	cmds := []*command{
		{name: "bare stdin→stdout binary", argv: []string{bare}, stdin: first},
		{name: "dependency floor", argv: []string{floor}, stdin: first},
		{name: "aggapi first render", argv: []string{aggapi}, stdin: first},
		{name: "aggapi re-render (reuse)", argv: []string{aggapi}, stdin: again},
	}
	if base != "" {
		// The baseline re-renders its own output: its stamps and layout are its own.
		cmds = append(cmds,
			&command{name: "baseline " + *baseline + " first render", argv: []string{base}, stdin: first},
			&command{name: "baseline " + *baseline + " re-render", argv: []string{base}, stdin: run(root, first, base)})
	}
	cmds = append(cmds, []*command{
		{name: "kustomize build, plain resources", argv: []string{kustomize, "build", plain}},
		{name: "kustomize build, with aggapi", argv: []string{kustomize, "build", "--enable-alpha-plugins", "--enable-exec", withFn}},
		{name: "kustomize build, trivial exec fn", argv: []string{kustomize, "build", "--enable-alpha-plugins", "--enable-exec", "--load-restrictor", "LoadRestrictionsNone", trivial}},
		{name: "kustomize build, canned exec fn", argv: []string{kustomize, "build", "--enable-alpha-plugins", "--enable-exec", canned}},
	}...)
	for i := 0; i < *n; i++ {
		for _, c := range cmds {
			start := time.Now()
			state := runState(root, c.stdin, nil, c.argv[0], c.argv[1:]...)
			c.times = append(c.times, time.Since(start))
			c.user += state.UserTime()
			c.sys += state.SystemTime()
			if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
				c.faults += ru.Minflt
			}
		}
	}
	med := map[string]time.Duration{}
	fmt.Printf("%d runs each, interleaved; %s, %d CPUs, %s\n\n", *n, runtime.Version(), runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("%-40s %10s %10s %10s %10s %8s\n", "command", "median", "p90", "user", "sys", "faults")
	for _, c := range cmds {
		slices.Sort(c.times)
		med[c.name] = c.times[len(c.times)/2]
		runs := time.Duration(len(c.times))
		fmt.Printf("%-40s %10s %10s %10s %10s %8d\n", c.name, ms(med[c.name]), ms(c.times[len(c.times)*9/10]),
			ms(c.user/runs), ms(c.sys/runs), c.faults/int64(len(c.times)))
	}
	fmt.Println("(user, sys: mean CPU time a run; faults: mean minor page faults a run; kustomize rows include the function's)")
	ratio := func(a, b string) { fmt.Printf("%-58s %.2fx\n", a+" / "+b, float64(med[a])/float64(med[b])) }
	fmt.Println()
	ratio("aggapi first render", "dependency floor")
	ratio("aggapi re-render (reuse)", "dependency floor")
	ratio("dependency floor", "bare stdin→stdout binary")
	fmt.Printf("%-58s %s\n", "kustomize: added by aggapi", ms(med["kustomize build, with aggapi"]-med["kustomize build, plain resources"]))
	fmt.Printf("%-58s %s\n", "kustomize: added by a trivial exec function", ms(med["kustomize build, trivial exec fn"]-med["kustomize build, plain resources"]))
	fmt.Printf("%-58s %s\n", "kustomize: aggapi over a canned fn printing its output", ms(med["kustomize build, with aggapi"]-med["kustomize build, canned exec fn"]))
}

// baselineAggapi builds the function as it was at rev, from a detached worktree, as
// make build builds it. Before fn/cmd/aggapi existed the main package was fn.
func baselineAggapi(root, tmp, rev string) string {
	dir := filepath.Join(tmp, "baseline-src")
	run(root, nil, "git", "worktree", "add", "--detach", "--force", dir, rev)
	defer run(root, nil, "git", "worktree", "remove", "--force", dir)
	pkg := testutil.AggapiPackage
	if _, err := os.Stat(filepath.Join(dir, pkg)); err != nil {
		pkg = "./fn"
	}
	out := filepath.Join(tmp, "aggapi-baseline")
	must(testutil.BuildIn(dir, pkg, out))
	return out
}

// recorderSrc saves its stdin to the file it names and echoes it.
const recorderSrc = `package main

import (
	"io"
	"os"
)

func main() {
	in, _ := io.ReadAll(os.Stdin)
	_ = os.WriteFile(%q, in, 0o644)
	_, _ = os.Stdout.Write(in)
}
`

// cannedSrc prints out.yaml whatever its input.
const cannedSrc = `package main

import (
	_ "embed"
	"io"
	"os"
)

//go:embed out.yaml
var out []byte

func main() {
	_, _ = io.Copy(io.Discard, os.Stdin)
	_, _ = os.Stdout.Write(out)
}
`

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

// runState runs a command to its end and returns its process state; stdout goes to
// out, or is discarded when out is nil.
func runState(dir string, stdin []byte, out io.Writer, name string, args ...string) *os.ProcessState {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout = dir, out
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Sprintf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String()))
	}
	return cmd.ProcessState
}

// run runs a command and returns its stdout.
func run(dir string, stdin []byte, name string, args ...string) []byte {
	var out bytes.Buffer
	runState(dir, stdin, &out, name, args...)
	return out.Bytes()
}

func must(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "bench:", msg)
	os.Exit(1)
}
