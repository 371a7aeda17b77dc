// Package config holds the AggregatedAPI function config and loads it in one pipeline
// (load.go): read the YAML within limits (limits.go, internal/yamljson), check it
// against the CRD's schema (schema.go, internal/schemacheck), decode strictly, default
// (defaults.go) and validate (validate*.go), with every error shaped into a message
// that says where and what would do (messages.go). The type is in types.go, the names
// of the objects a config owns in names.go. It knows nothing of certificates or
// manifests.
//
// +kubebuilder:object:generate=false
// +groupName=aggapi.dev
// +versionName=v1alpha1
package config
