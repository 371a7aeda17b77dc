package doctor

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

type jsonSchema struct {
	Required   []string               `json:"required"`
	Properties map[string]*jsonSchema `json:"properties"`
	Items      *jsonSchema            `json:"items"`
	Enum       []any                  `json:"enum"`
	Pattern    string                 `json:"pattern"`
}

// TestReportSchema holds `-o json` to report.schema.json: a report of a broken
// cluster, decoded without the Go type, has exactly the schema's fields at every
// level, every one required, and its values within the schema's enums and patterns.
// A field removed from (or added to) the type without the schema fails here.
func TestReportSchema(t *testing.T) {
	raw, err := os.ReadFile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema jsonSchema
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}

	c := newCluster(t, "", nil)
	c.setCondition(t, v1alpha1, "False", "FailedDiscoveryCheck", `dial tcp 10.0.0.5:8443: i/o timeout`)
	_, results := c.run(t, testNow)
	var buf bytes.Buffer
	if err := NewReport("https://127.0.0.1:6443", testNow, results).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	checkObject(t, "report", doc, &schema)
	findings := doc["findings"].([]any)
	passed := doc["passed"].([]any)
	if len(findings) == 0 || len(passed) == 0 {
		t.Fatalf("the sample report must have findings and passed checks:\n%s", &buf)
	}
	for _, f := range findings {
		checkObject(t, "finding", f.(map[string]any), schema.Properties["findings"].Items)
		if cause := f.(map[string]any)["cause"].(string); !slices.Contains(Causes, cause) {
			t.Errorf("cause %q is not in Causes", cause)
		}
	}
	for _, p := range passed {
		checkObject(t, "passed", p.(map[string]any), schema.Properties["passed"].Items)
	}
	if doc["exitCode"] != float64(ExitFindings) {
		t.Errorf("exitCode %v with an error finding", doc["exitCode"])
	}

	// An empty report still has every list.
	buf.Reset()
	if err := NewReport("x", testNow, nil).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"findings": []`) || !strings.Contains(buf.String(), `"passed": []`) {
		t.Errorf("empty lists must be [], not null:\n%s", &buf)
	}
}

func checkObject(t *testing.T, what string, obj map[string]any, s *jsonSchema) {
	t.Helper()
	got := slices.Sorted(maps.Keys(obj))
	want := slices.Sorted(maps.Keys(s.Properties))
	if !slices.Equal(got, want) {
		t.Errorf("%s has fields %v, the schema %v", what, got, want)
	}
	if req := slices.Sorted(slices.Values(s.Required)); !slices.Equal(req, want) {
		t.Errorf("%s: the schema requires %v of %v: every field is always present", what, req, want)
	}
	for k, v := range obj {
		p := s.Properties[k]
		if p == nil {
			continue
		}
		if len(p.Enum) > 0 && !slices.Contains(p.Enum, v) {
			t.Errorf("%s.%s = %v, not in %v", what, k, v, p.Enum)
		}
		if p.Pattern != "" {
			if str, _ := v.(string); !regexp.MustCompile(p.Pattern).MatchString(str) {
				t.Errorf("%s.%s = %q does not match %s", what, k, str, p.Pattern)
			}
		}
	}
}

// TestCauseIDs: every id is kebab-case, and Causes lists every Cause constant of
// causes.go once.
func TestCauseIDs(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, c := range Causes {
		if !re.MatchString(c) || seen[c] {
			t.Errorf("cause %q: not kebab-case, or listed twice", c)
		}
		seen[c] = true
	}
	f, err := parser.ParseFile(token.NewFileSet(), "causes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := 0
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					continue
				}
				consts++
				if id, _ := strconv.Unquote(lit.Value); !seen[id] {
					t.Errorf("cause %s is not in Causes", lit.Value)
				}
			}
		}
	}
	if consts != len(Causes) {
		t.Errorf("%d cause constants, %d in Causes", consts, len(Causes))
	}
}
