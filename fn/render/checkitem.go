package render

import (
	"fmt"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/internal/resourcelist"
)

// checkItem checks the fields of an item that the function reads (apiVersion, kind and
// metadata's name, namespace, labels and annotations) have the shapes Kubernetes gives
// them, so that reading them cannot fail halfway, and names the item when they do not.
func checkItem(i int, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("items[%d] is not an object (a YAML mapping with apiVersion, kind and metadata) but a %s", i, resourcelist.Shape(n))
	}
	bad := func(path string, got *yaml.Node, want string) error {
		return fmt.Errorf("%s: `%s` is a %s, want %s", itemName(i, n), path, resourcelist.Shape(got), want)
	}
	for _, key := range []string{"apiVersion", "kind"} {
		if v := mapValue(n, key); v != nil && !isScalar(v) {
			return bad(key, v, "a string")
		}
	}
	meta := mapValue(n, "metadata")
	if meta == nil || isNull(meta) {
		return nil
	}
	if meta.Kind != yaml.MappingNode {
		return bad("metadata", meta, "a mapping")
	}
	for _, key := range []string{"name", "namespace"} {
		if v := mapValue(meta, key); v != nil && !isScalar(v) {
			return bad("metadata."+key, v, "a string")
		}
	}
	for _, key := range []string{"labels", "annotations"} {
		m := mapValue(meta, key)
		if m == nil || isNull(m) {
			continue
		}
		if m.Kind != yaml.MappingNode {
			return bad("metadata."+key, m, "a mapping of strings")
		}
		for j := 0; j+1 < len(m.Content); j += 2 {
			k, v := m.Content[j], m.Content[j+1]
			if !isScalar(k) {
				return fmt.Errorf("%s: `metadata.%s` has a key that is a %s, want a mapping of strings", itemName(i, n), key, resourcelist.Shape(k))
			}
			if !isScalar(v) {
				return bad("metadata."+key+"."+k.Value, v, "a string")
			}
		}
	}
	return nil
}

// itemName names an item for messages: its index, and its kind and name when they are strings.
func itemName(i int, n *yaml.Node) string {
	s := fmt.Sprintf("items[%d]", i)
	kind := mapValue(n, "kind")
	var name *yaml.Node
	if meta := mapValue(n, "metadata"); meta != nil && meta.Kind == yaml.MappingNode {
		name = mapValue(meta, "name")
	}
	if kind != nil && isScalar(kind) && kind.Value != "" {
		s += " (" + kind.Value
		if name != nil && isScalar(name) && name.Value != "" {
			s += " " + strconv.Quote(name.Value)
		}
		s += ")"
	} else if name != nil && isScalar(name) && name.Value != "" {
		s += " (" + strconv.Quote(name.Value) + ")"
	}
	return s
}

func isScalar(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == yaml.NodeTagNull }

// mapValue returns the value of key in mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
