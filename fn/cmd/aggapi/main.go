package main

import (
	"os"
	"runtime/debug"

	"github.com/aggapi/aggapi/fn/cli"
)

func main() {
	// A process lives for one render and returns its memory at exit: the example renders
	// before the first collection either way, and 2,000 pass-through items take one
	// collection instead of five (measured with GODEBUG=gctrace=1).
	debug.SetGCPercent(400)
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
