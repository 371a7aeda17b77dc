package config

import (
	"fmt"
	"sync"

	"github.com/aggapi/aggapi/config/crd"
	"github.com/aggapi/aggapi/fn/config/internal/schemacheck"
)

// schema is a node of the CRD's OpenAPI schema; fn/config/internal/schemacheck checks
// documents against it.
type schema = schemacheck.Schema

var (
	crdSchemaOnce sync.Once
	crdSchemaRoot *schema
	crdSchemaErr  error
)

// Warm decodes the schema ahead of need; a caller with a spare core runs it while it
// reads its input.
func Warm() { _, _ = crdSchema() }

// crdSchema decodes the v1alpha1 openAPIV3Schema of the embedded CRD once per process.
func crdSchema() (*schema, error) {
	crdSchemaOnce.Do(func() {
		crdSchemaRoot, crdSchemaErr = schemacheck.Parse(crd.AggregatedAPISchema)
		if crdSchemaErr != nil {
			crdSchemaErr = fmt.Errorf("decoding the embedded schema: %w", crdSchemaErr)
		}
	})
	return crdSchemaRoot, crdSchemaErr
}

// parseSchema decodes a schema from JSON and readies it for checking.
func parseSchema(b []byte) (*schema, error) { return schemacheck.Parse(b) }
