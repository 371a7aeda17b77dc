// Package schemacheck checks a JSON document against the subset of OpenAPI v3 that
// controller-gen writes for AggregatedAPI, reporting what kube-openapi's validator
// reports (paths, messages, values), without its start-up cost. fn/config's tests hold
// it to kube-openapi (TestSchemaMatchesKubeOpenAPI, FuzzSchema).
package schemacheck
