package main

import (
	"os"

	"github.com/aggapi/aggapi/fn/cli"

	// One glibc malloc arena in a cgo build, so it keeps within ulimit -v.
	_ "github.com/aggapi/aggapi/fn/internal/mallocarena"
)

func main() {
	// The garbage collector is set by the input's size, in cli.Function: GOGC=400 for a
	// small render, a soft memory limit at the estimated need for a large one.
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
