// Package mallocarena keeps a cgo build of aggapi within an address-space limit.
//
// The shipped builds are static (CGO_ENABLED=0: make build, make release, the image),
// and for them this package is empty. A plain `go build` or `go install` on a machine
// with a C compiler links glibc instead, because the net and os/user packages have cgo
// variants. glibc's malloc then gives every thread that allocates an arena of its own,
// reserving 64 MB of address space each; with the Go runtime's own reservations that
// exceeded `ulimit -v 1048576` (the limit docs/limits.md promises):
// measured, such a build died with "fatal error: runtime: cannot allocate memory" on
// every run over 10,000 pass-through Deployments, and failed to start a thread on about
// one small input in twelve, where the static build and the same build with
// MALLOC_ARENA_MAX=1 never did.
//
// Imported for its side effect by the mains, it caps glibc at one malloc arena before
// any thread starts (a C constructor calling mallopt(M_ARENA_MAX, 1)): what
// MALLOC_ARENA_MAX=1 does. Go allocates its own memory, so the threads never contend
// for that arena.
package mallocarena
