// Package cli is the aggapi command line: with no arguments it is the KRM function
// (ResourceList on stdin, ResourceList on stdout, diagnostics on stderr); its
// subcommands are verify, aggregation-layer, doctor (which runs the aggapi-doctor
// binary) and version.
package cli
