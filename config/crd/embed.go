// Package crd embeds the AggregatedAPI CustomResourceDefinition that controller-gen
// renders from fn/config, so the function validates its input against the same
// schema that users install for their editors and for kubeconform.
package crd

import (
	_ "embed"
	"encoding/json"
	"fmt"

	sigsyaml "sigs.k8s.io/yaml"
)

// AggregatedAPI is the CRD of aggapi.dev/v1alpha1 AggregatedAPI.
//
//go:embed aggapi.dev_aggregatedapis.yaml
var AggregatedAPI []byte

// AggregatedAPISchema is that CRD's v1alpha1 openAPIV3Schema as JSON (make generate
// writes it from the CRD); the function decodes it on every run, and JSON is cheap.
//
//go:embed aggregatedapi.v1alpha1.schema.json
var AggregatedAPISchema []byte

// SchemaOf returns the v1alpha1 openAPIV3Schema of a CRD as JSON.
func SchemaOf(crd []byte) ([]byte, error) {
	var def struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := sigsyaml.Unmarshal(crd, &def); err != nil {
		return nil, err
	}
	for _, v := range def.Spec.Versions {
		if v.Name == "v1alpha1" {
			return v.Schema.OpenAPIV3Schema, nil
		}
	}
	return nil, fmt.Errorf("no v1alpha1 schema")
}
