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

// AggregatedAPISchema is that CRD's v1alpha1 openAPIV3Schema as JSON without its
// descriptions (make generate writes it from the CRD with WithoutDescriptions): the
// function decodes it on every run, and the descriptions were two thirds of its bytes.
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

// WithoutDescriptions returns a JSON schema without the description of any of its
// nodes (a property named "description" stays).
func WithoutDescriptions(schema []byte) ([]byte, error) {
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, err
	}
	stripDescriptions(root)
	return json.Marshal(root)
}

func stripDescriptions(node map[string]any) {
	delete(node, "description")
	if props, ok := node["properties"].(map[string]any); ok {
		for _, p := range props {
			if p, ok := p.(map[string]any); ok {
				stripDescriptions(p)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if sub, ok := node[k].(map[string]any); ok {
			stripDescriptions(sub)
		}
	}
}
