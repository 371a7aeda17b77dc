package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// passThrough times the function on ResourceLists of many ordinary Deployments that are
// not its own, which it must pass through, and reports wall time, CPU time and peak RSS
// (median of runs), and the cost of the largest count against the smallest.
// The target: 10,000 Deployments in at most 1 s and 256 MB on 2 cores; cost linear
// in the count (50,000 at most 5 times 10,000).
func passThrough(bins []binary, cfg []byte, counts []int, runs int) {
	fmt.Printf("\npass-through: ResourceLists of ordinary Deployments, %d runs each, binaries interleaved\n", runs)
	fmt.Printf("%-24s %-10s %10s %10s %10s %10s %10s\n", "binary", "items", "input", "median", "user+sys", "peak RSS", "exit")
	type result struct {
		wall, cpu time.Duration
		rss       int64
	}
	type samples struct {
		walls, cpus []time.Duration
		rss         []int64
		code        int
	}
	first := make([]result, len(bins))
	last := make([]result, len(bins))
	for i, n := range counts {
		stdin := deploymentList(n, cfg)
		got := make([]samples, len(bins))
		for range runs {
			for b, bin := range bins {
				g := &got[b]
				cmd := exec.Command(bin.path)
				cmd.Stdin = bytes.NewReader(stdin)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				start := time.Now()
				err := cmd.Run()
				g.walls = append(g.walls, time.Since(start))
				if ee, ok := err.(*exec.ExitError); ok {
					g.code = ee.ExitCode()
				} else if err != nil {
					fail(err.Error())
				}
				st := cmd.ProcessState
				g.cpus = append(g.cpus, st.UserTime()+st.SystemTime())
				if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
					g.rss = append(g.rss, ru.Maxrss*1024)
				}
				if g.code != 0 {
					fmt.Printf("  %s exit %d: %s", bin.name, g.code, firstLine(stderr.String()))
				}
			}
		}
		for b, bin := range bins {
			g := &got[b]
			slices.Sort(g.walls)
			slices.Sort(g.cpus)
			slices.Sort(g.rss)
			r := result{g.walls[len(g.walls)/2], g.cpus[len(g.cpus)/2], g.rss[len(g.rss)/2]}
			fmt.Printf("%-24s %-10d %9.1fM %10s %10s %9dM %10d\n", bin.name, n, float64(len(stdin))/1e6, ms(r.wall), ms(r.cpu), r.rss>>20, g.code)
			if i == 0 {
				first[b] = r
			}
			last[b] = r
		}
	}
	if len(counts) > 1 {
		f := float64(counts[len(counts)-1]) / float64(counts[0])
		for b, bin := range bins {
			fmt.Printf("%s: %d over %d items (%.0fx the items): wall %.2fx, CPU %.2fx, peak RSS %.2fx\n",
				bin.name, counts[len(counts)-1], counts[0], f, float64(last[b].wall)/float64(first[b].wall),
				float64(last[b].cpu)/float64(first[b].cpu), float64(last[b].rss)/float64(first[b].rss))
		}
	}
}

// binary is a function binary under measurement and the name its rows carry.
type binary struct{ name, path string }

// deploymentList is a ResourceList of n ordinary Deployments (~850 bytes each) and cfg.
func deploymentList(n int, cfg []byte) []byte {
	var b bytes.Buffer
	b.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")
	testutil.WriteDeployments(&b, n)
	b.WriteString("functionConfig:\n" + indent(string(cfg)))
	return b.Bytes()
}

// parseCounts reads a comma-separated list of item counts.
func parseCounts(s string) []int {
	var counts []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			fail(fmt.Sprintf("-items: %q is not a count", f))
		}
		counts = append(counts, n)
	}
	return counts
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l + "\n"
}
