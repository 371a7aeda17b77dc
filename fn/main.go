// Command aggapi is a KRM function: it reads a ResourceList whose functionConfig is an
// aggapi.dev/v1alpha1 AggregatedAPI and writes it back with every object an extension
// API server needs behind the kube-aggregator.
package main

import (
	"os"

	"github.com/aggapi/aggapi/fn/cli"
)

func main() {
	// The garbage collector is set by the input's size: see cli.Function.
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
