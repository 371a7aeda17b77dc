package verify

import "sigs.k8s.io/kustomize/kyaml/yaml"

// fields is a tree of the fields to keep; a nil subtree keeps the whole value. In a
// list, the tree applies to every element.
type fields map[string]fields

// checked holds, by kind, what the checks read of an object besides its apiVersion,
// kind, name and namespace: nothing else is kept.
var checked = map[string]fields{
	"APIService": {"metadata": {"labels": nil, "annotations": nil}, "spec": nil},
	"Service":    {"spec": {"type": nil, "ports": nil, "selector": nil}},
	"Deployment": {"spec": {"template": {
		"metadata": {"labels": nil},
		"spec": {
			"serviceAccountName": nil,
			"containers":         {"ports": nil},
			"volumes":            {"secret": {"secretName": nil}},
		},
	}}},
	"Secret":             {"data": {"tls.crt": nil, "tls.key": nil, "ca.crt": nil}},
	"ClusterRoleBinding": {"roleRef": nil, "subjects": nil},
	"RoleBinding":        {"roleRef": nil, "subjects": nil},
}

// pruneToChecked keeps of an object (in place) what the checks read, and drops objects
// of other kinds.
func pruneToChecked(n *yaml.RNode) *yaml.RNode {
	want, ok := checked[n.GetKind()]
	if !ok {
		return nil
	}
	tree := fields{"apiVersion": nil, "kind": nil, "metadata": {"name": nil, "namespace": nil}}
	for k, v := range want {
		if k == "metadata" {
			for mk, mv := range v {
				tree[k][mk] = mv
			}
			continue
		}
		tree[k] = v
	}
	prune(n.YNode(), tree)
	return n
}

// prune drops, in place, every field of n that tree does not name.
func prune(n *yaml.Node, tree fields) {
	switch n.Kind {
	case yaml.SequenceNode:
		for _, e := range n.Content {
			prune(e, tree)
		}
	case yaml.MappingNode:
		kept := make([]*yaml.Node, 0, 2*len(tree))
		for i := 0; i+1 < len(n.Content); i += 2 {
			sub, ok := tree[n.Content[i].Value]
			if !ok {
				continue
			}
			if sub != nil {
				prune(n.Content[i+1], sub)
			}
			kept = append(kept, n.Content[i], n.Content[i+1])
		}
		n.Content = kept
	}
}
