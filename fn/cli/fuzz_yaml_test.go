package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// structureBase is a valid ResourceList: a config and a foreign item. FuzzYAMLStructure
// wraps random YAML structure around it.
const structureBase = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
    namespace: wardle
    labels: {team: a}
  data:
    key: value
functionConfig:
  apiVersion: aggapi.dev/v1alpha1
  kind: AggregatedAPI
  metadata:
    name: wardle
  spec:
    group: wardle.example.com
    versions:
    - name: v1alpha1
    namespace: wardle
    server:
      image: example.com/wardle:v1
      args: [--v=2]
`

// FuzzYAMLStructure: each byte of the fuzz input is one edit of the valid ResourceList's
// node tree (an anchor and an alias to it anywhere, a tag, deep nesting, a duplicated
// key, a merge key, flow style, a document separator, an item of another shape). Every
// result must be exit 0 with output that parses strictly (no alias, no duplicate key),
// or exit 1 with a message; never a panic, a hang or unbounded memory.
func FuzzYAMLStructure(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02", "\x03\x03\x03", "\x04\x10\x05", "\x06\x07\x08", "\x09\x0a\x0b", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, edits []byte) {
		if len(edits) > 64 {
			edits = edits[:64]
		}
		stdin := mutateStructure(t, edits)
		out, stderr, code := runFunction(t, stdin, goldenNow)
		switch code {
		case 0:
			var v any
			if err := yamlv3.Unmarshal(out, &v); err != nil {
				t.Fatalf("exit 0 with output that does not parse strictly: %v\ninput:\n%s\noutput:\n%s", err, stdin, out)
			}
			if _, err := kio.FromBytes(out); err != nil {
				t.Fatalf("exit 0 with output kyaml cannot read: %v", err)
			}
		case 1:
			if stderr == "" {
				t.Fatal("exit 1 without a message")
			}
		default:
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}

// mutateStructure applies edits to structureBase's nodes and encodes the result.
func mutateStructure(t *testing.T, edits []byte) []byte {
	t.Helper()
	doc := &yaml.Node{}
	if err := yamlv3.Unmarshal([]byte(structureBase), doc); err != nil {
		t.Fatal(err)
	}
	var nodes []*yaml.Node
	var collect func(n *yaml.Node)
	collect = func(n *yaml.Node) {
		nodes = append(nodes, n)
		for _, c := range n.Content {
			collect(c)
		}
	}
	collect(doc)
	separator := false
	for i, e := range edits {
		// The byte's low bits pick the edit, the rest (and the position) the node.
		n := nodes[(int(e>>4)*7+i*13)%len(nodes)]
		other := nodes[(int(e>>4)*11+i*5+3)%len(nodes)]
		switch e & 0x0f {
		case 0: // an anchor on n and an alias to it in place of another node
			if n.Kind != yaml.AliasNode && n != doc {
				n.Anchor = fmt.Sprintf("a%d", i)
				replaceNode(nodes, other, &yaml.Node{Kind: yaml.AliasNode, Value: n.Anchor, Alias: n})
			}
		case 1:
			n.Tag = []string{"!!str", "!!binary", "!custom", "!!map", "!!seq", "!!int", "!!null", "!!merge"}[i%8]
		case 2: // deep nesting in place of a node
			depth := []int{10, 500, 999, 1001, 5000}[i%5]
			deep := &yaml.Node{Kind: yaml.ScalarNode, Value: "x"}
			for range depth {
				deep = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{deep}}
			}
			replaceNode(nodes, other, deep)
		case 3: // a duplicated key
			if n.Kind == yaml.MappingNode && len(n.Content) >= 2 {
				n.Content = append(n.Content, n.Content[0], &yaml.Node{Kind: yaml.ScalarNode, Value: "again"})
			}
		case 4: // a merge key of another mapping
			if n.Kind == yaml.MappingNode && other.Kind == yaml.MappingNode && n != other {
				other.Anchor = fmt.Sprintf("m%d", i)
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!merge", Value: "<<"},
					&yaml.Node{Kind: yaml.AliasNode, Value: other.Anchor, Alias: other})
			}
		case 5:
			n.Style = yaml.FlowStyle
		case 6:
			separator = true
		case 7: // the shape of a node changes
			switch n.Kind {
			case yaml.MappingNode:
				n.Kind, n.Tag = yaml.SequenceNode, ""
			case yaml.SequenceNode:
				n.Kind, n.Tag, n.Content = yaml.ScalarNode, "", nil
			case yaml.ScalarNode:
				n.Kind, n.Tag, n.Value = yaml.MappingNode, "", ""
			}
		case 8: // a comment
			n.HeadComment = "# note " + strings.Repeat("#", i)
		case 9: // a self-referencing alias
			if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
				n.Anchor = fmt.Sprintf("s%d", i)
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.AliasNode, Value: n.Anchor, Alias: n})
				if n.Kind == yaml.MappingNode {
					n.Content = append(n.Content[:len(n.Content)-1], &yaml.Node{Kind: yaml.ScalarNode, Value: "self"}, n.Content[len(n.Content)-1])
				}
			}
		case 10: // laughs: an anchor used ten times, itself used ten times
			if n.Kind != yaml.AliasNode && n != doc {
				n.Anchor = fmt.Sprintf("l%d", i)
				seq := &yaml.Node{Kind: yaml.SequenceNode, Anchor: fmt.Sprintf("L%d", i)}
				for range 10 {
					seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.AliasNode, Value: n.Anchor, Alias: n})
				}
				replaceNode(nodes, other, seq)
				nodes = append(nodes, seq)
			}
		case 11: // a copy of a node elsewhere (a copy: the same node would make a cycle)
			replaceNode(nodes, other, yaml.CopyYNode(n))
		}
	}
	var b bytes.Buffer
	enc := yamlv3.NewEncoder(&b)
	// An encoder panics on some impossible trees (an alias to a node with no anchor):
	// those are not inputs a user can write.
	defer func() {
		if recover() != nil {
			t.Skip("not encodable")
		}
	}()
	if err := enc.Encode(doc); err != nil {
		t.Skip("not encodable")
	}
	if separator {
		b.WriteString("---\n")
	}
	return b.Bytes()
}

// replaceNode puts repl where old is in the tree (the first place found).
func replaceNode(nodes []*yaml.Node, old, repl *yaml.Node) {
	for _, p := range nodes {
		for i, c := range p.Content {
			if c == old {
				p.Content[i] = repl
				return
			}
		}
	}
}
