// Package crd embeds the AggregatedAPI CustomResourceDefinition that controller-gen
// renders from fn/config, so the function validates its input against the same
// schema that users install for their editors and for kubeconform.
package crd
