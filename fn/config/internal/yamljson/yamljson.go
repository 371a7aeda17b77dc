package yamljson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits bound what Encode reads.
type Limits struct {
	// Bytes bounds the text of keys and values; aliases count each time they are used.
	Bytes int
	// Values bounds the number of keys, values and list items.
	Values int
	// Depth bounds the nesting of mappings and lists.
	Depth int
}

// TooLargeOrigin is the Origin of the error of a document over the Bytes or Values limit.
const TooLargeOrigin = "aggapi.dev/config-too-large"

// Encode turns a YAML node into JSON in one pass bounded by limits. It
// reads scalars as yaml.v3 decodes them into an interface{}, so values mean what they
// meant before; it differs in finding duplicate keys with a map (yaml.v3 compares every
// pair of keys of a mapping: minutes for 150,000 keys) and in stopping at the limits.
func Encode(n *yaml.Node, limits Limits) ([]byte, field.ErrorList) {
	r := nodeReader{limits: limits, expanding: map[*yaml.Node]bool{}}
	v := r.value(n, nil, 0)
	if r.err != nil {
		return nil, field.ErrorList{r.err}
	}
	m, ok := v.(map[string]any)
	if !ok || m == nil {
		return nil, field.ErrorList{Problem(nil, "the function config must be a YAML mapping")}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, field.ErrorList{Problem(nil, fmt.Sprintf("not representable as JSON: %v", err))}
	}
	return buf.Bytes(), nil
}

type nodeReader struct {
	limits        Limits
	values, bytes int
	expanding     map[*yaml.Node]bool // anchors being expanded, to refuse an alias inside its own anchor
	err           *field.Error        // the first problem; reading stops there
}

func (r *nodeReader) fail(p *field.Path, detail string) {
	if r.err == nil {
		r.err = Problem(p, detail)
	}
}

// Problem is an error at p (or about the whole config, for a nil p) with no value to show.
func Problem(p *field.Path, detail string) *field.Error {
	f := ""
	if p != nil {
		f = p.String()
	}
	return &field.Error{Type: field.ErrorTypeInvalid, Field: f, BadValue: field.OmitValueType{}, Detail: detail}
}

// count charges one value of n bytes against the limits.
func (r *nodeReader) count(p *field.Path, n int) bool {
	r.values++
	r.bytes += n
	if r.err != nil {
		return false
	}
	switch {
	case r.values > r.limits.Values:
		r.fail(nil, fmt.Sprintf("the function config is too large: more than %d keys, values and list items (the limit was reached at %s; aliases count each time they are used)", r.limits.Values, p))
	case r.bytes > r.limits.Bytes:
		r.fail(nil, fmt.Sprintf("the function config is too large: more than %d bytes of keys and values (the limit was reached at %s; aliases count each time they are used)", r.limits.Bytes, p))
	}
	if r.err != nil {
		r.err.Origin = TooLargeOrigin
	}
	return r.err == nil
}

func (r *nodeReader) value(n *yaml.Node, p *field.Path, depth int) any {
	if r.err != nil || n == nil {
		return nil
	}
	if depth > r.limits.Depth {
		r.fail(p, fmt.Sprintf("nested more than %d levels deep", r.limits.Depth))
		return nil
	}
	switch n.Kind {
	case 0: // an empty document
		return nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return r.value(n.Content[0], p, depth)
	case yaml.AliasNode:
		if r.expanding[n.Alias] || n.Alias == nil {
			r.fail(p, fmt.Sprintf("alias *%s refers to a value that contains it", n.Value))
			return nil
		}
		r.expanding[n.Alias] = true
		defer delete(r.expanding, n.Alias)
		return r.value(n.Alias, p, depth+1)
	case yaml.ScalarNode:
		if !r.count(p, len(n.Value)) {
			return nil
		}
		return r.scalar(n, p)
	case yaml.SequenceNode:
		if !r.count(p, 0) {
			return nil
		}
		out := make([]any, 0, min(len(n.Content), r.limits.Values))
		for i, item := range n.Content {
			out = append(out, r.value(item, p.Index(i), depth+1))
			if r.err != nil {
				return nil
			}
		}
		return out
	case yaml.MappingNode:
		if !r.count(p, 0) {
			return nil
		}
		out := make(map[string]any, min(len(n.Content)/2, r.limits.Values))
		r.mapping(n, p, depth, out, false)
		return out
	}
	r.fail(p, fmt.Sprintf("unexpected YAML node kind %d", n.Kind))
	return nil
}

// mapping adds the entries of n to out. In a merged mapping (merging), keys already in
// out came earlier (an explicit key, or an earlier merge) and win, as in yaml.v3.
func (r *nodeReader) mapping(n *yaml.Node, p *field.Path, depth int, out map[string]any, merging bool) {
	var merges []*yaml.Node
	var seen map[string]bool // a merged mapping's own keys; otherwise out holds them
	if merging {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMergeKey(k) {
			merges = append(merges, v)
			continue
		}
		key, ok := r.key(k, p)
		if !ok {
			return
		}
		_, dup := out[key]
		if merging {
			dup = seen[key]
			seen[key] = true
		}
		child := childPath(p, key)
		if dup {
			r.fail(child, "given twice in one mapping; YAML would keep one silently, so remove the other")
			return
		}
		if !r.count(child, len(key)) {
			return
		}
		if _, earlier := out[key]; merging && earlier {
			continue // yaml.v3 does not read a value that an earlier key overrides
		}
		val := r.value(v, child, depth+1)
		if r.err != nil {
			return
		}
		out[key] = val
	}
	for _, m := range merges {
		r.merge(m, p, depth+1, out)
		if r.err != nil {
			return
		}
	}
}

// merge applies a YAML merge key's value (a mapping, an alias of one, or a list of those).
func (r *nodeReader) merge(m *yaml.Node, p *field.Path, depth int, out map[string]any) {
	if depth > r.limits.Depth {
		r.fail(p, fmt.Sprintf("nested more than %d levels deep", r.limits.Depth))
		return
	}
	switch m.Kind {
	case yaml.MappingNode:
		r.mapping(m, p, depth, out, true)
	case yaml.AliasNode:
		if m.Alias == nil || r.expanding[m.Alias] {
			r.fail(p, fmt.Sprintf("alias *%s refers to a value that contains it", m.Value))
			return
		}
		r.expanding[m.Alias] = true
		defer delete(r.expanding, m.Alias)
		r.merge(m.Alias, p, depth+1, out)
	case yaml.SequenceNode:
		for _, item := range m.Content {
			if item.Kind == yaml.SequenceNode {
				r.fail(p.Child("<<"), "a merge key takes a mapping or a list of mappings")
				return
			}
			r.merge(item, p, depth+1, out)
			if r.err != nil {
				return
			}
		}
	default:
		r.fail(p.Child("<<"), "a merge key takes a mapping or a list of mappings")
	}
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// key reads a mapping key as yaml.v3 does into a map[string]any: a scalar's text.
func (r *nodeReader) key(k *yaml.Node, p *field.Path) (string, bool) {
	for k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		r.fail(p, "a key must be a string, not a list or mapping")
		return "", false
	}
	if k.ShortTag() == "!!null" {
		// yaml.v3 drops such an entry silently; say so instead.
		r.fail(p, fmt.Sprintf("a key must be a string, not null (%q); quote it to mean the text", k.Value))
		return "", false
	}
	if k.ShortTag() == "!!binary" {

		var s string
		if err := k.Decode(&s); err != nil {
			r.fail(p, err.Error())
			return "", false
		}
		return s, true
	}
	return k.Value, true
}

// scalar decodes one scalar as yaml.v3 does into an interface{}; strings, the common
// case, skip the decoder.
func (r *nodeReader) scalar(n *yaml.Node, p *field.Path) any {
	switch n.ShortTag() {
	case "!!str":
		return n.Value
	case "!!int":
		if isDecimal(n.Value) {
			if i, err := strconv.Atoi(n.Value); err == nil {
				return i // what yaml.v3 resolves a plain decimal that fits to
			}
		}
	case "!!bool":
		switch n.Value {
		case "true":
			return true
		case "false":
			return false
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		r.fail(p, err.Error())
		return nil
	}
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		r.fail(p, "must be a finite number, not "+n.Value)
		return nil
	}
	return v
}

// isDecimal: digits, with an optional leading minus and no leading zero.
func isDecimal(s string) bool {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// childPath is p.key, or the root's key.
func childPath(p *field.Path, key string) *field.Path {
	if p == nil {
		return field.NewPath(key)
	}
	return p.Child(key)
}
