package render

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestResultsNodeMatchesFramework: our results serialise to the same bytes as kyaml's
// fn/framework.Results, the reference spelling of the KRM functions specification.
func TestResultsNodeMatchesFramework(t *testing.T) {
	ref := &yaml.ResourceIdentifier{TypeMeta: yaml.TypeMeta{APIVersion: "aggapi.dev/v1alpha1", Kind: "AggregatedAPI"}, NameMeta: yaml.NameMeta{Name: "wardle", Namespace: "ns"}}
	ours := []Result{
		{Severity: Error, Message: "`spec.group`: Required value", ResourceRef: ref, FieldPath: "spec.group"},
		{Severity: Error, Message: "in a file", ResourceRef: ref, FieldPath: "spec.group", File: &File{Path: "dir/aggapi.yaml", Index: 2}},
		{Severity: Warning, Message: "first in its file", File: &File{Path: "aggapi.yaml"}},
		{Severity: Warning, Message: "two\nlines: with a colon", ResourceRef: &yaml.ResourceIdentifier{NameMeta: yaml.NameMeta{Name: "x"}}},
		{Severity: Info, Message: "yes"},
		{Severity: Info, Message: "123"},
		{Severity: Error, Message: "- starts like a list item, ends with a space "},
		{Severity: Error, Message: "'quoted' \"both\" ways: #not a comment"},
	}
	var theirs framework.Results
	for _, r := range ours {
		fr := &framework.Result{Message: r.Message, Severity: framework.Severity(r.Severity), ResourceRef: r.ResourceRef}
		if r.FieldPath != "" {
			fr.Field = &framework.Field{Path: r.FieldPath}
		}
		if r.File != nil {
			fr.File = &framework.File{Path: r.File.Path, Index: r.File.Index}
		}
		theirs = append(theirs, fr)
	}
	want, err := yaml.Marshal(theirs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResultsNode(ours).String()
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("results differ from kyaml's fn/framework:\n got:\n%s\nwant:\n%s", got, want)
	}
}
