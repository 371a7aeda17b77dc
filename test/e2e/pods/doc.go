// Package pods holds end-to-end tests on real pods: the rendered Deployments of
// the examples run on a real kubelet (package node) joined to a real control
// plane (package controlplane), in namespaces the test binary makes for itself.
// They are behind the build tag "e2e" and need hack/e2e/install.sh's binaries
// and packages; without them, or without root, they skip (fail with
// E2E_REQUIRE=1).
package pods
