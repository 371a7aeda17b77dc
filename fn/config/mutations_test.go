package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// mutation sets (or drops) the value at one path of a document.
type mutation struct {
	path  []any // property names, map keys and list indexes
	value any
	drop  bool
}

func (m mutation) String() string {
	if m.drop {
		return fmt.Sprintf("drop %v", m.path)
	}
	return fmt.Sprintf("set %v to %#v", m.path, m.value)
}

// apply returns a copy of doc with the mutation made, creating the objects and lists on the way.
func (m mutation) apply(doc any) any {
	return setAt(deepCopy(doc), m.path, m.value, m.drop)
}

func setAt(node any, path []any, value any, drop bool) any {
	if len(path) == 0 {
		return value
	}
	switch seg := path[0].(type) {
	case string:
		obj, ok := node.(map[string]any)
		if !ok {
			obj = map[string]any{}
		}
		if drop && len(path) == 1 {
			delete(obj, seg)
			return obj
		}
		obj[seg] = setAt(obj[seg], path[1:], value, drop)
		return obj
	case int:
		list, _ := node.([]any)
		for len(list) <= seg {
			list = append(list, nil)
		}
		list[seg] = setAt(list[seg], path[1:], value, drop)
		return list
	}
	panic(fmt.Sprintf("path segment %#v", path[0]))
}

func deepCopy(doc any) any {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// mutations are, for every node of the schema, values of each JSON type, values
// around each bound, and the node removed.
func mutations(root *schema) []mutation {
	var out []mutation
	var walk func(s *schema, path []any)
	walk = func(s *schema, path []any) {
		if s == nil {
			return
		}
		for _, v := range valuesFor(s) {
			out = append(out, mutation{path: path, value: v})
		}
		if len(path) > 0 {
			if _, isIndex := path[len(path)-1].(int); !isIndex {
				out = append(out, mutation{path: path, drop: true})
			}
		}
		for _, name := range s.PropertyNames() {
			walk(s.Properties[name], append(slices.Clone(path), name))
		}
		if s.Items != nil {
			walk(s.Items, append(slices.Clone(path), 0))
			walk(s.Items, append(slices.Clone(path), 2))
		}
		if extra := s.AdditionalProperties.Schema; extra != nil {
			for _, key := range []string{"memory", "a.b", "x[0]", "", "spec"} {
				walk(extra, append(slices.Clone(path), key))
			}
		}
		if s.AdditionalProperties.Forbidden {
			out = append(out, mutation{path: append(slices.Clone(path), "notDeclared"), value: "x"})
		}
	}
	walk(root, nil)
	return out
}

// valuesFor are the values worth trying at a node of the schema.
func valuesFor(s *schema) []any {
	values := []any{
		nil, "", "x", "é", true, false, 0.0, 7.0, -1.0, 1.5,
		map[string]any{}, map[string]any{"unknown": 1.0}, []any{}, []any{"a"}, []any{nil}, []any{map[string]any{}},
	}
	for _, bound := range []*float64{s.Minimum, s.Maximum} {
		if bound != nil {
			b := *bound
			values = append(values, b-1, b, b+1, b+0.5, b-1e-12, b+1e-6, -b)
		}
	}
	values = append(values, 2147483647.0, 2147483648.0, -2147483649.0, 3e9, 1e16, 9007199254740991.0, 1e300, 1.0000000001, 1e-7)
	for _, limit := range []*int64{s.MinLength, s.MaxLength} {
		if limit != nil {
			for _, n := range []int64{*limit - 1, *limit, *limit + 1} {
				if n >= 0 {
					values = append(values, strings.Repeat("a", int(n)), strings.Repeat("é", int(n)))
				}
			}
		}
	}
	if s.Pattern != "" {
		values = append(values, "bogus", "1h", "1.5h30m", "1h ", "-1s")
	}
	for _, e := range s.Enum {
		values = append(values, e)
		if str, ok := e.(string); ok {
			values = append(values, strings.ToLower(str), str+" ")
		}
	}
	if len(s.Enum) > 0 {
		values = append(values, "Nope")
	}
	for _, limit := range []*int64{s.MinItems, s.MaxItems} {
		if limit != nil {
			for _, n := range []int64{*limit - 1, *limit, *limit + 1} {
				if n >= 0 {
					values = append(values, listOf(int(n), sampleOf(s.Items)))
				}
			}
		}
	}
	if s.Items != nil {
		values = append(values, []any{sampleOf(s.Items), 1.0, nil})
	}
	for _, limit := range []*int64{s.MinProperties, s.MaxProperties} {
		if limit != nil {
			for _, n := range []int64{*limit - 1, *limit, *limit + 1} {
				if n >= 0 {
					values = append(values, mapOf(int(n), sampleOf(s.AdditionalProperties.Schema)))
				}
			}
		}
	}
	if len(s.Required) > 0 {
		partial := map[string]any{}
		for _, name := range s.Required[1:] {
			partial[name] = sampleOf(s.Properties[name])
		}
		values = append(values, partial)
	}
	return values
}

// sampleOf is a plain value of the node's type.
func sampleOf(s *schema) any {
	if s == nil {
		return "a"
	}
	switch s.Type {
	case "integer", "number":
		return 1.0
	case "boolean":
		return true
	case "object":
		return map[string]any{}
	case "array":
		return []any{}
	}
	return "a"
}

func mapOf(n int, v any) map[string]any {
	out := make(map[string]any, n)
	for i := range n {
		out[fmt.Sprintf("k%d", i)] = deepCopy(v)
	}
	return out
}

func listOf(n int, v any) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = deepCopy(v)
	}
	return out
}
