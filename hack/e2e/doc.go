// Package e2etools is a placeholder so that the hack/e2e wrapper module
// contains a buildable package. The module exists only to pin and build the
// control-plane binaries listed as tool directives in go.mod; see install.sh.
package e2etools
