package schemacheck

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below reproduce what kube-openapi's validate.SchemaValidator (with
// strfmt.Default) reports for the keywords of our schema: the same paths, messages and
// values, quirks included, so users see the errors they saw before (TestSchemaMatchesKubeOpenAPI).

// Validate checks a document decoded by encoding/json against the schema.
func (s *Schema) Validate(doc any) field.ErrorList {
	c := checker{path: make([]step, 0, 8)}
	s.check(doc, &c)
	return c.errs
}

// checker holds the errors found so far and the path to the value being checked.
type checker struct {
	errs field.ErrorList
	path []step
}

// step is one step of the path from the document's root to a value.
type step struct {
	kind  stepKind
	name  string
	index int
}

type stepKind uint8

const (
	stepProperty stepKind = iota // a declared property: "a.b", or "b" at the root
	stepEntry                    // an additionalProperties entry: always "a.key", even at the root
	stepItem                     // a list item: "a[0]"
)

// in checks a child value, one step further down the path.
func (c *checker) in(st step, s *Schema, v any) {
	c.path = append(c.path, st)
	s.check(v, c)
	c.path = c.path[:len(c.path)-1]
}

// at spells the path to the current value as kube-openapi does; only failures pay for it.
func (c *checker) at() string {
	var b strings.Builder
	for _, st := range c.path {
		switch st.kind {
		case stepProperty:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(st.name)
		case stepEntry:
			b.WriteByte('.')
			b.WriteString(st.name)
		case stepItem:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
		}
	}
	return b.String()
}

// invalid records a field.Invalid at the current value.
func (c *checker) invalid(value any, detail string) {
	c.errs = append(c.errs, field.Invalid(PathFrom(c.at()), value, detail))
}

// required records a field.Required at path, which is kube-openapi's spelling.
func (c *checker) required(path string) {
	c.errs = append(c.errs, field.Required(PathFrom(path), ""))
}

// check runs the checks in kube-openapi's order: type, string, number, items, enum,
// object. Which run depends on the Go kind of the value, not on the declared type.
func (s *Schema) check(v any, c *checker) {
	if s == nil {
		return
	}
	if v == nil {
		// nullable is not in our subset: null fails any typed schema.
		if s.Type != "" {
			c.invalid("null", fmt.Sprintf("must be of type %s: %q", s.Type, "null"))
		}
		s.checkEnum(v, c)
		return
	}
	s.checkType(v, c)
	switch v := v.(type) {
	case string:
		s.checkString(v, c)
	case float64:
		s.checkNumber(v, c)
	case []any:
		s.checkItems(v, c)
	}
	s.checkEnum(v, c)
	if m, ok := v.(map[string]any); ok {
		s.checkObject(m, c)
	}
}

func (s *Schema) checkType(v any, c *checker) {
	if s.Type == "" && s.Format == "" {
		return
	}
	got, gotFormat := jsonType(v)
	f, isNumber := v.(float64)
	// An integer may come as a float64 that is whole (to one part in 1e9).
	wholeNumber := isNumber && s.Type == "integer" && IsJSONInteger(f)
	_, isString := v.(string)
	_, isList := v.([]any)
	if !isString && !isList && s.Format != "" && s.Type != got && gotFormat != s.Format && !wholeNumber {
		c.invalid(gotFormat, fmt.Sprintf("must be of type %s: %q", s.Format, gotFormat))
		return
	}
	if s.Type != "integer" && s.Type != "number" && s.Format != "" && (isString || isList) {
		return
	}
	if s.Type != got && !wholeNumber {
		c.invalid(got, fmt.Sprintf("must be of type %s: %q", s.Type, got))
	}
}

// jsonType names the JSON type of a decoded value, and the format kube-openapi infers from its Go type.
func jsonType(v any) (string, string) {
	switch v.(type) {
	case string:
		return "string", ""
	case bool:
		return "boolean", ""
	case float64:
		return "number", "float64"
	case []any:
		return "array", ""
	case map[string]any:
		return "object", ""
	}
	return "", ""
}

// isJSONInteger is go-openapi/swag's IsFloat64AJSONInteger: whole, or within a
// relative 1e-9 of whole, and no larger than 2^53-1.
func IsJSONInteger(f float64) bool {
	const maxJSONInteger = float64(1<<53 - 1)
	if math.IsNaN(f) || math.IsInf(f, 0) || f < -maxJSONInteger || f > maxJSONInteger {
		return false
	}
	rounded := math.Round(f)
	if f == rounded {
		return true
	}
	if rounded == 0 {
		return false
	}
	return math.Abs(f-rounded) < 1e-9*math.Abs(rounded)
}

// checkString reports the first of too long, too short, not matching the pattern.
func (s *Schema) checkString(v string, c *checker) {
	n := int64(utf8.RuneCountInString(v))
	switch {
	case s.MaxLength != nil && n > *s.MaxLength:
		c.invalid(v, fmt.Sprintf("should be at most %d chars long", *s.MaxLength))
	case s.MinLength != nil && n < *s.MinLength:
		if v == "" {
			c.required(c.at())
		} else {
			c.invalid(v, fmt.Sprintf("should be at least %d chars long", *s.MinLength))
		}
	case s.Pattern != "":
		re, err := s.compiled.get(s.Pattern)
		if err != nil {
			c.invalid(v, fmt.Sprintf("should match '%s, but pattern is invalid: %s'", s.Pattern, err))
		} else if !re.MatchString(v) {
			c.invalid(v, fmt.Sprintf("should match '%s'", s.Pattern))
		}
	}
}

// checkNumber checks that the value, and the bounds, fit the integer format, then the bounds.
func (s *Schema) checkNumber(v float64, c *checker) {
	s.checkRange(v, "Checked", c)
	if s.Minimum != nil {
		s.checkRange(*s.Minimum, "Minimum boundary", c)
		if v < *s.Minimum {
			c.invalid(v, fmt.Sprintf("should be greater than or equal to %v", *s.Minimum))
		}
	}
	if s.Maximum != nil {
		s.checkRange(*s.Maximum, "Maximum boundary", c)
		if v > *s.Maximum {
			c.invalid(v, fmt.Sprintf("should be less than or equal to %v", *s.Maximum))
		}
	}
}

// checkRange reports a number an integer schema's format cannot hold; kube-openapi
// reports it as a plain error, which becomes one without a field path.
func (s *Schema) checkRange(v float64, what string, c *checker) {
	if s.Type != "integer" {
		return
	}
	bits, format := 64, ""
	switch s.Format {
	case "int32":
		bits, format = 32, s.Format
	case "int64":
		format = s.Format
	}
	if _, err := strconv.ParseInt(strconv.FormatFloat(v, 'f', -1, 64), 10, bits); err == nil {
		return
	}
	msg := fmt.Sprintf("%s value must be of type integer (default format) in %s", what, c.at())
	if format != "" {
		msg = fmt.Sprintf("%s value must be of type integer with format %s in %s", what, format, c.at())
	}
	c.errs = append(c.errs, field.Invalid(field.NewPath(""), nil, msg))
}

func (s *Schema) checkItems(v []any, c *checker) {
	if s.Items != nil {
		for i, item := range v {
			c.in(step{kind: stepItem, index: i}, s.Items, item)
		}
	}
	n := int64(len(v))
	if s.MinItems != nil && n < *s.MinItems {
		c.invalid(n, fmt.Sprintf("should have at least %d items", *s.MinItems))
	}
	if s.MaxItems != nil && n > *s.MaxItems {
		c.invalid(n, fmt.Sprintf("should have at most %d items", *s.MaxItems))
	}
}

// checkEnum compares JSON values as kube-openapi does; null matches nothing.
func (s *Schema) checkEnum(v any, c *checker) {
	if len(s.Enum) == 0 {
		return
	}
	if v != nil {
		for _, e := range s.Enum {
			if reflect.DeepEqual(v, e) {
				return
			}
		}
	}
	c.invalid(v, fmt.Sprintf("should be one of %v", s.Enum))
}

func (s *Schema) checkObject(m map[string]any, c *checker) {
	n := int64(len(m))
	if s.MinProperties != nil && n < *s.MinProperties {
		c.invalid(n, fmt.Sprintf("should have at least %d properties", *s.MinProperties))
	}
	if s.MaxProperties != nil && n > *s.MaxProperties {
		c.invalid(n, fmt.Sprintf("should have at most %d properties", *s.MaxProperties))
	}
	extra := s.AdditionalProperties
	if extra.Forbidden || extra.Schema != nil {
		for _, key := range slices.Sorted(maps.Keys(m)) {
			if _, known := s.Properties[key]; known {
				continue
			}
			if extra.Forbidden {
				// kube-openapi's message keeps its "in body" here: the key follows the path.
				c.invalid(key, fmt.Sprintf("%s.%s in body is a forbidden property", c.at(), key))
				continue
			}
			c.in(step{kind: stepEntry, name: key}, extra.Schema, m[key])
		}
	}
	for _, name := range s.propertyNames {
		if v, ok := m[name]; ok {
			c.in(step{kind: stepProperty, name: name}, s.Properties[name], v)
		}
	}
	for _, name := range s.Required {
		if _, ok := m[name]; !ok {
			c.required(c.at() + "." + name)
		}
	}
}
