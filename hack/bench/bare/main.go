// Command bare copies stdin to stdout: the cost of starting any Go process.
package main

import (
	"io"
	"os"
)

func main() { _, _ = io.Copy(os.Stdout, os.Stdin) }
