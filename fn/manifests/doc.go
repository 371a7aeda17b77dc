// Package manifests builds the typed Kubernetes objects of an aggregated API from a
// validated config and the PEM of its certificates. It knows nothing of crypto beyond
// "here are PEM bytes", and nothing of KRM plumbing.
package manifests
