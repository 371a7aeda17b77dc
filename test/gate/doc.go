// Package gate tests the repository's CI gate, `make verify` (which `make test` and
// .ci/run run first): on a copy of the tree, an unformatted line in any Go file, hack/
// included, or a field added to fn/config/types.go without `make generate` must fail
// it, and the tree as it is must pass it.
package gate
