package schemacheck

import (
	"bytes"
	"encoding/json"
	"regexp"
	"sort"
	"sync"
)

// Schema is one node of an OpenAPI v3 schema, cut down to the keywords controller-gen
// writes for AggregatedAPI; fn/config's TestSchemaKeywordsAreKnown fails when the CRD uses another.
type Schema struct {
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Enum                 []any              `json:"enum"`
	Properties           map[string]*Schema `json:"properties"`
	AdditionalProperties Additional         `json:"additionalProperties"`
	Required             []string           `json:"required"`
	Items                *Schema            `json:"items"`
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

// Additional is additionalProperties, which JSON Schema allows to be a bool or a schema.
type Additional struct {
	Schema    *Schema
	Forbidden bool
}

func (a *Additional) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "null":
		*a = Additional{}
		return nil
	case "false":
		*a = Additional{Forbidden: true}
		return nil
	}
	a.Schema = new(Schema)
	return json.Unmarshal(b, a.Schema)
}

// PropertyNames are the keys of Properties, sorted.
func (s *Schema) PropertyNames() []string { return s.propertyNames }

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

// Parse decodes a schema from JSON and readies it for checking.
func Parse(b []byte) (*Schema, error) {
	var s Schema
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	s.prepare()
	return &s, nil
}

func (s *Schema) prepare() {
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
	s.AdditionalProperties.Schema.prepare()
}
