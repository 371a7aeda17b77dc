// Package gate tests the repository's CI gate, `make verify` (which `make test` and
// .ci/run run first): on a copy of the tree, an unformatted line in any Go file, hack/
// included, or a field added to fn/config/types.go without `make generate` must fail
// it, and the tree as it is must pass it. It also holds the layout rules a review
// would otherwise police: every package's doc comment lives in its doc.go.
package gate
