package resourcelist

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// refusals are the reasons Parse may refuse an input that kyaml's reader accepts, one
// for each bullet of the package doc's "Refused" list. Parse refusing a kyaml-readable
// input for any other reason is a divergence FuzzParseMatchesKyaml reports.
var refusals = []struct{ name, pattern string }{
	{"duplicate key", `key "[^"]*" appears twice in one mapping|has the key "[^"]*" twice`},
	{"non-scalar key", `keys must be strings`},
	{"alias budget", `YAML aliases expand the input to more than`},
	{"alias cycle", `would expand forever`},
	{"depth", `the input nests deeper than \d+ levels`},
	{"bad tag", `^line \d+: !!?\S* "`},
	{"tag not written back", `^line \d+: .* the tag cannot be written back as YAML$`},
	{"bad merge key", `the merge key << takes a mapping`},
	{"not YAML", `^the input is not valid YAML`},
	{"items not a list", "`items` is a .+, want a list of objects"},
}

func refusal(err error) string {
	for _, r := range refusals {
		if regexp.MustCompile(r.pattern).MatchString(err.Error()) {
			return r.name
		}
	}
	return ""
}

// goldenInputs returns the stdin of every golden case as fn/cli's golden harness
// assembles it (input.yaml, or config.yaml wrapped with items.yaml in a ResourceList),
// by case name.
func goldenInputs(t testing.TB) map[string][]byte {
	dirs, _ := filepath.Glob("../../../testdata/*")
	inputs := map[string][]byte{}
	for _, dir := range dirs {
		if b, err := testutil.GoldenStdin(dir); err == nil {
			inputs[filepath.Base(dir)] = b
		}
	}
	if len(inputs) < 100 {
		t.Fatalf("only %d golden inputs found", len(inputs))
	}
	return inputs
}

// handSeeds reach what the golden inputs do not: comments, flow style, anchors,
// merge keys, tags, wide lists, CRLF, plain streams and Lists.
var handSeeds = []string{
	"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n# head\n- kind: A # trailing\n  # inside\n  metadata: {name: a}\n\n- kind: B\n# before the config\nfunctionConfig:\n  kind: C\n",
	"kind: ResourceList\nitems: [{kind: A, metadata: {name: a}}, {kind: B}]\nfunctionConfig: {kind: C, spec: {x: [1, 2.5, true, null]}}\n",
	"kind: ResourceList\nx: &a {kind: A, metadata: {name: a}}\nitems:\n- *a\n- {<<: *a, data: {k: v}}\n- <<: [*a, {kind: B}]\n  spec: &s [1, 2]\nfunctionConfig: {kind: C, spec: *s}\n",
	"kind: ResourceList\nitems:\n  - kind: A\n    data:\n      x: |\n        - not an item\n        # not a comment\n      y: >-\n        folded\n        text\n  - kind: !!str B\n    n: !!int 3\n    f: !!float 1\n    b: !!binary aGk=\n",
	"kind: ResourceList\r\nitems:\r\n- kind: A\r\n  data:\r\n    x: \"a\\r\\nb\"\r\n- kind: B\r\nfunctionConfig:\r\n  kind: C\r\n",
	"kind: A\nmetadata: {name: a}\n---\n# comment only\n---\nkind: B\n...\n",
	"apiVersion: v1\nkind: List\nitems:\n- kind: A\n  metadata:\n    annotations: {a: 'b'}\n    labels: {\"c\": \"d\"}\n",
	"kind: ResourceList\nitems:\n-\n  kind: A\n- - nested\n  - list\n- scalar\n- null\n- ~\nfunctionConfig:\nresults: []\n",
	"kind: ResourceList\nitems: []\nfunctionConfig:\n  kind: C\n  spec: {a: 1, a: 2}\n---\n",
	"kind: ResourceList\nitems:\n- {kind: A, 1: int key, true: bool key, .nan: nan, .inf: inf, 0x1F: hex, 0o17: oct, 1e3: exp}\n",
}

// FuzzParseMatchesKyaml holds Parse and Write to kyaml's kio.ByteReadWriter, with the
// options the function used before this package (OmitReaderAnnotations and
// KeepReaderAnnotations). Where kyaml reads an input and Parse accepts it, the items
// and functionConfig must decode (aliases resolved) to the same values, and what
// Write writes must read back with kyaml to those values again. Where Parse refuses an
// input kyaml reads, the reason must be one of the documented refusals.
func FuzzParseMatchesKyaml(f *testing.F) {
	for name, in := range goldenInputs(f) {
		if len(in) > 256<<10 {
			// err-multi-megabyte-config: a 2 MiB seed slows every mutation; the loader's
			// size bound it tests is not the reader's. TestParseMatchesKyamlOnGoldens
			// still reads it.
			_ = name
			continue
		}
		f.Add(in)
	}
	for _, s := range handSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		checkAgainstKyaml(t, data)
	})
}

// TestParseMatchesKyamlOnGoldens runs the fuzz target's check over every golden input,
// the large ones too, and fails if too few reach the comparison.
func TestParseMatchesKyamlOnGoldens(t *testing.T) {
	compared := 0
	for name, in := range goldenInputs(t) {
		t.Run(name, func(t *testing.T) {
			if checkAgainstKyaml(t, in) {
				compared++
			}
		})
	}
	if compared < 100 {
		t.Fatalf("only %d golden inputs compared with kyaml", compared)
	}
}

// checkAgainstKyaml reports whether both readers accepted data (and so were compared).
func checkAgainstKyaml(t *testing.T, data []byte) bool {
	t.Helper()
	rl, err := Parse(data)
	if err != nil {
		if refusal(err) != "" {
			// A documented refusal; kyaml need not be asked (and an alias bomb would
			// cost it gigabytes).
			return false
		}
		if _, _, kerr := kyamlRead(data); kerr == nil {
			t.Fatalf("Parse refuses what kyaml reads, for no documented reason: %v\ninput:\n%q", err, data)
		}
		return false
	}
	kitems, kr, kerr := kyamlRead(data)
	if kerr != nil {
		return false // kyaml refuses (or panics on) what Parse accepts: not compared
	}
	if hasLoneCR(data) {
		// Deliberate: YAML takes a \r that is not part of \r\n as a line break; kyaml
		// replaces \r\n with \n and then splits documents at \n--- only, so \r---
		// starts no document for it, and \r\r\n (two breaks) becomes one.
		return false
	}
	if kyamlSplitsAtText(data) {
		// Deliberate: kyaml splits at every line that starts with --- and has nothing or
		// a # after it; in YAML, ---#0 is text (a plain scalar), not a document marker.
		return false
	}
	if kyamlDropsDocuments(data) {
		// Deliberate: kyaml decodes only the first document between two --- lines and
		// drops the rest (after a ... end marker); Parse reads every document.
		return false
	}
	if rl.Kind != "" && kr.WrappingKind == "" && len(kitems) == 1 {
		// Deliberate: a ResourceList with empty documents around it (a trailing ---) is
		// unwrapped; kyaml only unwraps a lone document and so passes the whole list
		// through as one item. Compare with kyaml's own unwrapping of that item.
		kitems, kr = unwrapLikeKyaml(kitems[0])
	}
	if rl.Kind != kr.WrappingKind || rl.APIVersion != kr.WrappingAPIVersion {
		t.Fatalf("wrapping kind %q %q, kyaml %q %q\ninput:\n%q", rl.APIVersion, rl.Kind, kr.WrappingAPIVersion, kr.WrappingKind, data)
	}
	ours, oursFC := decodeAll(t, rl.Items, rl.FunctionConfig)
	theirs, theirsFC := decodeAll(t, kitems, kr.FunctionConfig)
	if theirsFC.err == excessiveAliasing || slices.ContainsFunc(theirs, func(d decoded) bool { return d.err == excessiveAliasing }) {
		return false
	}
	if !equalValues(ours, theirs) || !equalValues(oursFC, theirsFC) {
		t.Fatalf("Parse reads\n%s\nkyaml reads\n%s\ninput:\n%q", show(ours, oursFC), show(theirs, theirsFC), data)
	}

	apiVersion, kind := rl.APIVersion, rl.Kind
	if kind == "" {
		apiVersion, kind = kio.ResourceListAPIVersion, kio.ResourceListKind
	}
	var out bytes.Buffer
	if err := Write(&out, apiVersion, kind, rl.Items, rl.Raw, rl.FunctionConfig, nil); err != nil {
		t.Fatalf("Write: %v\ninput:\n%q", err, data)
	}
	back, br, err := kyamlRead(out.Bytes())
	if err != nil {
		t.Fatalf("kyaml cannot read what Write wrote: %v\ninput:\n%q\nwritten:\n%s", err, data, out.Bytes())
	}
	again, againFC := decodeAll(t, back, br.FunctionConfig)
	if (!equalValues(again, ours) || !equalValues(againFC, oursFC)) && !kyamlRoundTripsTo(kitems, kr, again, againFC) {
		t.Fatalf("written and read back by kyaml\n%s\nwas\n%s\ninput:\n%q\nwritten:\n%s", show(again, againFC), show(ours, oursFC), data, out.Bytes())
	}
	return true
}

// unwrapLikeKyaml unwraps a ResourceList or List as kio.ByteReader does.
func unwrapLikeKyaml(list *yaml.RNode) ([]*yaml.RNode, *kio.ByteReadWriter) {
	r := &kio.ByteReadWriter{}
	meta, _ := list.GetMeta()
	r.WrappingKind, r.WrappingAPIVersion = meta.Kind, meta.APIVersion
	if fc := list.Field("functionConfig"); fc != nil {
		r.FunctionConfig = fc.Value
	}
	var items []*yaml.RNode
	if f := list.Field("items"); f != nil {
		for _, n := range f.Value.Content() {
			items = append(items, yaml.NewRNode(n))
		}
	}
	return items, r
}

// kyamlDropsDocuments reports whether a part of data between kyaml's --- separators
// holds a document after its first that is not empty: kyaml decodes only the first
// (`&a\n--- 0` without a final newline is one part to kyaml, whose first document is
// null).
func kyamlDropsDocuments(data []byte) bool {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	for _, part := range regexp.MustCompile(`\n---.*\n`).Split(s, -1) {
		dec := yaml.NewDecoder(strings.NewReader(part))
		for i := 0; ; i++ {
			var doc yaml.Node
			if dec.Decode(&doc) != nil {
				break
			}
			if i > 0 && !yaml.IsYNodeEmptyDoc(&doc) && !yaml.IsMissingOrNull(yaml.NewRNode(&doc)) {
				return true
			}
		}
	}
	return false
}

// hasLoneCR reports whether data holds a \r that is not followed by \n.
func hasLoneCR(data []byte) bool {
	for i, c := range data {
		if c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			return true
		}
	}
	return false
}

// kyamlSplitsAtText reports whether kyaml's document splitter (a line matching
// \n---.*\n) splits at a line YAML reads as text: --- followed by something other than
// a space or tab.
func kyamlSplitsAtText(data []byte) bool {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	for _, loc := range regexp.MustCompile(`\n---.*\n`).FindAllStringIndex(s, -1) {
		if line := s[loc[0]+1 : loc[1]-1]; len(line) > 3 && line[3] != ' ' && line[3] != '\t' {
			return true
		}
	}
	return false
}

// kyamlRoundTripsTo reports whether kyaml's own writer, given its items, writes what
// kyaml reads back as items and fc: a divergence of the YAML library both writers share
// (yaml.v3 writes an empty null key, `: x` or `&a: x`, as a quoted empty string), not of Write.
func kyamlRoundTripsTo(kitems []*yaml.RNode, kr *kio.ByteReadWriter, items []decoded, fc decoded) bool {
	r := &kio.ByteReader{FunctionConfig: kr.FunctionConfig, WrappingKind: kr.WrappingKind, WrappingAPIVersion: kr.WrappingAPIVersion}
	if r.WrappingKind == "" {
		r.WrappingKind, r.WrappingAPIVersion = kio.ResourceListKind, kio.ResourceListAPIVersion
	}
	// Write mends what go-yaml would write with another value (see emitSafe); kyaml's
	// writer, given the same nodes, must then agree.
	for _, it := range kitems {
		emitSafe(it.YNode(), false)
	}
	if r.FunctionConfig != nil {
		emitSafe(r.FunctionConfig.YNode(), false)
	}
	out, ok := kyamlWrite(kitems, r)
	if !ok {
		return false
	}
	back, br, err := kyamlRead([]byte(out))
	if err != nil {
		return false
	}
	got, gotFC := decodeAll(nil, back, br.FunctionConfig)
	return equalValues(got, items) && equalValues(gotFC, fc)
}

// kyamlRead reads data as the function did before this package; a panic is an error.
func kyamlRead(data []byte) (items []*yaml.RNode, r *kio.ByteReadWriter, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("kyaml panics: %v", p)
		}
	}()
	r = &kio.ByteReadWriter{Reader: bytes.NewReader(data), OmitReaderAnnotations: true, KeepReaderAnnotations: true}
	items, err = r.Read()
	return items, r, err
}

// decoded is a node decoded into generic values (aliases and merge keys resolved), or
// the error decoding gave (e.g. a duplicate key in a functionConfig, left to its loader).
type decoded struct {
	v   any
	err string
}

func decodeAll(t *testing.T, items []*yaml.RNode, fc *yaml.RNode) ([]decoded, decoded) {
	out := make([]decoded, len(items))
	for i, it := range items {
		out[i] = decode(it)
	}
	return out, decode(fc)
}

// excessiveAliasing is yaml.v3's Decode refusing a node whose aliases expand past a
// ratio of its own: kyaml's unresolved items can hit it where Parse resolved the same
// aliases within its budget, and then there is no value of kyaml's to compare.
const excessiveAliasing = "excessive aliasing"

func decode(n *yaml.RNode) decoded {
	if n == nil {
		return decoded{}
	}
	var v any
	if err := n.YNode().Decode(&v); err != nil {
		if strings.Contains(err.Error(), "excessive aliasing") {
			return decoded{err: excessiveAliasing}
		}
		return decoded{err: "does not decode"}
	}
	return decoded{v: normalize(v)}
}

// normalize makes NaN equal to itself for reflect.DeepEqual, as a value and as a key.
func normalize(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) {
			return "NaN"
		}
	case []any:
		for i := range v {
			v[i] = normalize(v[i])
		}
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
	case map[any]any:
		// Keys may be NaN, which no map lookup finds: key by type and printed value.
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprintf("%T %v", k, k)] = normalize(e)
		}
		return m
	}
	return v
}

func equalValues(a, b any) bool { return reflect.DeepEqual(a, b) }

func show(items []decoded, fc decoded) string {
	return fmt.Sprintf("items %#v\nfunctionConfig %#v", items, fc)
}
