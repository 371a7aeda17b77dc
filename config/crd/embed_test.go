package crd

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestSchemaJSONMatchesCRD keeps the JSON schema the function reads in step with the
// CRD controller-gen renders (make generate writes both).
func TestSchemaJSONMatchesCRD(t *testing.T) {
	schema, err := SchemaOf(AggregatedAPI)
	if err != nil {
		t.Fatal(err)
	}
	if schema, err = WithoutDescriptions(schema); err != nil {
		t.Fatal(err)
	}
	var fromCRD, embedded bytes.Buffer
	if err := json.Compact(&fromCRD, schema); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&embedded, AggregatedAPISchema); err != nil {
		t.Fatal(err)
	}
	if fromCRD.String() != embedded.String() {
		t.Fatal("config/crd/aggregatedapi.v1alpha1.schema.json is stale: run make generate")
	}
}

// TestWithoutDescriptions drops the keyword, not a property of that name.
func TestWithoutDescriptions(t *testing.T) {
	in := `{"description":"d","type":"object","properties":{"description":{"description":"x","type":"string"},"list":{"type":"array","items":{"description":"i","type":"string"}},"map":{"type":"object","additionalProperties":{"description":"a","type":"string"}}}}`
	want := `{"properties":{"description":{"type":"string"},"list":{"items":{"type":"string"},"type":"array"},"map":{"additionalProperties":{"type":"string"},"type":"object"}},"type":"object"}`
	got, err := WithoutDescriptions([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
