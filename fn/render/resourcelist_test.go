package render

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestWriteResourceListMatchesKyaml: writing one item at a time gives the bytes kyaml's
// ByteWriter gives for the whole list, on every golden input and output.
func TestWriteResourceListMatchesKyaml(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*/*.yaml")
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := &kio.ByteReader{Reader: bytes.NewReader(b), OmitReaderAnnotations: true}
		items, err := r.Read()
		if err != nil || r.WrappingKind == "" || !wellFormed(items) {
			continue // kyaml's writer panics on items of the wrong shape
		}
		var want, got bytes.Buffer
		w := kio.ByteWriter{Writer: &want, KeepReaderAnnotations: true, FunctionConfig: r.FunctionConfig, Results: r.Results,
			WrappingKind: r.WrappingKind, WrappingAPIVersion: r.WrappingAPIVersion}
		if err := w.Write(items); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := WriteResourceList(&got, r.WrappingAPIVersion, r.WrappingKind, items, r.FunctionConfig, r.Results); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: written differently from kyaml:\n%s\nkyaml:\n%s", f, got.String(), want.String())
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d ResourceLists checked", checked)
	}
}

func wellFormed(items []*yaml.RNode) bool {
	for i, it := range items {
		if checkItem(i, it.YNode()) != nil {
			return false
		}
	}
	return true
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
		"duplicate in config":  {in: head + "items: []\n" + fc + "  kind: Other\n", err: `key "kind" appears twice`},
		"not yaml":             {in: "a: [", err: "the input is not valid YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			rl, err := ParseResourceList([]byte(tc.in))
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
			if err := WriteResourceList(&out, "config.kubernetes.io/v1", "ResourceList", rl.Items, rl.FunctionConfig, nil); err != nil {
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
	if _, err := ParseResourceList([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "YAML aliases expand the input to more than") {
		t.Fatalf("billion laughs: error %v", err)
	}
	many := "x: &a {kind: A, metadata: {name: a}}\nitems:\n" + strings.Repeat("- *a\n", 5000)
	if _, err := ParseResourceList([]byte("apiVersion: v1\nkind: List\n" + many)); err != nil {
		t.Fatalf("5,000 aliases of a small object: %v", err)
	}
}
