// Command aggapi is a KRM function: it reads a ResourceList whose functionConfig is an
// aggapi.dev/v1alpha1 AggregatedAPI and writes it back with every object an extension
// API server needs behind the kube-aggregator.
package main

import (
	"os"
	"runtime/debug"

	"github.com/aggapi/aggapi/fn/cli"
)

func main() {
	// A render lives ~40 ms and allocates a few MB: collecting less often saves ~4 ms.
	debug.SetGCPercent(400)
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
