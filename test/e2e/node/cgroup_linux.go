package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	cgroupFS = "/sys/fs/cgroup"
	// cgroupPrefix starts the name of a run's cgroup root; the outer test
	// process's id follows.
	cgroupPrefix = "aggapi-e2e-node-"
)

// cgroupHierarchies returns the cgroup v1 hierarchies' directories. The kubelet
// runs with the cgroupfs driver and makes its pods' cgroups in each of them.
func cgroupHierarchies() ([]string, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(cgroupFS, &st); err != nil {
		return nil, fmt.Errorf("no cgroups at %s: %w", cgroupFS, err)
	}
	const cgroup2Magic = 0x63677270
	if st.Type == cgroup2Magic {
		return nil, fmt.Errorf("%s is cgroup v2 (unified); the node harness drives the kubelet's cgroupfs driver on cgroup v1 hierarchies", cgroupFS)
	}
	entries, err := os.ReadDir(cgroupFS)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		dir := filepath.Join(cgroupFS, e.Name())
		if e.Name() == "unified" || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err == nil {
			dirs = append(dirs, dir)
		}
	}
	for _, need := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids"} {
		if !slices.Contains(dirs, filepath.Join(cgroupFS, need)) {
			return nil, fmt.Errorf("no cgroup v1 %s hierarchy at %s", need, filepath.Join(cgroupFS, need))
		}
	}
	return dirs, nil
}

// cgroupCleanupDirs is every hierarchy a run's cgroups can be in: the v1
// hierarchies and, on a hybrid host, the unified one (the kubelet's cgroupfs
// driver mirrors its cgroups there).
func cgroupCleanupDirs() ([]string, error) {
	dirs, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	unified := filepath.Join(cgroupFS, "unified")
	if _, err := os.Stat(filepath.Join(unified, "cgroup.procs")); err == nil {
		dirs = append(dirs, unified)
	}
	return dirs, nil
}

// createCgroupRoot makes the kubelet's --cgroup-root in every hierarchy (the
// kubelet refuses a root that does not exist).
func createCgroupRoot(name string) error {
	dirs, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range dirs {
		dir := filepath.Join(h, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
		if filepath.Base(h) == "cpuset" {
			// A new cpuset has no CPUs and no memory nodes: take the parent's.
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(h, f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return fmt.Errorf("writing %s: %w", filepath.Join(dir, f), err)
				}
			}
		}
	}
	return nil
}

// removeCgroups kills every process left in the run's cgroups and removes them,
// deepest first.
func removeCgroups(name string) error {
	dirs, err := cgroupCleanupDirs()
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range dirs {
		root := filepath.Join(h, name)
		if _, err := os.Stat(root); err != nil {
			continue
		}
		var tree []string
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				tree = append(tree, path)
			}
			return nil
		})
		for _, dir := range tree {
			killCgroupProcs(dir)
		}
		slices.Reverse(tree) // children before parents
		for _, dir := range tree {
			if err := rmdirRetry(dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func killCgroupProcs(dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// rmdirRetry removes an empty cgroup; a killed process leaves it a moment later.
func rmdirRetry(dir string) error {
	var err error
	for range 50 {
		if err = syscall.Rmdir(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		killCgroupProcs(dir)
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", dir, err)
}

// removeStaleCgroups removes the cgroup roots of runs whose test process is gone
// (a run killed before its clean-up).
func removeStaleCgroups() error {
	dirs, err := cgroupCleanupDirs()
	if err != nil {
		return err
	}
	stale := map[string]bool{}
	for _, h := range dirs {
		entries, err := os.ReadDir(h)
		if err != nil {
			return err
		}
		for _, e := range entries {
			pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), cgroupPrefix))
			if !strings.HasPrefix(e.Name(), cgroupPrefix) || err != nil {
				continue
			}
			if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
				continue // that run is still going
			}
			stale[e.Name()] = true
		}
	}
	var errs []error
	for name := range stale {
		if err := removeCgroups(name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
