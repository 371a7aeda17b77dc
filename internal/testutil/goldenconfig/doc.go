// Package goldenconfig loads the valid golden configs under testdata as decoded
// AggregatedAPIs, for the tests that hold a package to every shape a user can write.
// It is apart from internal/testutil because it imports fn/config: testutil imports
// no package of this module, so every package's tests, fn/config's among them, can
// use it without an import cycle.
package goldenconfig
