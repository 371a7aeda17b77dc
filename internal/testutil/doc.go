// Package testutil is what the repository's own tests and tools share: the repository
// root, building bin/aggapi and bin/aggapi-doctor as `make build` does, the kustomize
// version the Makefile pins, running commands, writing and copying files, parsing
// certificates, the golden cases' stdin and the smallest valid config. test/pipeline,
// test/e2e (build tag e2e), hack/bench and the fn packages' tests use it, so the rules
// (which kustomize counts, when a missing tool fails rather than skips, what a copy of
// an example holds) are written once. It imports no package of this module, so every
// package's tests can use it, fn/config's among them; loading the golden configs as
// decoded AggregatedAPIs needs fn/config and lives in internal/testutil/goldenconfig.
//
// Functions that take a testing.TB fail the test on error; the others return the error,
// for hack/bench, which is a program.
package testutil
