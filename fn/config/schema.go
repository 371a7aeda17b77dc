package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/aggapi/aggapi/config/crd"
)

// schema is one node of an OpenAPI v3 schema, cut down to the keywords controller-gen
// writes for AggregatedAPI; TestSchemaKeywordsAreKnown fails when the CRD uses another.
type schema struct {
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Enum                 []any              `json:"enum"`
	Properties           map[string]*schema `json:"properties"`
	AdditionalProperties additional         `json:"additionalProperties"`
	Required             []string           `json:"required"`
	Items                *schema            `json:"items"`
	MinItems             *int64             `json:"minItems"`
	MaxItems             *int64             `json:"maxItems"`
	MinProperties        *int64             `json:"minProperties"`
	MaxProperties        *int64             `json:"maxProperties"`
	MinLength            *int64             `json:"minLength"`
	MaxLength            *int64             `json:"maxLength"`
	Pattern              string             `json:"pattern"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`

	// propertyNames are the keys of Properties, sorted once so errors come out in a stable order.
	propertyNames []string
	// compiled is Pattern, compiled the first time a value is checked against it.
	compiled lazyRegexp
}

// additional is additionalProperties, which JSON Schema allows to be a bool or a schema.
type additional struct {
	schema    *schema
	forbidden bool
}

func (a *additional) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "null":
		*a = additional{}
		return nil
	case "false":
		*a = additional{forbidden: true}
		return nil
	}
	a.schema = new(schema)
	return json.Unmarshal(b, a.schema)
}

// lazyRegexp compiles a pattern once, and only if a value meets it: most patterns of
// the CRD guard fields a config does not set.
type lazyRegexp struct {
	once sync.Once
	re   *regexp.Regexp
	err  error
}

func (l *lazyRegexp) get(expr string) (*regexp.Regexp, error) {
	l.once.Do(func() { l.re, l.err = regexp.Compile(expr) })
	return l.re, l.err
}

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
		crdSchemaRoot, crdSchemaErr = parseSchema(crd.AggregatedAPISchema)
		if crdSchemaErr != nil {
			crdSchemaErr = fmt.Errorf("decoding the embedded schema: %w", crdSchemaErr)
		}
	})
	return crdSchemaRoot, crdSchemaErr
}

// parseSchema decodes a schema from JSON and readies it for checking.
func parseSchema(b []byte) (*schema, error) {
	var s schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	s.prepare()
	return &s, nil
}

func (s *schema) prepare() {
	if s == nil {
		return
	}
	s.propertyNames = make([]string, 0, len(s.Properties))
	for name, p := range s.Properties {
		s.propertyNames = append(s.propertyNames, name)
		p.prepare()
	}
	sort.Strings(s.propertyNames)
	s.Items.prepare()
	s.AdditionalProperties.schema.prepare()
}
