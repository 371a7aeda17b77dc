// Package version tells which aggapi this is: the version `make release` links in, or
// else the main module's version from the build info (a tag or pseudo-version for `go
// install` and `go build` in a Git checkout), or "(devel)".
package version

import (
	"runtime/debug"
	"sync"
)

// stamped is set at link time by `make release`:
//
//	-ldflags "-X github.com/aggapi/aggapi/fn/version.stamped=v0.1.0"
var stamped string

// Devel is the version of a build that carries none (go test, go build -buildvcs=false).
const Devel = "(devel)"

// String is the version of this binary; it never changes while the process runs.
func String() string { return current() }

var current = sync.OnceValue(func() string {
	if stamped != "" {
		return stamped
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return Devel
})
