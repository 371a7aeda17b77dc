package resourcelist

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Write writes items, the functionConfig and results as a ResourceList of
// the given kind, in the bytes kyaml's ByteWriter writes. Unlike ByteWriter it encodes
// one item at a time: yaml.v3's emitter keeps every event of a document until the
// document ends, which made writing 10,000 Deployments as one document cost gigabytes.
// It drops its references to the items as it writes them (items[i] becomes nil), so a
// caller that holds no other reference lets the garbage collector free them.
//
// An item whose node is in raw is written as that text (what Parse read); the
// caller must not pass raw for an item it changed.
func Write(w io.Writer, apiVersion, kind string, items []*yaml.RNode, raw map[*yaml.Node][]byte, fnConfig, results *yaml.RNode) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	header := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "apiVersion"}, {Kind: yaml.ScalarNode, Value: apiVersion},
		{Kind: yaml.ScalarNode, Value: "kind"}, {Kind: yaml.ScalarNode, Value: kind},
	}}
	if len(items) == 0 {
		header.Content = append(header.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "items"}, &yaml.Node{Kind: yaml.SequenceNode})
	}
	if err := encodeDocument(&buf, header); err != nil {
		return err
	}
	if len(items) > 0 {
		buf.WriteString("items:\n")
	}
	if _, err := bw.Write(buf.Bytes()); err != nil {
		return err
	}
	if err := writeItems(bw, items, raw); err != nil {
		return err
	}
	for _, f := range []struct {
		key  string
		node *yaml.RNode
	}{{"functionConfig", fnConfig}, {"results", results}} {
		if f.node == nil {
			continue
		}
		buf.Reset()
		m := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: f.key}, f.node.YNode()}}
		if err := encodeDocument(&buf, m); err != nil {
			return err
		}
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeItems writes items as the entries of the ResourceList's items, encoding batches
// of them on every core: on large inputs encoding is half the work.
func writeItems(w io.Writer, items []*yaml.RNode, raw map[*yaml.Node][]byte) error {
	workers := min(runtime.GOMAXPROCS(0), 8)
	const batch = 256
	chunks := make([][]byte, min(batch, len(items)))
	errs := make([]error, len(chunks))
	for start := 0; start < len(items); start += batch {
		part := items[start:min(start+batch, len(items))]
		var wg sync.WaitGroup
		for worker := range min(workers, len(part)) {
			wg.Go(func() {
				var buf bytes.Buffer
				for i := worker; i < len(part); i += workers {
					if text, ok := raw[part[i].YNode()]; ok {
						chunks[i] = append(chunks[i][:0], text...)
						continue
					}
					buf.Reset()
					// A one-item list at the top level is written exactly as an entry
					// of the ResourceList's items, whose dashes a compact sequence puts
					// in column 0.
					errs[i] = encodeDocument(&buf, &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{part[i].YNode()}})
					chunks[i] = append(chunks[i][:0], buf.Bytes()...)
				}
			})
		}
		wg.Wait()
		for i := range part {
			if errs[i] != nil {
				return errs[i]
			}
			if _, err := w.Write(chunks[i]); err != nil {
				return err
			}
			part[i] = nil // written: its nodes may be freed
		}
	}
	return nil
}

// encodeDocument writes n as one YAML document with kyaml's encoder settings.
func encodeDocument(buf *bytes.Buffer, n *yaml.Node) error {
	emitSafe(n, false)
	enc := yaml.NewEncoder(buf)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{n}}); err != nil {
		return err
	}
	return enc.Close()
}

// emitSafe mends what go-yaml's emitter would write with another value:
//   - the empty null scalars it writes as a quoted empty string, which reads back as
//     "": those in flow collections ({a}, [a, ]) and every key (`: x`, `&a : x`,
//     `? : x`), block or flow, are spelled "null". Values of block collections keep
//     their empty form (key:), as kyaml writes it;
//   - a folded scalar (>) gets a blank line added before a more-indented line ("a\n b"
//     comes back as "a\n\n b") and after trailing blank lines kept with >+, so folded
//     scalars are written literal (|), which keeps every line as it is.
func emitSafe(n *yaml.Node, inFlow bool) {
	if n.Kind == yaml.ScalarNode {
		if inFlow && isEmptyNull(n) {
			n.Value = "null"
		}
		if n.Style&yaml.FoldedStyle != 0 {
			n.Style = n.Style&^yaml.FoldedStyle | yaml.LiteralStyle
		}
		return
	}
	inFlow = inFlow || n.Style&yaml.FlowStyle != 0
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 && isEmptyNull(c) {
			c.Value = "null"
		}
		emitSafe(c, inFlow)
	}
}

func isEmptyNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "" && n.Tag == "!!null"
}
