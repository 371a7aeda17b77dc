// Package release tests what a user installs: `make release`, the LICENSE, the
// CHANGELOG and the catalog metadata of the container form.
package release
