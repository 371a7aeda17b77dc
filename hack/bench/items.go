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
// Target (issue 10): 10,000 Deployments in at most 1 s and 256 MB on 2 cores; cost
// linear in the count (50,000 at most 5 times 10,000).
func passThrough(aggapi string, cfg []byte, counts []int, runs int) {
	fmt.Printf("\npass-through: ResourceLists of ordinary Deployments, %d runs each\n", runs)
	fmt.Printf("%-10s %10s %10s %10s %10s %10s\n", "items", "input", "median", "user+sys", "peak RSS", "exit")
	type result struct {
		wall, cpu time.Duration
		rss       int64
	}
	var first, last result
	for i, n := range counts {
		stdin := deploymentList(n, cfg)
		var walls, cpus []time.Duration
		var rss []int64
		code := 0
		for range runs {
			cmd := exec.Command(aggapi)
			cmd.Stdin = bytes.NewReader(stdin)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			walls = append(walls, time.Since(start))
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				fail(err.Error())
			}
			st := cmd.ProcessState
			cpus = append(cpus, st.UserTime()+st.SystemTime())
			if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
				rss = append(rss, ru.Maxrss*1024)
			}
			if code != 0 {
				fmt.Printf("  exit %d: %s", code, firstLine(stderr.String()))
			}
		}
		slices.Sort(walls)
		slices.Sort(cpus)
		slices.Sort(rss)
		r := result{walls[len(walls)/2], cpus[len(cpus)/2], rss[len(rss)/2]}
		fmt.Printf("%-10d %9.1fM %10s %10s %9dM %10d\n", n, float64(len(stdin))/1e6, ms(r.wall), ms(r.cpu), r.rss>>20, code)
		if i == 0 {
			first = r
		}
		last = r
	}
	if len(counts) > 1 {
		f := float64(counts[len(counts)-1]) / float64(counts[0])
		fmt.Printf("%d over %d items (%.0fx the items): wall %.2fx, CPU %.2fx, peak RSS %.2fx\n",
			counts[len(counts)-1], counts[0], f, float64(last.wall)/float64(first.wall),
			float64(last.cpu)/float64(first.cpu), float64(last.rss)/float64(first.rss))
	}
}

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
