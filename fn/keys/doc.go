// Package keys is the one home of the label and annotation keys aggapi writes and
// reads, and of the rules that tell kustomize's and kpt's bookkeeping annotations
// apart: every other package names a key through it, so no copy can drift.
package keys
