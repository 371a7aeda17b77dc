// Package e2e holds end-to-end tests that run against a real kube-apiserver
// on loopback (see package controlplane). They are behind the build tag
// "e2e" and need the binaries from hack/e2e/install.sh:
//
//	hack/e2e/install.sh
//	go test -tags e2e ./test/e2e/... -v -count=1
//
// Besides the sample-apiserver, the tests run servers nobody here wrote
// behind the rendered examples: metrics-server (examples/metrics-server) and
// the custom-metrics test adapter (examples/custom-metrics-adapter), each as
// a local process with the rendered args, certificate and ServiceAccount.
// The test adapter listens on :8080 (fixed upstream) for fake metric values,
// so that port must be free.
//
// Without the binaries the tests skip, or fail if E2E_REQUIRE=1. The tests that
// render with kustomize need the Makefile's pinned kustomize in bin/ (`make tools`):
// without it they skip, or fail if AGGAPI_REQUIRE_TOOLS=1, as every test of the
// repository does (internal/testutil); `make e2e` sets both.
package e2e
