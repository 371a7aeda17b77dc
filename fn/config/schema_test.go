package config

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"k8s.io/kube-openapi/pkg/validation/strfmt"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/config/crd"
)

// TestSchemaMatchesKubeOpenAPI: on every testdata config, and on the config of
// testdata/basic with each field of the schema set to values around and beyond each
// of its constraints, the checker reports what kube-openapi reported.
func TestSchemaMatchesKubeOpenAPI(t *testing.T) {
	root, err := crdSchema()
	if err != nil {
		t.Fatal(err)
	}
	configs := testdataConfigs(t)
	for name, doc := range configs {
		requireSameErrors(t, name, kubeOpenAPIErrors(doc), schemaErrors(doc))
	}
	base := configs["basic"]
	if base == nil {
		t.Fatal("no testdata/basic/config.yaml")
	}
	n := 0
	for _, m := range mutations(root) {
		doc, ok := m.apply(base).(map[string]any)
		if !ok {
			continue
		}
		n++
		requireSameErrors(t, m.String(), kubeOpenAPIErrors(doc), schemaErrors(doc))
	}
	if n < 1000 {
		t.Errorf("only %d mutations: the generator lost track of the schema", n)
	}
}

// TestSchemaMatchesKubeOpenAPIOnCombinations: several mutations at once, so errors
// from many fields (and many at one field) come together, as in a real bad config.
func TestSchemaMatchesKubeOpenAPIOnCombinations(t *testing.T) {
	root, err := crdSchema()
	if err != nil {
		t.Fatal(err)
	}
	base := testdataConfigs(t)["basic"]
	all := mutations(root)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		var doc any = base
		var applied []string
		for range 2 + rng.IntN(4) {
			m := all[rng.IntN(len(all))]
			doc = m.apply(doc)
			applied = append(applied, m.String())
		}
		if generic, ok := doc.(map[string]any); ok {
			requireSameErrors(t, strings.Join(applied, "; "), kubeOpenAPIErrors(generic), schemaErrors(generic))
		}
	}
}

// TestSyntheticSchemasMatchKubeOpenAPI covers what our CRD does not use yet but the
// checker handles: additionalProperties false or at the root, integers without a
// format or int64, plain numbers, untyped nodes, an invalid pattern.
func TestSyntheticSchemasMatchKubeOpenAPI(t *testing.T) {
	schemas := []string{
		`{"type": "object", "additionalProperties": false, "required": ["a"], "properties": {
			"a": {"type": "integer"},
			"b": {"type": "integer", "format": "int64", "minimum": -5, "maximum": 5},
			"c": {"type": "number", "minimum": 0.5, "maximum": 2.5},
			"d": {"type": "object", "additionalProperties": false, "properties": {"x": {"type": "string"}}},
			"e": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "object", "required": ["k"],
				"properties": {"k": {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"}}}},
			"f": {"enum": ["x", 1, true, null]},
			"g": {"format": "int32"},
			"h": {"type": "string", "format": "int64"},
			"i": {"type": "string", "pattern": "("},
			"j.k": {"type": "boolean"},
			"l[1]": {"type": "string", "enum": ["on"]},
			"n": {"type": "object", "minProperties": 1, "maxProperties": 2, "additionalProperties": {"type": "string", "maxLength": 1}}
		}}`,
		`{"type": "object", "minProperties": 2, "maxProperties": 3, "properties": {"a": {"type": "integer"}}}`,
		`{"type": "object", "additionalProperties": {"type": "integer", "format": "int32", "maximum": 10}}`,
		`{"type": "object", "properties": {"m": {"type": "object",
			"properties": {"n": {"type": "string"}}, "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}`,
	}
	for i, text := range schemas {
		s, err := parseSchema([]byte(text))
		if err != nil {
			t.Fatalf("schema %d: %v", i, err)
		}
		reference, err := kubeOpenAPIValidator([]byte(text))
		if err != nil {
			t.Fatalf("schema %d: %v", i, err)
		}
		for _, base := range []map[string]any{{}, {"a": 1.0, "m": map[string]any{"n": "v", "o": []any{"p"}}}} {
			for _, m := range mutations(s) {
				doc := m.apply(deepCopy(base))
				requireSameErrors(t, fmt.Sprintf("schema %d: %s", i, m), kubeOpenAPIFieldErrors(reference, doc), s.Validate(doc))
			}
		}
	}
}

// ignoredKeywords are the keywords the checker skips because kube-openapi's validator
// skipped them too: the API server, not the validator, enforces list types.
var ignoredKeywords = map[string]bool{
	"description":                true,
	"x-kubernetes-list-type":     true,
	"x-kubernetes-list-map-keys": true,
	// Pruning only, and the checker never prunes: the values under it (podTemplate,
	// networkPolicy.extraIngress/extraEgress) are decoded strictly into their Kubernetes
	// types by Validate, which reports unknown fields with their paths.
	"x-kubernetes-preserve-unknown-fields": true,
	// Without anyOf (the Schemaless int-or-string budgets of podDisruptionBudget) it lets
	// any value through kube-openapi's validator too; Validate reads the value and names
	// what is wrong with it at its path.
	"x-kubernetes-int-or-string": true,
}

// TestSchemaKeywordsAreKnown fails when the CRD uses a keyword, type or format the
// checker does not implement, so a new kubebuilder marker cannot be silently ignored.
func TestSchemaKeywordsAreKnown(t *testing.T) {
	if _, err := crdSchema(); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	st := reflect.TypeFor[schema]()
	for i := range st.NumField() {
		if tag, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ","); tag != "" {
			known[tag] = true
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(crd.AggregatedAPISchema, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(node any, at string)
	walk = func(node any, at string) {
		m, ok := node.(map[string]any)
		if !ok {
			t.Errorf("%s: a schema that is not an object: %#v", at, node)
			return
		}
		for k := range m {
			if !known[k] && !ignoredKeywords[k] {
				t.Errorf("%s: keyword %q is not checked by internal/schemacheck", at, k)
			}
		}
		switch typ := m["type"]; typ {
		case "object", "array", "string", "integer", "number", "boolean":
		case nil:
			// An untyped node (checked like kube-openapi, TestSyntheticSchemasMatchKubeOpenAPI)
			// only for an int-or-string, which Validate reads.
			if m["x-kubernetes-int-or-string"] != true {
				t.Errorf("%s: no type", at)
			}
		default:
			t.Errorf("%s: type %#v is not one the checker knows", at, typ)
		}
		if f, ok := m["format"]; ok {
			if m["type"] != "integer" || (f != "int32" && f != "int64") {
				t.Errorf("%s: format %#v on type %v: the checker knows int32 and int64 integers only", at, f, m["type"])
			}
			if name, _ := f.(string); strfmt.Default.ContainsName(name) {
				t.Errorf("%s: format %q has a validator in strfmt.Default the checker lacks", at, name)
			}
		}
		if p, ok := m["pattern"].(string); ok {
			if _, err := regexp.Compile(p); err != nil {
				t.Errorf("%s: pattern: %v", at, err)
			}
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for name, p := range props {
				walk(p, at+"."+name)
			}
		}
		if items, ok := m["items"]; ok {
			walk(items, at+"[]")
		}
		switch extra := m["additionalProperties"].(type) {
		case map[string]any:
			walk(extra, at+"{}")
		case bool, nil:
		default:
			t.Errorf("%s: additionalProperties %#v", at, extra)
		}
	}
	walk(doc, "<root>")
}

// testdataConfigs are the configs of ../../testdata that decode to a JSON object.
func testdataConfigs(t testing.TB) map[string]map[string]any {
	paths, err := filepath.Glob("../../testdata/*/config.yaml")
	if err != nil || len(paths) < 100 {
		t.Fatalf("testdata configs: %d, %v", len(paths), err)
	}
	out := map[string]map[string]any{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sigsyaml.YAMLToJSON(b)
		if err != nil {
			continue
		}
		var doc map[string]any
		if json.Unmarshal(raw, &doc) == nil && doc != nil {
			out[filepath.Base(filepath.Dir(p))] = doc
		}
	}
	return out
}

// TestKubeOpenAPIValidatorNotLinked: the package, outside its tests, does not import the
// kube-openapi validator, whose package init alone cost a third of a render.
func TestKubeOpenAPIValidatorNotLinked(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "k8s.io/kube-openapi/pkg/validation/") {
			t.Errorf("fn/config links %s", pkg)
		}
	}
}

// TestSchemaBoundsEveryListMapAndString: every list of the CRD has maxItems, every map
// maxProperties and every free string maxLength, so no field can carry unbounded work
// past the schema check: every input is bounded. Enums bound themselves; metadata is checked by
// Validate, apiVersion and kind by checkTypeMeta.
func TestSchemaBoundsEveryListMapAndString(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(crd.AggregatedAPISchema, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(node map[string]any, at string)
	walk = func(node map[string]any, at string) {
		if node["x-kubernetes-preserve-unknown-fields"] == true || at == "<root>.metadata" || at == "<root>.apiVersion" || at == "<root>.kind" {
			return
		}
		_, hasEnum := node["enum"]
		switch node["type"] {
		case "array":
			if _, ok := node["maxItems"]; !ok {
				t.Errorf("%s: a list without maxItems", at)
			}
		case "string":
			if _, ok := node["maxLength"]; !ok && !hasEnum {
				t.Errorf("%s: a string without maxLength", at)
			}
		case "object":
			if _, isMap := node["additionalProperties"].(map[string]any); isMap {
				if _, ok := node["maxProperties"]; !ok {
					t.Errorf("%s: a map without maxProperties", at)
				}
			}
		}
		if props, ok := node["properties"].(map[string]any); ok {
			for name, p := range props {
				walk(p.(map[string]any), at+"."+name)
			}
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(items, at+"[]")
		}
		if extra, ok := node["additionalProperties"].(map[string]any); ok {
			// Map values are checked by Validate where the schema cannot say more (quantities).
			if extra["type"] != "string" {
				walk(extra, at+"{}")
			}
		}
	}
	walk(doc, "<root>")
}
