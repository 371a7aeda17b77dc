package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

type hostile struct {
	name   string
	config string // the functionConfig
	want   string // in stderr
}

func main() {
	bin := flag.String("bin", "", "the aggapi binary (default: build ./fn/cmd/aggapi or ./fn into a temporary directory)")
	flag.Parse()
	if *bin == "" {
		*bin = build()
	}
	base, err := os.ReadFile("testdata/basic/config.yaml")
	must(err)
	failed := false
	fmt.Printf("%-28s %6s %9s %5s  %s\n", "case", "time", "peak RSS", "exit", "stderr (first 110 bytes)")
	for _, c := range cases(string(base)) {
		d, rss, code, stderr, err := run(*bin, resourceList(c.config))
		ok := err == nil && code == 1 && strings.Contains(stderr, c.want) && !strings.Contains(stderr, "goroutine ")
		mark := ""
		if !ok {
			failed, mark = true, "  <-- FAIL"
			if err != nil {
				mark += " (" + err.Error() + ")"
			}
		}
		first, _, _ := strings.Cut(stderr, "\n")
		fmt.Printf("%-28s %5.2fs %7.0fMB %5d  %.110s%s\n", c.name, d.Seconds(), float64(rss)/(1<<20), code, first, mark)
	}
	if failed {
		os.Exit(1)
	}
}

func cases(base string) []hostile {
	server := func(lines string) string {
		return strings.Replace(base, "    replicas: 1\n", "    replicas: 1\n"+lines, 1)
	}
	spec := func(lines string) string { return strings.Replace(base, "spec:\n", "spec:\n"+lines, 1) }
	var keys, bomb strings.Builder
	for i := range 150_000 {
		fmt.Fprintf(&keys, "    k%d: 1\n", i)
	}
	bomb.WriteString("  junk:\n    a0: &a0 [xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx, xxxxxxxxxx]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&bomb, "    a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	list := func(item string, n int) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+", ", n), ", ") + "]"
	}
	return []hostile{
		{"cpu 1e-999999999", server("    resources: {requests: {cpu: '1e-999999999'}}\n"), "must be a quantity"},
		{"cpu 1 and 1e6 zeros", server("    resources: {requests: {cpu: '1" + strings.Repeat("0", 1_000_000) + "'}}\n"), "at most 64 characters"},
		{"memory -1", server("    resources: {limits: {memory: '-1'}}\n"), "must not be negative"},
		{"memory 123456789Ei", server("    resources: {limits: {memory: 123456789Ei}}\n"), "is too large"},
		{"150,000 keys in a mapping", spec("  junk:\n" + keys.String()), "the function config is too large"},
		{"100,000 apiServerPorts", base + "  networkPolicy: {enabled: true, apiServerPorts: " + list("443", 100_000) + "}\n", "the function config is too large"},
		{"40,000 apiServerCIDRs", base + "  networkPolicy: {enabled: true, apiServerCIDRs: " + list("10.0.0.0/8", 40_000) + "}\n", "should have at most 64 items"},
		{"20,000 extraRules", server("    extraRules: " + list("{verbs: [get], apiGroups: [''], resources: [pods]}", 20_000) + "\n"), "the function config is too large"},
		{"2,000 extraRules", server("    extraRules: " + list("{verbs: [get], apiGroups: [''], resources: [pods]}", 2_000) + "\n"), "should have at most 64 items"},
		{"100,000 command items", server("    command: " + list("x", 100_000) + "\n"), "the function config is too large"},
		{"30,000 args", strings.Replace(base, "    args: [", "    args: "+list("--v=1", 30_000)+"\n    x: [", 1), "should have at most 256 items"},
		{"24,000 keys in a mapping", spec("  junk:\n" + keys.String()[:strings.Index(keys.String(), "    k24000:")]), "unknown field"},
		{"8 MB kind", strings.Replace(base, "kind: AggregatedAPI", "kind: "+strings.Repeat("A", 8<<20), 1), "the function config is too large"},
		{"900 KB image", strings.Replace(base, "image: registry.k8s.io", "image: registry.k8s.io"+strings.Repeat("a", 900<<10), 1), "should be at most 1024 chars long"},
		{"alias expansion 10^12", spec(bomb.String()), "the function config is too large"},
		{"5,000 pod containers", server("    podTemplate: {spec: {containers: " + list("{name: c, image: x}", 5_000) + "}}\n"), "must have at most 256 items"},
		{"255 containers, 30 env each", server("    podTemplate: {spec: {securityContext: {runAsUser: 0}, containers: " +
			strings.Replace(list("{name: cNN, image: x, env: "+list("{name: E, value: v}", 30)+"}", 255), "cNN", "apiserver", 1) + "}}\n"), "would run as root"},
		{"1,000 extraEgress rules", base + "  networkPolicy: {enabled: true, extraEgress: " + list("{ports: [{port: 10250}]}", 1_000) + "}\n", "should have at most 32 items"},
		{"nesting 10,000 deep", spec("  junk: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n"), ""},
	}
}

// resourceList wraps a config as kustomize and kpt pass it.
func resourceList(config string) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n")
	for _, l := range strings.SplitAfter(config, "\n") {
		if l != "" && l != "\n" {
			b.WriteString("  ")
		}
		b.WriteString(l)
	}
	return b.Bytes()
}

// run runs bin on stdin under ulimit -v 1048576 with a 10 s deadline.
func run(bin string, stdin []byte) (time.Duration, int64, int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -v 1048576 && exec "$0"`, bin)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var rss int64
	if cmd.ProcessState != nil {
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = u.Maxrss << 10
		}
	}
	if ctx.Err() != nil {
		return d, rss, -1, stderr.String(), errors.New("timed out after 10 s")
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code, err = exit.ExitCode(), nil
	}
	return d, rss, code, stderr.String(), err
}

// build builds the function as make build does.
func build() string {
	dir, err := os.MkdirTemp("", "aggapi-limits-")
	must(err)
	out := filepath.Join(dir, "aggapi")
	must(testutil.Build(testutil.AggapiPackage, out))
	return out
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "limits:", err)
		os.Exit(2)
	}
}
