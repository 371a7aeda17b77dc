// Package version says which build of aggapi is running: the module version and the
// VCS revision the Go toolchain stamped into the binary (runtime/debug.ReadBuildInfo),
// so `go install .../fn/cmd/aggapi@v1.2.3`, `make build` in a checkout and a container
// image each answer `aggapi version` truthfully without ldflags.
package version
