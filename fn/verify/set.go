package verify

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Set holds manifests compactly for Check: every object the checks read as the JSON of
// the fields they read, decoded again when a check needs it (a YAML node costs ten to
// thirty times the bytes it was read from); bindings and the pod labels of Deployments
// as lookup tables. Objects of other kinds are dropped.
type Set struct {
	apiServices []string
	objects     map[string]string
	workloads   map[string][]workload // Deployments by namespace, in input order
	bindings    map[string]bool
	memo        map[string]memoized
	// schedules of the last Check, by config, Secret and caBundle, in the order found.
	schedules     map[string]*Schedule
	scheduleOrder []string
	scratch       []byte // compact writes here; what is kept is copied to its exact size
}

// workload is a Deployment as a Service finds it: by the labels of its pods.
type workload struct {
	name   string
	labels []string // key, value, key, value...: a few labels take less room than a map
}

// label is the value of the pods' label key, as a field lookup gives it (the first of
// duplicate keys).
func (w workload) label(key string) (string, bool) {
	for i := 0; i+1 < len(w.labels); i += 2 {
		if w.labels[i] == key {
			return w.labels[i+1], true
		}
	}
	return "", false
}

// NewSet makes an empty Set.
func NewSet() *Set {
	return &Set{objects: map[string]string{}, workloads: map[string][]workload{}, bindings: map[string]bool{}}
}

func id(parts ...string) string { return strings.Join(parts, "\x00") }

// Add keeps what the checks read of n (pruning n in place) and returns nil, so a Reader
// with Keep: set.Add holds nothing else. The first object of a kind, namespace and name
// wins, as in a cluster only one can exist.
func (s *Set) Add(n *yaml.RNode) *yaml.RNode {
	kind := n.GetKind()
	if pruneToChecked(n) == nil {
		return nil
	}
	ns, name := n.GetNamespace(), n.GetName()
	switch kind {
	case "APIService":
		if spec, _ := n.Pipe(yaml.Lookup("spec")); spec != nil {
			normalizeBool(spec.YNode(), "insecureSkipTLSVerify") // compact keeps no YAML 1.1 booleans
		}
		s.apiServices = append(s.apiServices, s.compact(n))
		return nil
	case "ClusterRoleBinding", "RoleBinding":
		s.addBinding(kind, n)
		return nil
	}
	key := id(kind, ns, name)
	if _, dup := s.objects[key]; dup {
		return nil
	}
	s.objects[key] = s.compact(n)
	if kind == "Deployment" {
		var labels []string
		if l, _ := n.Pipe(yaml.Lookup("spec", "template", "metadata", "labels")); l != nil {
			_ = l.VisitFields(func(f *yaml.MapNode) error {
				labels = append(labels, f.Key.YNode().Value, yaml.GetValue(f.Value))
				return nil
			})
		}
		s.workloads[ns] = append(s.workloads[ns], workload{name, labels})
	}
	return nil
}

func (s *Set) addBinding(kind string, n *yaml.RNode) {
	subjects, _ := n.Pipe(yaml.Lookup("subjects"))
	if subjects == nil {
		return
	}
	elems, _ := subjects.Elements()
	for _, sub := range elems {
		if str(sub, "kind") == "ServiceAccount" {
			s.bindings[id(kind, n.GetNamespace(), str(n, "roleRef", "kind"), str(n, "roleRef", "name"), str(sub, "namespace"), str(sub, "name"))] = true
		}
	}
}

// get decodes the kept fields of one object again; nil when there is none.
func (s *Set) get(kind, namespace, name string) *yaml.RNode {
	b, ok := s.objects[id(kind, namespace, name)]
	if !ok {
		return nil
	}
	return decode(b)
}

// decode reads back what compact wrote (nil if it is not that): a parser of its own,
// as YAML's allocates ~17 KB to read one small object.
func decode(b string) *yaml.RNode {
	d := decoder{s: b}
	n, ok := d.value()
	if !ok || d.i != len(d.s) {
		return nil
	}
	return yaml.NewRNode(n)
}

type decoder struct {
	s string
	i int
}

func (d *decoder) next() byte {
	if d.i < len(d.s) {
		return d.s[d.i]
	}
	return 0
}

func (d *decoder) value() (*yaml.Node, bool) {
	switch d.next() {
	case '{':
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		d.i++
		for d.next() != '}' {
			if len(n.Content) > 0 {
				if d.next() != ',' {
					return nil, false
				}
				d.i++
			}
			k, ok := d.str()
			if !ok || d.next() != ':' {
				return nil, false
			}
			d.i++
			v, ok := d.value()
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, k, v)
		}
		d.i++
		return n, true
	case '[':
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq}
		d.i++
		for d.next() != ']' {
			if len(n.Content) > 0 {
				if d.next() != ',' {
					return nil, false
				}
				d.i++
			}
			v, ok := d.value()
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, v)
		}
		d.i++
		return n, true
	case '"':
		return d.str()
	}
	if strings.HasPrefix(d.s[d.i:], "null") {
		d.i += 4
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagNull, Value: "null"}, true
	}
	return nil, false
}

// str reads a string as quote wrote it.
func (d *decoder) str() (*yaml.Node, bool) {
	if d.next() != '"' {
		return nil, false
	}
	d.i++
	start, plain := d.i, true
	var b strings.Builder
	for {
		if d.i >= len(d.s) {
			return nil, false
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			v := d.s[start:d.i]
			if !plain {
				v = b.String()
			}
			d.i++
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: v}, true
		case c != '\\':
			if !plain {
				b.WriteByte(c)
			}
			d.i++
			continue
		}
		if plain {
			plain = false
			b.WriteString(d.s[start:d.i])
		}
		if d.i+1 >= len(d.s) {
			return nil, false
		}
		width := 0
		switch d.s[d.i+1] {
		case '"', '\\':
			b.WriteByte(d.s[d.i+1])
			d.i += 2
			continue
		case 'u':
			width = 4
		case 'U':
			width = 8
		default:
			return nil, false
		}
		if d.i+2+width > len(d.s) {
			return nil, false
		}
		r, err := strconv.ParseUint(d.s[d.i+2:d.i+2+width], 16, 32)
		if err != nil {
			return nil, false
		}
		b.WriteRune(rune(r))
		d.i += 2 + width
	}
}

func (s *Set) compact(n *yaml.RNode) string {
	s.scratch = compact(s.scratch[:0], n.YNode())
	return string(s.scratch)
}

// compact appends n as JSON (which YAML reads) with every scalar a string: the checks
// compare strings, and this costs a fraction of YAML's encoder. An alias is written as
// null, as the checks never followed one.
func compact(b []byte, n *yaml.Node) []byte {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return compact(b, n.Content[0])
		}
	case yaml.MappingNode:
		b = append(b, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = quote(b, n.Content[i].Value)
			b = append(b, ':')
			b = compact(b, n.Content[i+1])
		}
		return append(b, '}')
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, e := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = compact(b, e)
		}
		return append(b, ']')
	case yaml.ScalarNode:
		if n.Tag != yaml.NodeTagNull {
			return quote(b, n.Value)
		}
	}
	return append(b, "null"...)
}

// quote writes s as a double-quoted string of printable ASCII, escaping the rest, so
// that the YAML reader takes it back whatever s holds.
func quote(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r >= 0x20 && r < 0x7f:
			b = append(b, byte(r))
		case r == utf8.RuneError:
			b = append(b, `\ufffd`...)
		case r <= 0xffff:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = fmt.Appendf(b, `\U%08x`, r)
		}
	}
	return append(b, '"')
}
