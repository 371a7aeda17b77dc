package manifests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/config/crd"
	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil"
)

// TestDocsConfigSnippets loads and builds every AggregatedAPI snippet of the docs
// (README.md, CONTRIBUTING.md, docs/*.md): each loads without error and builds. The
// config reference (the first snippet under docs/config.md's "Config reference")
// documents every field instead: its keys must be exactly the schema's.
func TestDocsConfigSnippets(t *testing.T) {
	root := testutil.Root(t)
	var reference string
	others := 0
	for _, b := range testutil.DocBlocks(t, root) {
		if !b.IsConfigSnippet() {
			continue
		}
		if b.Marker != "" {
			t.Errorf("%s: a config snippet is always loaded and built; remove <!-- run: %s -->", b, b.Marker)
		}
		if reference == "" && b.File == "docs/config.md" && isReference(t, root, b) {
			reference = b.Body
			continue
		}
		others++
		api, errs := config.Load([]byte(b.Body))
		if len(errs) > 0 {
			t.Errorf("%s: %v\n%s", b, errs, b.Body)
			continue
		}
		if _, err := Build(api, Material{}); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	if reference == "" {
		t.Fatal("docs/config.md has no config reference (a yaml block right under \"## Config reference\")")
	}
	if others < 4 {
		t.Errorf("%d AggregatedAPI snippets besides the reference, want at least 4", others)
	}
	checkReference(t, reference)
}

// isReference says whether b is the first code block after docs/config.md's
// "## Config reference" heading.
func isReference(t *testing.T, root string, b testutil.DocBlock) bool {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(root, "docs", "config.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	for i := b.Line - 2; i >= 0; i-- {
		switch l := lines[i]; {
		case l == "## Config reference":
			return true
		case strings.HasPrefix(l, "#"), strings.HasPrefix(l, "```"):
			return false
		}
	}
	return false
}

// checkReference compares the field paths of the config reference with the schema's;
// below a field the schema leaves open (maps, podTemplate, extra rules, metadata) the
// reference may show example keys.
func checkReference(t *testing.T, reference string) {
	t.Helper()
	var doc any
	if err := sigsyaml.Unmarshal([]byte(reference), &doc); err != nil {
		t.Fatalf("config reference: %v", err)
	}
	var schema map[string]any
	if err := json.Unmarshal(crd.AggregatedAPISchema, &schema); err != nil {
		t.Fatal(err)
	}
	inSchema := map[string]bool{}
	var walkSchema func(s map[string]any, at string)
	walkSchema = func(s map[string]any, at string) {
		if items, ok := s["items"].(map[string]any); ok {
			walkSchema(items, at+"[]")
		}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			inSchema[at+"."+name] = true
			walkSchema(p.(map[string]any), at+"."+name)
		}
		if _, list := s["items"]; len(props) == 0 && !list {
			inSchema[at+".*"] = true // open: anything below
		}
	}
	walkSchema(schema, "")
	inReadme := map[string]bool{}
	var walkDoc func(v any, at string)
	walkDoc = func(v any, at string) {
		if inSchema[at+".*"] {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				inReadme[at+"."+k] = true
				walkDoc(x, at+"."+k)
			}
		case []any:
			for _, x := range v {
				walkDoc(x, at+"[]")
			}
		}
	}
	walkDoc(doc, "")
	for p := range inSchema {
		if !strings.HasSuffix(p, ".*") && !inReadme[p] && !slices.Contains([]string{".apiVersion", ".kind"}, p) {
			t.Errorf("the config reference (docs/config.md) lacks %s", p)
		}
	}
	for p := range inReadme {
		if !inSchema[p] {
			t.Errorf("the config reference (docs/config.md) shows %s, which is not in the schema", p)
		}
	}
}
