package main

import (
	"os"

	"github.com/aggapi/aggapi/fn/doctor"

	// One glibc malloc arena in a cgo build, so it keeps within ulimit -v.
	_ "github.com/aggapi/aggapi/fn/internal/mallocarena"
)

func main() {
	os.Exit(doctor.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
