// Package version says which build of aggapi is running: the version a release links
// in, else the main module's version and the VCS revision the Go toolchain stamped
// into the binary (runtime/debug.ReadBuildInfo), so `go install
// .../fn/cmd/aggapi@v1.2.3` and `make build` in a checkout answer `aggapi version`
// truthfully without ldflags, and "(devel)" is the answer of a build that knows none.
package version
