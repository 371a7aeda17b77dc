package provenance

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: wardle-apiserver
  namespace: wardle
  labels: {aggapi.dev/owner: wardle}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: apiserver
        image: sample-apiserver:1.29.2
        args: [--secure-port=8443]
      - name: sidecar
        image: busybox
`

func TestDigestIgnoresFormattingAndBookkeeping(t *testing.T) {
	base := yaml.MustParse(deployment)
	if err := SetRenderedDigest(base); err != nil {
		t.Fatal(err)
	}
	want := base.GetAnnotations()[keys.RenderedDigestAnnotation]
	// The same object as kustomize or kpt hand it back: other key order, flow style,
	// quotes, comments, an empty field, and their bookkeeping annotations.
	same := yaml.MustParse(`kind: Deployment # comment
apiVersion: "apps/v1"
metadata:
  annotations:
    ` + keys.RenderedDigestAnnotation + `: ` + want + `
    config.kubernetes.io/path: wardle/deployment.yaml
    internal.config.kubernetes.io/index: '3'
    config.k8s.io/id: '1'
  labels:
    aggapi.dev/owner: "wardle"
  namespace: wardle
  name: wardle-apiserver
spec:
  strategy: {}
  replicas: 0x1
  template: {spec: {containers: [{image: "sample-apiserver:1.29.2", name: apiserver, args: ["--secure-port=8443"]}, {name: sidecar, image: busybox}]}}
`)
	if Edited(same) {
		t.Errorf("a reformatted object counts as edited: %v", Changes(base, same))
	}
	for name, edit := range map[string]string{
		"value":           "spec.replicas=2",
		"type":            "string replicas",
		"new label":       "label",
		"list order":      "swap containers",
		"user annotation": "annotation",
	} {
		t.Run(name, func(t *testing.T) {
			obj := same.Copy()
			var err error
			switch edit {
			case "spec.replicas=2":
				err = obj.PipeE(yaml.Lookup("spec"), yaml.SetField("replicas", yaml.NewScalarRNode("2")))
			case "string replicas":
				err = obj.PipeE(yaml.Lookup("spec"), yaml.SetField("replicas", yaml.NewStringRNode("1")))
			case "label":
				err = obj.PipeE(yaml.SetLabel("team", "platform"))
			case "swap containers":
				c, _ := obj.Pipe(yaml.Lookup("spec", "template", "spec", "containers"))
				c.YNode().Content[0], c.YNode().Content[1] = c.YNode().Content[1], c.YNode().Content[0]
			case "annotation":
				err = obj.PipeE(yaml.SetAnnotation("example.com/owner-team", "x"))
			}
			if err != nil {
				t.Fatal(err)
			}
			if !Edited(obj) {
				t.Errorf("not seen as an edit")
			}
		})
	}
}

func TestChangesNamePaths(t *testing.T) {
	want := yaml.MustParse(deployment)
	got := want.Copy()
	if err := got.PipeE(yaml.Lookup("spec", "template", "spec", "containers", "[name=apiserver]"), yaml.SetField("image", yaml.NewStringRNode("mirror/sample-apiserver:1.29.2"))); err != nil {
		t.Fatal(err)
	}
	if err := got.PipeE(yaml.SetLabel("example.com/team", "platform")); err != nil {
		t.Fatal(err)
	}
	if err := got.PipeE(yaml.LookupCreate(yaml.MappingNode, "spec", "template", "spec"), yaml.SetField("tolerations", yaml.MustParse("- {key: dedicated, operator: Exists}"))); err != nil {
		t.Fatal(err)
	}
	if err := got.PipeE(yaml.SetAnnotation(keys.VersionAnnotation, "v9")); err != nil { // stamps are not changes
		t.Fatal(err)
	}
	paths := Changes(want, got)
	wantPaths := []string{
		"metadata.labels[example.com/team]",
		"spec.template.spec.containers[name=apiserver].image",
		"spec.template.spec.tolerations",
	}
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("Changes = %q, want %q", paths, wantPaths)
	}
}

// TestAliasesAreNotExpanded: a billion-laughs object costs no more than its text.
func TestAliasesAreNotExpanded(t *testing.T) {
	doc := "kind: ConfigMap\nmetadata: {name: laughs}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, l := range "bcdefghijklmnop" {
		name := string(l)
		doc += "  " + name + ": &" + name + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = name
	}
	obj := yaml.MustParse(doc)
	if err := SetRenderedDigest(obj); err != nil {
		t.Fatal(err)
	}
	if Edited(obj) {
		t.Errorf("unchanged object counts as edited")
	}
}
