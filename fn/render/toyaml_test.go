package render

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestYAML11ReadersGetStrings: a string that a YAML 1.1 parser would read as a boolean or
// a number (kubectl and sigs.k8s.io/yaml use one) comes back from the rendered output
// as the same string.
func TestYAML11ReadersGetStrings(t *testing.T) {
	cfg := yaml.MustParse(testutil.MinimalConfig("wardle") + `    args: ["--etcd-servers=http://localhost:2379", "on", "yes", "1:20", "NO"]
`)
	out := render(t, nil, cfg, t0)
	dep := find(out.Items, "Deployment", "wardle-apiserver")
	if dep == nil {
		t.Fatal("no Deployment rendered")
	}
	var d appsv1.Deployment
	if err := sigsyaml.Unmarshal([]byte(serialize(t, []*yaml.RNode{dep})), &d); err != nil {
		t.Fatalf("a YAML 1.1 reader cannot read the Deployment: %v", err)
	}
	args := strings.Join(d.Spec.Template.Spec.Containers[0].Args, " ")
	for _, want := range []string{" on ", " yes ", " 1:20 ", " NO"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lost %q", args, strings.TrimSpace(want))
		}
	}
}
