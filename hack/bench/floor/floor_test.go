package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// thirdPartyDeps lists the packages outside the standard library and this module that
// the package pkg links.
func thirdPartyDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.HasPrefix(p, "github.com/aggapi/aggapi") {
			deps = append(deps, p)
		}
	}
	slices.Sort(deps)
	return deps
}

// TestFloorImportsWhatTheFunctionImports: the floor's ratio means something only while
// it links exactly the function's third-party packages.
func TestFloorImportsWhatTheFunctionImports(t *testing.T) {
	fn, floor := thirdPartyDeps(t, "github.com/aggapi/aggapi/fn/cmd/aggapi"), thirdPartyDeps(t, ".")
	for _, p := range fn {
		if !slices.Contains(floor, p) {
			t.Errorf("the function links %s and the floor does not: add its importer to hack/bench/floor", p)
		}
	}
	for _, p := range floor {
		if !slices.Contains(fn, p) {
			t.Errorf("the floor links %s and the function does not: drop it from hack/bench/floor", p)
		}
	}
}
