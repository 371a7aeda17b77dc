// Package importer turns the manifests of an extension API server installed without
// aggapi (upstream YAML, `helm template` output) into an AggregatedAPI config whose
// render updates those objects in place: it follows the APIServices to their Service,
// the Service's selector to the Deployment, and the pods' ServiceAccount to its RBAC,
// and writes what it found as config fields, leaving out what equals a default. A
// Report lists every change the adoption brings and every object aggapi does not
// render.
package importer
