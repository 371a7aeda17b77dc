package resourcelist

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// parsedNodes counts the nodes yaml.v3 parses data to, every document.
func parsedNodes(t *testing.T, data []byte) int {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatalf("%.60q: %v", data, err)
		}
		n += countParsed(&doc)
	}
}

// denseShapes are documents of every shape of collection, at the most nodes per byte
// each allows.
var denseShapes = map[string]string{
	"flow list":               "[" + strings.Repeat("1,", 5000) + "1]",
	"flow mapping":            "{" + strings.Repeat("a: 1,", 5000) + "a: 1}",
	"flow mapping of nulls":   "{" + strings.Repeat("a,", 5000) + "a}",
	"flow list of pairs":      "[" + strings.Repeat("a: b,", 5000) + "a: b]",
	"flow list of null maps":  "[" + strings.Repeat("{a},", 5000) + "{a}]",
	"explicit keys":           "[" + strings.Repeat("? a,", 5000) + "? a]",
	"lone pairs":              strings.Repeat("- [a: b]\n", 2000) + strings.Repeat("- {a}\n", 2000),
	"nested flow lists":       "[" + strings.Repeat(strings.Repeat("[", 50)+strings.Repeat("]", 50)+",", 100) + "[]]",
	"nested flow maps":        strings.Repeat("{a: ", 500) + "{b}" + strings.Repeat("}", 500),
	"block list":              strings.Repeat("- 1\n", 5000),
	"nested block lists":      strings.Repeat("- - - - - - - - 1\n", 1000),
	"nested block mappings":   strings.Repeat("a:\n  b:\n    c:\n", 1000),
	"block mappings of nulls": strings.Repeat("a:\n", 5000),
	"tiny documents":          strings.Repeat("---\na: 1\n", 2000),
	"empty documents":         strings.Repeat("---\n", 5000),
	"bare scalars":            strings.Repeat("--- a\n", 5000),
	"lone carriage returns":   "a:\r  b:\r    c: d\re:\r" + strings.Repeat("- x\r", 1000),
	"line separators":         "a:\u2028  b:\u2028    c: d\u2028",
	"aliases":                 "a: &a [1, 2, 3]\nb: [" + strings.Repeat("*a,", 1000) + "*a]\n",
}

// TestNodesBoundsParsedNodes: Nodes, counted on the bytes, is never less than the nodes
// yaml.v3 parses them to, for the densest shapes and every golden input.
func TestNodesBoundsParsedNodes(t *testing.T) {
	inputs := map[string][]byte{}
	for name, s := range denseShapes {
		inputs[name] = []byte(s)
	}
	goldens, _ := filepath.Glob(filepath.Join(testutil.Root(t), "testdata", "*", "config.yaml"))
	for _, g := range goldens {
		if b, err := testutil.GoldenStdin(filepath.Dir(g)); err == nil {
			inputs[filepath.Base(filepath.Dir(g))] = b
		}
	}
	var deployments bytes.Buffer
	testutil.WriteDeployments(&deployments, 100)
	inputs["100 Deployments"] = deployments.Bytes()
	for name, data := range inputs {
		parsed := parsedNodes(t, data)
		if name == "aliases" {
			parsed = 2*parsed + aliasAllowance // what Parse lets aliases expand to
		}
		if got := Nodes(data); got < parsed {
			t.Errorf("%s: Nodes says %d, it parses to %d", name, got, parsed)
		}
	}
}

// TestCheckMemory: a dense document is refused before it is parsed, naming its densest
// line and the limit; ordinary manifests of the same size are not.
func TestCheckMemory(t *testing.T) {
	dense := []byte("apiVersion: v1\nkind: ConfigMap\ndata:\n  x: [" + strings.Repeat("1,", 2_000_000) + "1]\n")
	_, err := CheckMemory(dense, "the input", 1)
	var me *MemoryError
	if !errors.As(err, &me) || me.Line != 4 || !strings.Contains(err.Error(), "more than the limit of 40 times its size plus 128 MiB") {
		t.Fatalf("a 4 MB flow list: %v", err)
	}
	var deployments bytes.Buffer
	testutil.WriteDeployments(&deployments, 5000) // 4 MB
	if _, err := CheckMemory(deployments.Bytes(), "the input", 1); err != nil {
		t.Fatalf("5,000 Deployments: %v", err)
	}
	if _, err := CheckMemory([]byte(strings.Repeat("abc ", 5_000_000)), "the input", 1); err != nil {
		t.Fatalf("a 20 MB string: %v", err)
	}
}

// TestDocuments: documents are split where YAML starts one, never inside a line.
func TestDocuments(t *testing.T) {
	in := "a: 1\n---\nb: 2\n--- c\n---x: 3\n  ---\n---\t\nd\n---"
	var got []string
	_ = Documents([]byte(in), func(doc []byte, line int) error {
		got = append(got, string(doc)+"@"+string(rune('0'+line)))
		return nil
	})
	want := []string{"a: 1\n@1", "---\nb: 2\n@2", "--- c\n---x: 3\n  ---\n@4", "---\t\nd\n@7", "---@9"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
