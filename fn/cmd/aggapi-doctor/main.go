package main

import (
	"os"

	"github.com/aggapi/aggapi/fn/doctor"
)

func main() {
	os.Exit(doctor.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
