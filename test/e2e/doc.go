// Package e2e holds end-to-end tests that run against a real kube-apiserver
// on loopback (see package controlplane). They are behind the build tag
// "e2e" and need the binaries from hack/e2e/install.sh:
//
//	hack/e2e/install.sh
//	go test -tags e2e ./test/e2e/... -v -count=1
//
// Without the binaries the tests skip, or fail if E2E_REQUIRE=1.
package e2e
