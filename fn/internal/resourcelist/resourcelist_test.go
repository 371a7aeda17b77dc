package resourcelist

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestWriteResourceListMatchesKyaml: writing one item at a time gives the bytes kyaml's
// ByteWriter gives for the whole list, on every golden input and output.
func TestWriteResourceListMatchesKyaml(t *testing.T) {
	files, _ := filepath.Glob("../../../testdata/*/*.yaml")
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := &kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true}
		items, err := r.Read()
		if err != nil || r.WrappingKind == "" || kyamlClears(items) {
			continue
		}
		want, ok := kyamlWrite(items, r)
		if !ok {
			continue // kyaml's writer panics on items of the wrong shape
		}
		var got bytes.Buffer
		if err := Write(&got, r.WrappingAPIVersion, r.WrappingKind, items, nil, r.FunctionConfig, r.Results); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got.String() != want {
			t.Errorf("%s: written differently from kyaml:\n%s\nkyaml:\n%s", f, got.String(), want)
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d ResourceLists checked", checked)
	}
}

// kyamlClears reports whether kyaml's writer would drop part of an item: it removes a
// metadata.annotations, then a metadata, that has no content (`{}`, null or a scalar);
// Write keeps what it was given.
func kyamlClears(items []*yaml.RNode) bool {
	for _, it := range items {
		meta := it.Field("metadata")
		if it.YNode().Kind != yaml.MappingNode || meta == nil {
			continue
		}
		if len(meta.Value.Content()) == 0 {
			return true
		}
		if a := meta.Value.Field("annotations"); meta.Value.YNode().Kind == yaml.MappingNode && a != nil && len(a.Value.Content()) == 0 {
			return true
		}
	}
	return false
}

// kyamlWrite writes items as kyaml's ByteWriter did in the function before this
// package; ok is false when it panics (on items of the wrong shape, e.g. a scalar).
func kyamlWrite(items []*yaml.RNode, r *kio.ByteReader) (out string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var b bytes.Buffer
	w := kio.ByteWriter{Writer: &b, KeepReaderAnnotations: true, FunctionConfig: r.FunctionConfig, Results: r.Results,
		WrappingKind: r.WrappingKind, WrappingAPIVersion: r.WrappingAPIVersion}
	if err := w.Write(items); err != nil {
		return "", false
	}
	return b.String(), true
}

func TestParseResourceList(t *testing.T) {
	const fc = "functionConfig:\n  apiVersion: aggapi.dev/v1alpha1\n  kind: AggregatedAPI\n  metadata: {name: x}\n"
	const head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"
	for name, tc := range map[string]struct {
		in, err string
		items   int
	}{
		"plain":                {in: head + "items:\n- {kind: A}\n- {kind: B}\n" + fc, items: 2},
		"trailing separator":   {in: head + "items: []\n" + fc + "---\n", items: 0},
		"separators around":    {in: "---\n" + head + "items: []\n" + fc + "---\n# nothing\n---\n", items: 0},
		"List":                 {in: "apiVersion: v1\nkind: List\nitems:\n- {kind: A}\n", items: 1},
		"plain stream":         {in: "kind: A\n---\nkind: B\n", items: 2},
		"items null":           {in: head + "items:\n" + fc, items: 0},
		"items mapping":        {in: head + "items: {a: b}\n" + fc, err: "`items` is a mapping, want a list"},
		"duplicate kind":       {in: head + "kind: ResourceList\nitems: []\n" + fc, err: `the ResourceList has the key "kind" twice (lines 2 and 3)`},
		"alias resolved":       {in: head + "x: &a {kind: A}\nitems:\n- *a\n- *a\n" + fc, items: 2},
		"merge key resolved":   {in: head + "x: &a {kind: A}\nitems:\n- {<<: *a, metadata: {name: b}}\n" + fc, items: 1},
		"cycle":                {in: head + "items: &a\n- *a\n" + fc, err: "alias *a is inside the node its anchor names"},
		"too deep":             {in: head + "items:\n- " + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + "\n", err: "nests deeper than 1000 levels"},
		"too deep by aliases":  {in: head + "x: &a " + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "\nitems:\n- " + strings.Repeat("[", 600) + "*a" + strings.Repeat("]", 600) + "\n", err: "nests deeper than 1000 levels once alias *a is expanded"},
		"duplicate in an item": {in: head + "items:\n- kind: A\n  metadata: {name: a}\n  metadata: {name: b}\n" + fc, err: `line 6: key "metadata" appears twice in one mapping (lines 5 and 6)`},
		"duplicate in config, left to its loader": {in: head + "items: []\n" + fc + "  kind: Other\n", items: 0},
		"not yaml": {in: "a: [", err: "the input is not valid YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			rl, err := Parse([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rl.Items) != tc.items {
				t.Fatalf("%d items, want %d", len(rl.Items), tc.items)
			}
			var out bytes.Buffer
			if err := Write(&out, "config.kubernetes.io/v1", "ResourceList", rl.Items, rl.Raw, rl.FunctionConfig, nil); err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(out.String(), "*&") {
				t.Errorf("an alias or anchor is left:\n%s", out.String())
			}
			if _, err := kio.FromBytes(out.Bytes()); err != nil {
				t.Errorf("output does not parse: %v\n%s", err, out.String())
			}
		})
	}
}

// TestAliasExpansionIsBounded: nested aliases that would expand to 10^9 nodes are
// refused before any is expanded; aliases that at most double the input are not.
func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat("*a"+string(rune('0'+i-1))+", ", 9) + "*a" + string(rune('0'+i-1)) + "]\n")
	}
	if _, err := Parse([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "YAML aliases expand the input to more than") {
		t.Fatalf("billion laughs: error %v", err)
	}
	many := "x: &a {kind: A, metadata: {name: a}}\nitems:\n" + strings.Repeat("- *a\n", 5000)
	if _, err := Parse([]byte("apiVersion: v1\nkind: List\n" + many)); err != nil {
		t.Fatalf("5,000 aliases of a small object: %v", err)
	}
}

// TestRawItemsReadBackTheSame: the text kept for an item reads back as the item, in
// every layout (wide and compact lists, comments and blank lines between items, block
// scalars holding "- " and "#" lines, multi-line flow items, CRLF), and the items with
// no clear text of their own are encoded instead.
func TestRawItemsReadBackTheSame(t *testing.T) {
	const fc = "functionConfig:\n  kind: AggregatedAPI\n"
	inputs := map[string]string{
		"compact":                 "kind: ResourceList\nitems:\n- kind: A\n  metadata: {name: a}\n- kind: B\n  data:\n    x: |\n      - not an item\n      # not a comment\n    y: z   # comment\n" + fc,
		"wide":                    "kind: ResourceList\nitems:\n  - kind: A\n    data:\n      x: |\n        - text\n\n        more\n  # about B\n  - kind: B\n\n  - {kind: C,\n     data: {a: b}}\n" + fc,
		"comments":                "kind: ResourceList\nitems:\n# head of A\n- kind: A # trailing\n  # inside A\n  data: {a: b}\n\n# head of B\n\n- kind: B\n# before functionConfig\n" + fc,
		"last item, no key after": "kind: ResourceList\n" + fc + "items:\n- kind: A\n- kind: B\n",
		"crlf":                    "kind: ResourceList\r\nitems:\r\n- kind: A\r\n  data:\r\n    x: |\r\n      line\r\n- kind: B\r\n" + fc,
		"flow list":               "kind: ResourceList\nitems: [{kind: A}, {kind: B}]\n" + fc,
		"dash alone":              "kind: ResourceList\nitems:\n-\n  kind: A\n- kind: B\n" + fc,
		"tags and anchors":        "kind: ResourceList\nitems:\n- kind: !!str A\n  data: &d {a: b}\n- kind: B\n" + fc,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			rl, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			for i, it := range rl.Items {
				text, ok := rl.Raw[it.YNode()]
				if !ok {
					continue
				}
				var got []any
				if err := yamlv3.Unmarshal(text, &got); err != nil || len(got) != 1 {
					t.Fatalf("items[%d] text %q does not read back as one item: %v", i, text, err)
				}
				var want any
				if err := it.YNode().Decode(&want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got[0], want) {
					t.Errorf("items[%d] text %q reads as %v, want %v", i, text, got[0], want)
				}
			}
			var before []any
			for _, it := range rl.Items {
				var v any
				_ = it.YNode().Decode(&v)
				before = append(before, v)
			}
			var out bytes.Buffer
			if err := Write(&out, "config.kubernetes.io/v1", "ResourceList", rl.Items, rl.Raw, rl.FunctionConfig, nil); err != nil {
				t.Fatal(err)
			}
			again, err := Parse(out.Bytes())
			if err != nil {
				t.Fatalf("output does not read: %v\n%s", err, out.String())
			}
			if len(again.Items) != len(before) {
				t.Fatalf("%d items written, %d read back:\n%s", len(before), len(again.Items), out.String())
			}
			for i := range before {
				var b any
				_ = again.Items[i].YNode().Decode(&b)
				if !reflect.DeepEqual(before[i], b) {
					t.Errorf("items[%d] written as %v, was %v:\n%s", i, b, before[i], out.String())
				}
			}
		})
	}
	rl, _ := Parse([]byte(inputs["wide"]))
	if len(rl.Raw) != 3 {
		t.Errorf("wide list: %d items kept as text, want 3", len(rl.Raw))
	}
	if rl, _ := Parse([]byte(inputs["flow list"])); len(rl.Raw) != 0 {
		t.Errorf("a flow list has no text per item, got %d", len(rl.Raw))
	}
}

// TestOtherLineBreaksAreEncoded: the YAML parser counts \r, \r\n, NEL, LS and PS as line
// breaks; the raw copy counts \n alone, so such input is read and encoded, never copied
// by mismatched line numbers (a \r before the last key once indexed past the line table).
func TestOtherLineBreaksAreEncoded(t *testing.T) {
	base := "kind: ResourceList\nitems:\n- kind: ConfigMap\n  metadata:\n    name: a\n- kind: ConfigMap\n  metadata:\n    name: b # x\nfunctionConfig:\n  kind: X\n"
	for name, in := range map[string]string{
		"crlf":             strings.ReplaceAll(base, "\n", "\r\n"),
		"cr before a key":  strings.Replace(base, "# x\n", "# x\r\n\r", 1),
		"nel in a comment": strings.Replace(base, "# x", "# x\u0085# y", 1),
		"ls in a comment":  strings.Replace(base, "# x", "# x\u2028# y", 1),
		"ps in a comment":  strings.Replace(base, "# x", "# x\u2029# y", 1),
	} {
		t.Run(name, func(t *testing.T) {
			rl, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if len(rl.Items) != 2 || len(rl.Raw) != 0 {
				t.Fatalf("%d items, %d copied raw; want 2, none", len(rl.Items), len(rl.Raw))
			}
			if !hasLoneCR([]byte(in)) {
				if !checkAgainstKyaml(t, []byte(in)) {
					t.Fatal("not compared with kyaml")
				}
				return
			}
			// kyaml reads a lone \r differently (see the package doc): what Write
			// writes must read back to what was read.
			before, beforeFC := decodeAll(t, rl.Items, rl.FunctionConfig) // Write drops the items
			var out bytes.Buffer
			if err := Write(&out, rl.APIVersion, rl.Kind, rl.Items, rl.Raw, rl.FunctionConfig, nil); err != nil {
				t.Fatal(err)
			}
			back, err := Parse(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			after, afterFC := decodeAll(t, back.Items, back.FunctionConfig)
			if !equalValues(before, after) || !equalValues(beforeFC, afterFC) {
				t.Fatalf("written\n%s\nreads back as\n%s\nnot\n%s", out.Bytes(), show(after, afterFC), show(before, beforeFC))
			}
		})
	}
	rl, err := Parse([]byte(base))
	if err != nil || len(rl.Raw) != 2 {
		t.Fatalf("plain \\n input: %d copied raw, %v; want 2", len(rl.Raw), err)
	}
}

// TestReadInputChunks: what ReadInput returns is what was read, at and around the chunk
// sizes and the limit, from a reader that returns a few bytes at a time.
func TestReadInputChunks(t *testing.T) {
	for _, n := range []int{0, 1, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3 << 20, 9<<20 + 7, MaxInputBytes} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte(i % 251)
		}
		got, err := ReadInput(iotest.HalfReader(bytes.NewReader(want)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: got %d bytes, equal %v, %v", n, len(got), bytes.Equal(got, want), err)
		}
	}
	over := bytes.NewReader(make([]byte, MaxInputBytes+1))
	if _, err := ReadInput(over); err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("one byte over the limit: %v", err)
	}
	if _, err := ReadInput(iotest.TimeoutReader(bytes.NewReader(make([]byte, 100<<10)))); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("a read error: %v, want it returned", err)
	}
}

// TestFoldedScalarsKeepTheirLines: go-yaml's emitter adds a blank line before a
// more-indented line of a folded scalar, and after the trailing blank lines of >+; Write
// writes folded scalars literal instead, so an item it encodes (here: the input has
// \r\n line ends) keeps its value.
func TestFoldedScalarsKeepTheirLines(t *testing.T) {
	in := strings.ReplaceAll("kind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n    indented: >\n      a\n       b\n    plain: >\n      a\n      b\n    first: >2\n       a\n      b\n    keep: >+\n      a\n\n\n", "\n", "\r\n")
	rl, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(&out, rl.APIVersion, rl.Kind, rl.Items, rl.Raw, rl.FunctionConfig, nil); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Items []struct {
			Data map[string]string
		}
	}
	if err := yamlv3.Unmarshal(out.Bytes(), &back); err != nil || len(back.Items) != 1 {
		t.Fatalf("%v\n%s", err, out.Bytes())
	}
	want := map[string]string{"indented": "a\n b\n", "plain": "a b\n", "first": " a\nb\n", "keep": "a\n\n\n"}
	if !reflect.DeepEqual(back.Items[0].Data, want) {
		t.Fatalf("data %q, want %q; written:\n%s", back.Items[0].Data, want, out.Bytes())
	}
}

// TestTagsThatCannotBeWrittenBack: a tag go-yaml would write as something else (so
// the output would not parse) is refused with its line; tags that survive are kept.
func TestTagsThatCannotBeWrittenBack(t *testing.T) {
	head := "kind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data:\n"
	for _, bad := range []string{"!%21 foo", "!%21 {a: b}"} {
		_, err := Parse([]byte(head + "    x: " + bad + "\n"))
		if err == nil || !strings.Contains(err.Error(), "line 7:") || !strings.Contains(err.Error(), "cannot be written back") {
			t.Errorf("%s: %v, want a refusal naming line 7", bad, err)
		}
	}
	for _, good := range []string{"!!str foo", "!foo foo", "!e%21 foo", "!<tag:example.com,2000:x> foo", "!%7e foo"} {
		in := head + "    x: " + good + "\n"
		rl, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", good, err)
			continue
		}
		var out bytes.Buffer
		if err := Write(&out, rl.APIVersion, rl.Kind, rl.Items, nil, rl.FunctionConfig, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out.Bytes()); err != nil {
			t.Errorf("%s: written as\n%s\nwhich does not read back: %v", good, out.Bytes(), err)
		}
	}
}
