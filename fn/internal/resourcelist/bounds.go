package resourcelist

import (
	"bytes"
	"errors"
	"fmt"

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
