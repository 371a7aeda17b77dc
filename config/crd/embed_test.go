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
