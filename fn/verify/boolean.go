package verify

import (
	"encoding/json"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/fn/internal/resourcelist"
)

// kubectlBool returns how kubectl reads n where the API wants a boolean: "true",
// "false", "" for null, or what else n is (`the string "true"`, `1`), which the API
// server refuses. kubectl reads manifests with sigs.k8s.io/yaml, that is YAML 1.1: a
// plain yes, on or y (also Yes, YES, On, ON, Y) is true there, where YAML 1.2 and this
// package's reader see a string. So n is read again with that library, as kubectl would.
func kubectlBool(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.AliasNode && n.Alias != nil:
		return kubectlBool(n.Alias)
	case n.Kind != yaml.ScalarNode:
		return "a " + resourcelist.Shape(n)
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return "the string " + strconv.Quote(n.Value)
	}
	src := n.Value
	if n.Style&yaml.TaggedStyle != 0 {
		src = n.Tag + " " + src
	}
	j, err := sigsyaml.YAMLToJSON([]byte("v: " + src))
	var v struct{ V any }
	if err != nil || json.Unmarshal(j, &v) != nil {
		return strconv.Quote(src) + " (kubectl cannot read it)"
	}
	switch v.V.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v.V.(bool))
	case string:
		return "the string " + strconv.Quote(v.V.(string))
	}
	return src
}

// normalizeBool replaces, in place, the value at key of the mapping m by kubectlBool's
// reading of it, so that checks read "true" however YAML spells it.
func normalizeBool(m *yaml.Node, key string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: kubectlBool(m.Content[i+1])}
		}
	}
}
