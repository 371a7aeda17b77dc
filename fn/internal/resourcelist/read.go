package resourcelist

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// List is what the function reads from stdin: the items and the functionConfig
// of a ResourceList (or a List), or the documents of a plain YAML stream as items.
type List struct {
	// APIVersion and Kind are those of the wrapping list; empty for a plain stream.
	APIVersion, Kind string
	Items            []*yaml.RNode
	FunctionConfig   *yaml.RNode
	// LargestNodes is the node count of the largest item written as nodes, not as its
	// text: what writing one document costs is proportional to it. The functionConfig
	// is not counted: its loader bounds it, and one over the bounds is not written back.
	LargestNodes int
	// Raw holds the input text of the items that can be written back as they were
	// read (see rawItems), by node.
	Raw map[*yaml.Node][]byte
}

// ReadInput reads stdin, refusing more than MaxInputBytes.
func ReadInput(in io.Reader) ([]byte, error) {
	data, err := readChunks(io.LimitReader(in, MaxInputBytes+1), MaxInputBytes)
	if len(data) > MaxInputBytes || errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("the input is larger than %d MiB: split the pipeline", MaxInputBytes>>20)
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

// ReadAll reads in to its end (the caller bounds it). It reads into chunks that double
// from 64 KiB up to 4 MiB and, past the first, copies them into one slice of the
// input's size: io.ReadAll's growing slice asked for one ~70 MB block on its way past
// 64 MiB, more address space in one piece than a process under `ulimit -v 1048576`
// could find (a cgo build crashed there instead of refusing the input).
func ReadAll(in io.Reader) ([]byte, error) { return readChunks(in, -1) }

var errTooLarge = errors.New("too large")

// readChunks is ReadAll, stopping with errTooLarge once more than limit bytes (if not
// negative) came.
func readChunks(in io.Reader, limit int) ([]byte, error) {
	var chunks [][]byte
	total := 0
	for size := 64 << 10; ; size = min(2*size, 4<<20) {
		chunk := make([]byte, size)
		n, err := io.ReadFull(in, chunk)
		chunks, total = append(chunks, chunk[:n]), total+n
		if limit >= 0 && total > limit {
			return nil, errTooLarge
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return join(chunks, total), err
		}
	}
	return join(chunks, total), nil
}

func join(chunks [][]byte, total int) []byte {
	if len(chunks) == 1 {
		return chunks[0]
	}
	data := make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data
}

// Read reads a ResourceList, bounded in size, alias expansion and depth.
func Read(in io.Reader) (*List, error) {
	data, err := ReadInput(in)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse parses a ResourceList, bounded in alias expansion and depth.
// Aliases are resolved, so every item and the functionConfig stand alone: an alias
// written without its anchor would make the output unparsable.
func Parse(data []byte) (*List, error) {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		doc := &yaml.Node{}
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the input is not valid YAML: %w", err)
		}
		if yaml.IsYNodeEmptyDoc(doc) || yaml.IsMissingOrNull(yaml.NewRNode(doc)) {
			continue // an empty document, e.g. after a trailing ---
		}
		docs = append(docs, doc)
	}
	aliases, skip, err := checkStructure(docs)
	if err != nil {
		return nil, err
	}
	if aliases {
		for _, doc := range docs {
			resolveAliases(doc, skip)
			if skip != nil && hasAlias(doc, skip) {
				// An item copied an alias from the unresolved config.
				return nil, &expansionError{2*countParsed(skip) + aliasAllowance}
			}
		}
	}
	rl := &List{}
	if len(docs) == 1 && doc0Kind(docs[0]) != "" {
		if err := rl.unwrap(yaml.NewRNode(docs[0].Content[0])); err != nil {
			return nil, err
		}
		if !aliases {
			rl.Raw = rawItems(data, docs[0].Content[0])
		}
	} else {
		for _, doc := range docs {
			rl.Items = append(rl.Items, yaml.NewRNode(doc.Content[0]))
		}
	}
	for _, it := range rl.Items {
		if _, raw := rl.Raw[it.YNode()]; !raw {
			rl.LargestNodes = max(rl.LargestNodes, countParsed(it.YNode()))
		}
	}
	return rl, nil
}

// doc0Kind returns the kind of a document that is a ResourceList or a List.
func doc0Kind(doc *yaml.Node) string {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return ""
	}
	m := yaml.NewRNode(doc.Content[0])
	kind := m.Field("kind")
	if kind == nil || kind.Value.YNode().Kind != yaml.ScalarNode {
		return ""
	}
	if k := kind.Value.YNode().Value; (k == kio.ResourceListKind || k == "List") && (m.Field("items") != nil || m.Field("functionConfig") != nil) {
		return k
	}
	return ""
}

func (rl *List) unwrap(list *yaml.RNode) error {
	seen := map[string]int{}
	content := list.YNode().Content
	for i := 0; i+1 < len(content); i += 2 {
		k := content[i]
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: a key of the %s is a %s: keys must be strings", k.Line, list.GetKind(), Shape(k))
		}
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("the %s has the key %q twice (lines %d and %d): keys of a YAML mapping must be unique", list.GetKind(), k.Value, line, k.Line)
		}
		seen[k.Value] = k.Line
	}
	rl.Kind = list.GetKind()
	rl.APIVersion = list.GetApiVersion()
	if fc := list.Field("functionConfig"); fc != nil {
		rl.FunctionConfig = fc.Value
	}
	items := list.Field("items")
	if items == nil || yaml.IsMissingOrNull(items.Value) {
		return nil
	}
	if items.Value.YNode().Kind != yaml.SequenceNode {
		return fmt.Errorf("the %s's `items` is a %s, want a list of objects", rl.Kind, Shape(items.Value.YNode()))
	}
	for _, it := range items.Value.YNode().Content {
		rl.Items = append(rl.Items, yaml.NewRNode(it))
	}
	return nil
}

// Shape names a node's kind for messages.
func Shape(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if n.Tag == yaml.NodeTagNull {
			return "null"
		}
		return fmt.Sprintf("scalar (%q)", truncate(n.Value))
	}
	return "YAML node"
}
