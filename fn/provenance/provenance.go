package provenance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
)

const digestPrefix = "sha256:"

// Digest is the SHA-256 of a YAML value in canonical form, as "sha256:<hex>".
func Digest(n *yaml.Node) string {
	return digestAt(n, elsewhere)
}

// ObjectDigest is the digest of an object as the next render compares it: without its
// own keys.RenderedDigestAnnotation and without the tools' bookkeeping annotations.
func ObjectDigest(obj *yaml.RNode) string {
	return digestAt(obj.YNode(), atRoot)
}

func digestAt(n *yaml.Node, w where) string {
	b, _ := appendCanonical(make([]byte, 0, 4096), n, w, 0) // on the stack unless it grows
	sum := sha256.Sum256(b)
	return digestPrefix + hex.EncodeToString(sum[:])
}

// SetRenderedDigest records the digest of obj, as it is now, on obj.
func SetRenderedDigest(obj *yaml.RNode) error {
	ann, err := annotations(obj.YNode())
	if err != nil {
		return err
	}
	setValue(ann, keys.RenderedDigestAnnotation, ObjectDigest(obj))
	return nil
}

// Stamp marks a generated object with the digest of its config, the version of aggapi,
// and then the digest of the object as it is.
func Stamp(obj *yaml.RNode, configDigest, version string) error {
	ann, err := annotations(obj.YNode())
	if err != nil {
		return err
	}
	setValue(ann, keys.ConfigDigestAnnotation, configDigest)
	setValue(ann, keys.VersionAnnotation, version)
	setValue(ann, keys.RenderedDigestAnnotation, ObjectDigest(obj))
	return nil
}

// annotations is an object's metadata.annotations mapping, made if missing. A direct
// walk: kyaml's SetAnnotation costs a path lookup per call, on every object of every
// render.
func annotations(obj *yaml.Node) (*yaml.Node, error) {
	meta := valueOf(obj, "metadata")
	if meta == nil || meta.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("an object without metadata cannot be stamped")
	}
	ann := valueOf(meta, "annotations")
	if ann == nil || ann.Kind != yaml.MappingNode {
		ann = &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap}
		setNode(meta, "annotations", ann)
	}
	return ann, nil
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setNode(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: key}, v)
}

// setValue sets a string value single-quoted, as kyaml's SetAnnotation does.
func setValue(m *yaml.Node, key, value string) {
	setNode(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: value, Style: yaml.SingleQuotedStyle})
}

// Edited tells whether obj differs from what aggapi wrote, by the digest it recorded;
// an object without a recorded digest (an older aggapi's) does not count as edited.
func Edited(obj *yaml.RNode) bool {
	want := obj.GetAnnotations()[keys.RenderedDigestAnnotation]
	return want != "" && want != ObjectDigest(obj)
}

// Changes lists the field paths where got differs from want, leaves first in document
// order, ignoring the stamps and the tools' bookkeeping annotations. List items that
// are objects with a name are addressed by it: containers[name=apiserver].image.
func Changes(want, got *yaml.RNode) []string {
	ignore := []string{keys.RenderedDigestAnnotation, keys.ConfigDigestAnnotation, keys.VersionAnnotation}
	var paths []string
	diff(canonicalObject(want, ignore...), canonicalObject(got, ignore...), "", &paths)
	return paths
}

// value is a YAML value in canonical form: map[string]value, []value or scalar; nil
// for null and for empty mappings and lists, which tools add and drop at will.
type value any

type scalar struct{ tag, text string }

func canonicalObject(obj *yaml.RNode, ignore ...string) value {
	return canonical(obj.YNode(), objectSkip(ignore...))
}

// objectSkip skips the tools' bookkeeping annotations and the given ones.
func objectSkip(ignore ...string) func(path []string, key string) bool {
	return func(path []string, key string) bool {
		return len(path) == 2 && path[0] == "metadata" && path[1] == "annotations" && (keys.IsToolAnnotation(key) || slices.Contains(ignore, key))
	}
}

func canonical(n *yaml.Node, skip func(path []string, key string) bool) value {
	return canonicalAt(n, nil, skip, 0)
}

// maxDepth bounds the recursion on hostile input; objects are far shallower.
const maxDepth = 100

func canonicalAt(n *yaml.Node, path []string, skip func([]string, string) bool, depth int) value {
	if n == nil || depth > maxDepth {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return canonicalAt(n.Content[0], path, skip, depth+1)
	case yaml.AliasNode:
		// By name, not expanded: expanding lets a few lines of aliases cost billions of
		// steps, and kustomize and kpt never write aliases into objects.
		return scalar{"*", n.Value}
	case yaml.MappingNode:
		m := map[string]value{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if skip != nil && skip(path, k) {
				continue
			}
			if v := canonicalAt(n.Content[i+1], append(path[:len(path):len(path)], k), skip, depth+1); v != nil {
				m[k] = v
			}
		}
		if len(m) == 0 {
			return nil
		}
		return m
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil
		}
		s := make([]value, len(n.Content))
		for i, c := range n.Content {
			s[i] = canonicalAt(c, append(path[:len(path):len(path)], "[]"), skip, depth+1)
		}
		return s
	case yaml.ScalarNode:
		return canonicalScalar(n)
	}
	return nil
}

// canonicalScalar keeps the type: 443 and "443" differ, 0x1bb and 443 do not. nil
// for null.
func canonicalScalar(n *yaml.Node) value {
	if v, ok := scalarOf(n); ok {
		return v
	}
	return nil
}

// scalarOf is canonicalScalar without the interface (and its allocation); false for null.
func scalarOf(n *yaml.Node) (scalar, bool) {
	switch tag := n.ShortTag(); tag {
	case yaml.NodeTagNull:
		return scalar{}, false
	case yaml.NodeTagInt:
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return scalar{tag, strconv.FormatInt(i, 10)}, true
		}
		return scalar{tag, n.Value}, true
	case yaml.NodeTagFloat:
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return scalar{yaml.NodeTagInt, strconv.FormatInt(int64(f), 10)}, true
			}
			return scalar{tag, strconv.FormatFloat(f, 'g', -1, 64)}, true
		}
		return scalar{tag, n.Value}, true
	case yaml.NodeTagBool:
		return scalar{tag, strconv.FormatBool(strings.EqualFold(n.Value, "true"))}, true
	default:
		return scalar{tag, n.Value}, true
	}
}

// The canonical form is part of the stamps' contract: changing it changes every digest,
// so `verify --config` fails every render until it is redone. Say so in CHANGELOG.md.
//
// where appendCanonical is in an object: only metadata.annotations has keys to skip,
// and a state says so without building a path for every field.
type where int

const (
	elsewhere where = iota
	atRoot
	inMetadata
	inAnnotations
)

func (w where) child(key string) where {
	switch {
	case w == atRoot && key == "metadata":
		return inMetadata
	case w == inMetadata && key == "annotations":
		return inAnnotations
	}
	return elsewhere
}

// appendCanonical appends n in canonical form to b, with the same rules as canonical
// with objectSkip(keys.RenderedDigestAnnotation) when w is atRoot (sorted keys, typed
// scalars, empty and null values dropped) but without building a tree: a digest is
// taken of every object of every render. It reports false, having appended nothing,
// for a value canonical would drop.
func appendCanonical(b []byte, n *yaml.Node, w where, depth int) ([]byte, bool) {
	if n == nil || depth > maxDepth {
		return b, false
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return b, false
		}
		return appendCanonical(b, n.Content[0], w, depth+1)
	case yaml.AliasNode:
		return appendScalar(b, scalar{"*", n.Value}), true
	case yaml.MappingNode:
		var small [16]int // most objects' mappings: no allocation
		order := small[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if w == inAnnotations && (k == keys.RenderedDigestAnnotation || keys.IsToolAnnotation(k)) {
				continue
			}
			order = append(order, i)
		}
		if !slices.IsSortedFunc(order, func(x, y int) int { return strings.Compare(n.Content[x].Value, n.Content[y].Value) }) {
			slices.SortStableFunc(order, func(x, y int) int { return strings.Compare(n.Content[x].Value, n.Content[y].Value) })
		}
		start := len(b)
		b = append(b, '{')
		wrote := false
		for _, i := range order {
			mark := len(b)
			b = appendString(b, n.Content[i].Value)
			b = append(b, ':')
			var ok bool
			if b, ok = appendCanonical(b, n.Content[i+1], w.child(n.Content[i].Value), depth+1); !ok {
				b = b[:mark]
				continue
			}
			b = append(b, ',')
			wrote = true
		}
		if !wrote {
			return b[:start], false
		}
		return append(b, '}'), true
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return b, false
		}
		b = append(b, '[')
		for _, c := range n.Content {
			var ok bool
			if b, ok = appendCanonical(b, c, elsewhere, depth+1); !ok {
				b = append(b, '~')
			}
			b = append(b, ',')
		}
		return append(b, ']'), true
	case yaml.ScalarNode:
		v, ok := scalarOf(n)
		if !ok {
			return b, false
		}
		return appendScalar(b, v), true
	}
	return b, false
}

func appendScalar(b []byte, s scalar) []byte {
	return appendString(append(b, s.tag...), s.text)
}

// appendString appends s length-prefixed: unambiguous, and a copy rather than
// strconv.Quote's rune-by-rune walk over kilobytes of base64.
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '"')
	return append(b, s...)
}

func diff(want, got value, path string, out *[]string) {
	switch w := want.(type) {
	case map[string]value:
		g, ok := got.(map[string]value)
		if !ok {
			*out = append(*out, orRoot(path))
			return
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			diff(w[k], g[k], join(path, k), out)
		}
	case []value:
		g, ok := got.([]value)
		if !ok {
			*out = append(*out, orRoot(path))
			return
		}
		if byName(w) && byName(g) {
			diffByName(w, g, path, out)
			return
		}
		for i := 0; i < len(w) || i < len(g); i++ {
			var a, b value
			if i < len(w) {
				a = w[i]
			}
			if i < len(g) {
				b = g[i]
			}
			diff(a, b, path+"["+strconv.Itoa(i)+"]", out)
		}
	default: // a scalar or nil
		switch got.(type) {
		case nil, scalar:
			if want == got {
				return
			}
		}
		*out = append(*out, orRoot(path))
	}
}

// byName tells whether every element is an object with a distinct string name.
func byName(s []value) bool {
	seen := map[string]bool{}
	for _, e := range s {
		m, ok := e.(map[string]value)
		if !ok {
			return false
		}
		n, ok := m["name"].(scalar)
		if !ok || seen[n.text] {
			return false
		}
		seen[n.text] = true
	}
	return true
}

func diffByName(w, g []value, path string, out *[]string) {
	index := func(s []value) (map[string]value, []string) {
		m := map[string]value{}
		var order []string
		for _, e := range s {
			n := e.(map[string]value)["name"].(scalar).text
			m[n] = e
			order = append(order, n)
		}
		return m, order
	}
	wm, order := index(w)
	gm, gorder := index(g)
	for _, n := range gorder {
		if _, ok := wm[n]; !ok {
			order = append(order, n)
		}
	}
	for _, n := range order {
		diff(wm[n], gm[n], path+"[name="+n+"]", out)
	}
}

// join appends a key to a field path; keys with dots or brackets are bracketed, as
// kubectl's JSONPath does: metadata.annotations[aggapi.dev/owner].
func join(path, key string) string {
	if strings.ContainsAny(key, ".[]") {
		return path + "[" + key + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "."
	}
	return path
}
