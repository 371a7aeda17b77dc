package verify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	sigsyaml "sigs.k8s.io/yaml"
)

// TestInsecureSkipTLSVerifyAsKubectlReadsIt: kubectl reads manifests as YAML 1.1
// (sigs.k8s.io/yaml), where a plain yes, on or y is true; each spelling it reads as
// true is flagged, and a value it reads as no boolean (a quoted "true", 1) is an error
// too, as the API server refuses it. The expected reading of each plain spelling is
// checked against sigs.k8s.io/yaml itself.
func TestInsecureSkipTLSVerifyAsKubectlReadsIt(t *testing.T) {
	const set, notBool = "insecureSkipTLSVerify is set", "not a boolean"
	cases := map[string]string{
		"true": set, "True": set, "TRUE": set, "yes": set, "Yes": set, "YES": set,
		"on": set, "On": set, "ON": set, "y": set, "Y": set, "!!bool yes": set, "!!bool On": set,
		"false": "", "False": "", "FALSE": "", "no": "", "NO": "", "off": "", "Off": "", "n": "", "N": "",
		"~": "", "null": "", "": "",
		`"true"`: `the string "true", ` + notBool, "'yes'": `the string "yes", ` + notBool,
		"!!str true": `the string "true", ` + notBool, "tRUE": `the string "tRUE", ` + notBool,
		"|\n      true": `the string "true\n", ` + notBool, "1": "is 1, " + notBool, "[true]": "a list, " + notBool,
	}
	for spelling, want := range cases {
		t.Run(spelling, func(t *testing.T) {
			src := "spec:\n  insecureSkipTLSVerify: " + spelling + "\n"
			if j, err := sigsyaml.YAMLToJSON([]byte(src)); err == nil {
				var v struct{ Spec map[string]any }
				if err := json.Unmarshal(j, &v); err != nil {
					t.Fatal(err)
				}
				if got := v.Spec["insecureSkipTLSVerify"]; (got == true) != (want == set) {
					t.Fatalf("kubectl reads %q as %#v, the case expects %q", spelling, got, want)
				}
			}
			// As text, read as verify reads files: kyaml's field setter would quote a
			// plain yes to keep it a string.
			var docs []string
			for _, it := range rendered(t) {
				doc := it.MustString()
				if it.GetKind() == "APIService" {
					doc = strings.Replace(doc, "\nspec:\n", "\nspec:\n  insecureSkipTLSVerify: "+spelling+"\n", 1)
				}
				docs = append(docs, doc)
			}
			s := NewSet()
			if _, err := (&Reader{Keep: s.Add}).Read("-", strings.NewReader(strings.Join(docs, "---\n"))); err != nil {
				t.Fatal(err)
			}
			r := s.Check(Options{Now: t0, WarnWithin: 720 * time.Hour})
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.String())
			}
			text := strings.Join(got, "\n")
			if want == "" {
				if len(got) > 0 {
					t.Fatalf("findings for %q:\n%s", spelling, text)
				}
				return
			}
			if r.Errors() != 2 || !strings.Contains(text, want) {
				t.Fatalf("want an error with %q on both APIServices, got:\n%s", want, text)
			}
		})
	}
}
