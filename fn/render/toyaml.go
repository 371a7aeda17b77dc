package render

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/internal/yamlenc"
)

// toRNode converts a typed object into a block-style YAML node (yamlenc says why not
// json.Marshal), dropping what typed structs carry and a rendered manifest should not:
// the empty status, an empty spec (a Namespace's) and the null creationTimestamp of
// every ObjectMeta.
func toRNode(obj runtime.Object) (*yaml.RNode, error) {
	n, err := yamlenc.Encode(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	removeKey(n, "status")
	if spec := valueOf(n, "spec"); spec != nil && spec.Kind == yaml.MappingNode && len(spec.Content) == 0 {
		removeKey(n, "spec")
	}
	dropNullCreationTimestamps(n)
	return yaml.NewRNode(n), nil
}

// dropNullCreationTimestamps removes creationTimestamp: null from every mapping under n
// (metadata, a pod template's metadata).
func dropNullCreationTimestamps(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "creationTimestamp" && v.Tag == yaml.NodeTagNull {
				n.Content = slices.Delete(n.Content, i, i+2)
				i -= 2
				continue
			}
			dropNullCreationTimestamps(n.Content[i+1])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			dropNullCreationTimestamps(c)
		}
	}
}

func removeKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
