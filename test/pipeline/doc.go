// Package pipeline tests the aggapi binary inside the pipelines it is meant for:
// kustomize (the pinned CLI in bin/ and krusty in-process) and kpt (fn render and
// fn eval, when kpt is on PATH), using the bundled examples. It has no non-test code.
package pipeline
