package yamlenc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// keyRank puts the fields a reader looks for first at the top of every mapping; the
// rest follow in alphabetical order, so the output is the same bytes on every run.
var keyRank = map[string]int{"apiVersion": 1, "kind": 2, "metadata": 3, "name": 4, "namespace": 5}

// mappingNode builds a mapping from key/value pairs in keyRank order.
func mappingNode(pairs []keyValue) *yaml.Node {
	slices.SortFunc(pairs, func(a, b keyValue) int { return compareKeys(a.key, b.key) })
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, 2*len(pairs))}
	for _, p := range pairs {
		n.Content = append(n.Content, StringNode(p.key), p.value)
	}
	return n
}

type keyValue struct {
	key   string
	value *yaml.Node
}

func compareKeys(a, b string) int {
	ra, rb := keyRank[a], keyRank[b]
	switch {
	case ra != 0 && rb != 0:
		return ra - rb
	case ra != 0:
		return -1
	case rb != 0:
		return 1
	}
	return strings.Compare(a, b)
}

// jsonNode converts what a type's own MarshalJSON wrote (a Quantity, a Time, an
// IntOrString: small values) into a node.
func jsonNode(raw []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep 65532 an integer, not 65532.0
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF { // json.Marshal, too, rejects a second value
		return nil, fmt.Errorf("invalid JSON: more than one value in %.40q", raw)
	}
	return genericNode(v), nil
}

func genericNode(v any) *yaml.Node {
	switch vv := v.(type) {
	case map[string]any:
		pairs := make([]keyValue, 0, len(vv))
		for k, e := range vv {
			pairs = append(pairs, keyValue{k, genericNode(e)})
		}
		return mappingNode(pairs) // sorts the keys
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		for _, e := range vv {
			n.Content = append(n.Content, genericNode(e))
		}
		return n
	case string:
		return StringNode(vv)
	case bool:
		return boolNode(vv)
	case json.Number:
		return numberNode(vv.String())
	case nil:
		return nullNode()
	}
	return StringNode(fmt.Sprint(v))
}

// StringNode is a string scalar, double-quoted where a YAML 1.1 parser (kubectl's
// sigs.k8s.io/yaml, go-yaml v2) would read it as something else, as yaml.Marshal does.
func StringNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: s}
	if isYAML11Bool(s) || isBase60Float(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: strconv.FormatBool(b)}
}

// numberNode tags a JSON number as YAML 1.2 would resolve it.
func numberNode(s string) *yaml.Node {
	if strings.ContainsAny(s, ".eE") {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagFloat, Value: s}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: s}
}

func nullNode() *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}
}

// isYAML11Bool: the YAML 1.1 booleans that YAML 1.2 reads as strings.
func isYAML11Bool(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return false
}

// isBase60Float: YAML 1.1's sexagesimal numbers such as 1:20 or -3:25:45.5, which
// YAML 1.2 reads as strings: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
func isBase60Float(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return false
	}
	for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
		i++
	}
	groups := 0
	for i < len(s) && s[i] == ':' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) && i-start < 2 {
			i++
		}
		switch {
		case i == start:
			return false
		case i-start == 2 && s[start] > '5':
			return false
		}
		groups++
	}
	if groups == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
			i++
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
