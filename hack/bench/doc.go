// Command bench times whole processes, interleaved in one run so that the machine's
// load hits every command alike, and prints medians and ratios:
//
//	go run ./hack/bench [-n 200]
//
// It compares the function on the example (first render and re-render) with a bare
// stdin→stdout Go binary and with the dependency floor (a binary that links what the
// function links and does nothing), and kustomize build of the example with the
// function against kustomize build of the same objects as plain resources.
package main
