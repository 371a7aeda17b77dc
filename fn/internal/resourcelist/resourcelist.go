package resourcelist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Bounds of what the function reads (the README's "Limits"). A KRM function runs
// unattended in CI: a hostile or careless input must end in an error, not in a machine
// out of memory.
const (
	// MaxInputBytes is the largest ResourceList read from stdin.
	MaxInputBytes = 64 << 20
	// MaxDepth is the deepest nesting of mappings and sequences, aliases expanded. No
	// Kubernetes object comes near it; YAML's parser stops at 10,000.
	MaxDepth = 1000
	// aliasAllowance is how many nodes alias expansion may add beyond the size of the
	// parsed document itself: aliases may at most double a document, plus this.
	aliasAllowance = 100_000
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

// rawItems returns the input text of the items of a block-style ResourceList, by node,
// each re-indented so that its dash is in column 0: what the writer would write, for
// items the function passes through, without encoding them again (encoding is the
// larger half of the cost of passing 10,000 objects through). An item's text runs from
// its dash, or the comment lines at the dash's column or left of it just above it, to
// the next item's; the last item's ends where the ResourceList's next key (and its
// comments) starts, and is not raw if no key follows. An item whose lines do not fit
// the pattern is left out (encoded).
func rawItems(data []byte, list *yaml.Node) map[*yaml.Node][]byte {
	var items *yaml.Node
	next := 0 // the line of the ResourceList's key after items, 0 if none
	for i := 0; i+1 < len(list.Content); i += 2 {
		if list.Content[i].Value == "items" {
			items = list.Content[i+1]
			if i+2 < len(list.Content) {
				next = list.Content[i+2].Line
			}
		}
	}
	if items == nil || items.Kind != yaml.SequenceNode || items.Style&yaml.FlowStyle != 0 || len(items.Content) == 0 {
		return nil
	}
	if hasOtherBreaks(data) {
		return nil
	}
	var lines []int // lines[l-1] is the offset of line l
	lines = append(lines, 0)
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	lineText := func(l int) []byte {
		end := len(data)
		if l < len(lines) {
			end = lines[l]
		}
		return data[lines[l-1]:end]
	}
	dashCol := -1
	// head returns the first line of the item (or key) starting on line l: the comment
	// lines at column dashCol or left of it just above it belong to it.
	head := func(l, floor int) int {
		for l-1 > floor {
			t := lineText(l - 1)
			trimmed := bytes.TrimLeft(t, " ")
			if len(trimmed) == 0 || trimmed[0] != '#' || len(t)-len(trimmed) > dashCol {
				break
			}
			l--
		}
		return l
	}
	starts := make([]int, len(items.Content)+1)
	for i, it := range items.Content {
		if it.Kind != yaml.MappingNode || it.Line < 1 || it.Line > len(lines) || it.Column < 3 {
			return nil
		}
		line := lineText(it.Line)
		d := it.Column - 3
		if d+2 > len(line) || string(line[d:d+2]) != "- " || len(bytes.TrimLeft(line[:d], " ")) != 0 || (dashCol >= 0 && d != dashCol) {
			return nil
		}
		dashCol = d
		floor := 0
		if i > 0 {
			floor = items.Content[i-1].Line
			if it.Line <= floor {
				return nil // two items on one line
			}
		}
		starts[i] = head(it.Line, floor)
	}
	if next > len(lines) {
		return nil
	}
	if next > items.Content[len(items.Content)-1].Line {
		starts[len(items.Content)] = head(next, items.Content[len(items.Content)-1].Line)
	}
	raw := make(map[*yaml.Node][]byte, len(items.Content))
	for i, it := range items.Content {
		if starts[i+1] == 0 {
			break
		}
		text := data[lines[starts[i]-1]:lines[starts[i+1]-1]]
		if dashCol > 0 {
			if text = unindent(text, dashCol); text == nil {
				continue
			}
		}
		raw[it] = text
	}
	return raw
}

// hasOtherBreaks reports whether data holds a line break other than \n: the YAML parser
// counts \r (alone or before \n), NEL, LS and PS as line breaks too, so its line numbers
// would not match the line table rawItems builds from \n alone. Such input is encoded
// rather than copied (found by FuzzParseMatchesKyaml: a \r before the last key indexed
// past the table).
func hasOtherBreaks(data []byte) bool {
	return bytes.IndexByte(data, '\r') >= 0 ||
		bytes.Contains(data, []byte("\u0085")) ||
		bytes.Contains(data, []byte("\u2028")) ||
		bytes.Contains(data, []byte("\u2029"))
}

// unindent removes n leading spaces from every line of text; nil if a line that is not
// blank has fewer.
func unindent(text []byte, n int) []byte {
	out := make([]byte, 0, len(text))
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line = text[:i+1]
		}
		text = text[len(line):]
		switch {
		case len(line) > n && len(bytes.TrimLeft(line[:n], " ")) == 0:
			out = append(out, line[n:]...)
		case len(bytes.TrimSpace(line)) == 0:
			out = append(out, bytes.TrimLeft(line, " \t")...)
		default:
			return nil
		}
	}
	return out
}

// checkStructure bounds alias expansion and depth before any alias is resolved: a few
// hundred bytes of nested aliases ("billion laughs") expand to gigabytes, and an alias
// inside its own anchor never ends.
// It reports whether the documents hold any alias.
func checkStructure(docs []*yaml.Node) (aliases bool, skip *yaml.Node, err error) {
	c := &structureCheck{memo: map[*yaml.Node]subtree{}, open: map[*yaml.Node]bool{}}
	if len(docs) == 1 && doc0Kind(docs[0]) != "" {
		// The config's keys are checked by its loader, which names their field paths.
		if fc := yaml.NewRNode(docs[0].Content[0]).Field("functionConfig"); fc != nil {
			c.config = fc.Value.YNode()
		}
	}
	parsed := 0
	for _, d := range docs {
		parsed += countParsed(d)
	}
	c.budget = 2*parsed + aliasAllowance
	total := 0
	for _, d := range docs {
		s, err := c.walk(d, 0)
		if err != nil {
			return false, nil, err
		}
		if total += s.nodes; total > c.budget {
			return false, nil, c.tooLarge()
		}
	}
	if c.skipConfig {
		skip = c.config
	}
	// A node with an explicit tag must decode as what its tag says (`!!int abc` does
	// not): consumers that decode the output would fail on it. And the tag must come
	// back as itself once written: `!%21` reads as the tag "!!", which go-yaml writes as
	// `!!`, a tag with no name, and the output would not parse.
	survives := map[string]bool{}
	for _, n := range c.tagged {
		var v any
		if err := n.Decode(&v); err != nil {
			return false, nil, fmt.Errorf("line %d: %s %q: %w", n.Line, n.Tag, truncate(n.Value), err)
		}
		ok, seen := survives[n.Tag]
		if !seen {
			ok = tagSurvives(n.Tag)
			survives[n.Tag] = ok
		}
		if !ok {
			return false, nil, fmt.Errorf("line %d: %s %q: the tag cannot be written back as YAML", n.Line, truncate(n.Tag), truncate(n.Value))
		}
	}
	return c.aliases, skip, nil
}

// tagSurvives reports whether a scalar with the tag, written by go-yaml, reads back
// with the same tag.
func tagSurvives(tag string) bool {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	if enc.Encode(&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: "x"}) != nil || enc.Close() != nil {
		return false
	}
	var back yaml.Node
	if yaml.Unmarshal(b.Bytes(), &back) != nil || len(back.Content) != 1 {
		return false
	}
	return back.Content[0].Tag == tag
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

type subtree struct{ nodes, height int }

type structureCheck struct {
	memo     map[*yaml.Node]subtree // anchored nodes, expanded
	open     map[*yaml.Node]bool    // anchored nodes being walked: an alias to one is a cycle
	budget   int
	aliases  bool
	tagged   []*yaml.Node // nodes with an explicit tag
	config   *yaml.Node   // the functionConfig, whose keys are not checked here
	inConfig int          // > 0 while walking the functionConfig
	// skipConfig: the functionConfig's aliases are past the budget, left to its loader.
	skipConfig bool
}

// expansionError: aliases expand past the budget.
type expansionError struct{ budget int }

func (e *expansionError) Error() string {
	return fmt.Sprintf("YAML aliases expand the input to more than %d nodes (twice its parsed size plus %d): resolve the aliases or make the input smaller", e.budget, aliasAllowance)
}

func (c *structureCheck) tooLarge() error { return &expansionError{c.budget} }

// walk returns the size and height of n with every alias expanded; depth is n's depth.
func (c *structureCheck) walk(n *yaml.Node, depth int) (subtree, error) {
	if n == nil {
		return subtree{}, nil
	}
	if depth > MaxDepth {
		return subtree{}, fmt.Errorf("line %d: the input nests deeper than %d levels", n.Line, MaxDepth)
	}
	if n.Kind == yaml.AliasNode {
		c.aliases = true
		target := n.Alias
		if target == nil {
			return subtree{}, fmt.Errorf("line %d: alias *%s has no anchor", n.Line, n.Value)
		}
		if c.open[target] {
			return subtree{}, fmt.Errorf("line %d: alias *%s is inside the node its anchor names: it would expand forever", n.Line, n.Value)
		}
		s, err := c.walk(target, depth)
		if err != nil {
			return s, err
		}
		return subtree{nodes: s.nodes + 1, height: s.height}, nil
	}
	if s, ok := c.memo[n]; ok {
		if depth+s.height > MaxDepth {
			return subtree{}, fmt.Errorf("line %d: the input nests deeper than %d levels once alias *%s is expanded", n.Line, MaxDepth, n.Anchor)
		}
		return s, nil
	}
	if n.Anchor != "" {
		c.open[n] = true
		defer delete(c.open, n)
	}
	if n.Style&yaml.TaggedStyle != 0 {
		c.tagged = append(c.tagged, n)
	}
	if n == c.config && c.inConfig == 0 {
		// The config's loader bounds it with messages that name fields: a config past
		// the alias budget is left unresolved for the loader to refuse (and not echo).
		c.inConfig++
		defer func() { c.inConfig-- }()
		saved := c.budget
		c.budget = min(c.budget, 2*countParsed(n)+aliasAllowance)
		s, err := c.walk(n, depth)
		c.budget = saved
		var tooLarge *expansionError
		if errors.As(err, &tooLarge) {
			c.skipConfig = true
			return subtree{nodes: 1}, nil
		}
		return s, err
	}
	if n.Kind == yaml.MappingNode && depth > 1 && c.inConfig == 0 {
		// Consumers decoding into maps (kustomize, kubectl) refuse duplicate keys; the
		// ResourceList's own keys are checked by unwrap, with a message naming them.
		if err := checkKeys(n); err != nil {
			return subtree{}, err
		}
	}
	s := subtree{nodes: 1}
	for _, child := range n.Content {
		cs, err := c.walk(child, depth+1)
		if err != nil {
			return s, err
		}
		s.nodes += cs.nodes
		s.height = max(s.height, cs.height+1)
		if s.nodes > c.budget {
			return s, c.tooLarge()
		}
	}
	if n.Anchor != "" {
		c.memo[n] = s
	}
	return s, nil
}

// checkKeys checks that the keys of mapping m are scalars (what JSON and Kubernetes
// can hold) and that none appears twice.
func checkKeys(m *yaml.Node) error {
	for i := 0; i < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: a mapping key is a %s: keys must be strings", k.Line, Shape(k))
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Tag == yaml.MergeTag && !mergeable(m.Content[i+1]) {
			return fmt.Errorf("line %d: the merge key << takes a mapping or a list of mappings", k.Line)
		}
	}
	pairs := len(m.Content) / 2
	if pairs < 2 {
		return nil
	}
	dup := func(a, b *yaml.Node) error {
		return fmt.Errorf("line %d: key %q appears twice in one mapping (lines %d and %d): YAML requires unique keys", b.Line, b.Value, a.Line, b.Line)
	}
	if pairs <= 16 {
		for i := 0; i < len(m.Content); i += 2 {
			for j := i + 2; j < len(m.Content); j += 2 {
				a, b := m.Content[i], m.Content[j]
				if a.Value == b.Value {
					return dup(a, b)
				}
			}
		}
		return nil
	}
	seen := make(map[string]*yaml.Node, pairs)
	for i := 0; i < len(m.Content); i += 2 {
		k := m.Content[i]
		if prev, ok := seen[k.Value]; ok {
			return dup(prev, k)
		}
		seen[k.Value] = k
	}
	return nil
}

// mergeable reports whether v can be the value of a merge key.
func mergeable(v *yaml.Node) bool {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.MappingNode:
		return true
	case yaml.SequenceNode:
		for _, e := range v.Content {
			if e.Kind == yaml.AliasNode && e.Alias != nil {
				e = e.Alias
			}
			if e.Kind != yaml.MappingNode {
				return false
			}
		}
		return true
	}
	return false
}

// resolveAliases replaces every alias under n by a copy of the node its anchor names,
// and drops the anchors. YAML defines an anchor before any alias to it, so walking in
// document order copies targets whose own aliases are already resolved; checkStructure
// has ruled out cycles and bounded the copies.
// The skip node (a functionConfig past the budget) is left as it is.
func resolveAliases(n, skip *yaml.Node) {
	if n == skip {
		return
	}
	n.Anchor = ""
	for i, child := range n.Content {
		if child.Kind == yaml.AliasNode {
			n.Content[i] = yaml.CopyYNode(child.Alias)
			continue
		}
		resolveAliases(child, skip)
	}
}

// hasAlias reports whether an alias is left under n, skip aside.
func hasAlias(n, skip *yaml.Node) bool {
	if n == skip {
		return false
	}
	if n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, skip) {
			return true
		}
	}
	return false
}

// countParsed counts the nodes of the parsed tree, aliases not expanded.
func countParsed(n *yaml.Node) int {
	count := 1
	for _, child := range n.Content {
		count += countParsed(child)
	}
	return count
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
