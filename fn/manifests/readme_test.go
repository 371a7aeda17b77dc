package manifests

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/config/crd"
	"github.com/aggapi/aggapi/fn/config"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestReadmeConfigSnippets renders every AggregatedAPI snippet of the README: each
// loads without error and builds. The config reference (the first one) documents every
// field instead: its keys must be exactly the schema's.
func TestReadmeConfigSnippets(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var snippets []string
	for _, m := range yamlBlock.FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "kind: AggregatedAPI\n") {
			snippets = append(snippets, m[1])
		}
	}
	if len(snippets) < 4 {
		t.Fatalf("%d AggregatedAPI snippets in the README", len(snippets))
	}
	checkReference(t, snippets[0])
	for i, s := range snippets[1:] {
		api, errs := config.Load([]byte(s))
		if len(errs) > 0 {
			t.Errorf("README snippet %d: %v\n%s", i+2, errs, s)
			continue
		}
		if _, err := Build(api, Material{}); err != nil {
			t.Errorf("README snippet %d: %v", i+2, err)
		}
	}
}

// checkReference compares the field paths of the README's config reference with the
// schema's; below a field the schema leaves open (maps, podTemplate, extra rules,
// metadata) the README may show example keys.
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
			t.Errorf("the README's config reference lacks %s", p)
		}
	}
	for p := range inReadme {
		if !inSchema[p] {
			t.Errorf("the README's config reference shows %s, which is not in the schema", p)
		}
	}
}
