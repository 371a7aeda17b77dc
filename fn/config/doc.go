// Package config holds the AggregatedAPI function config: its Go type, defaults,
// schema check and validation. It knows nothing of certificates or manifests.
//
// +kubebuilder:object:generate=false
// +groupName=aggapi.dev
// +versionName=v1alpha1
package config
