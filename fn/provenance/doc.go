// Package provenance marks rendered objects with where they came from (a digest of the
// config, the aggapi version) and with a digest of what was written, and compares
// objects in a canonical form: key order, quoting style, indentation, empty fields and
// the bookkeeping annotations of kustomize and kpt do not count; values and their
// types do.
package provenance
