package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
)

// TestGeneratedKinds ties generatedKinds and clusterScopedKinds to what the render
// emits over every golden config that renders: each kind it emits is listed, each
// listed kind is emitted by some config, and a kind has no namespace exactly when it is
// listed as cluster-scoped.
func TestGeneratedKinds(t *testing.T) {
	configs, err := filepath.Glob("../../testdata/*/config.yaml")
	if err != nil || len(configs) == 0 {
		t.Fatalf("no golden configs: %v", err)
	}
	seen := map[string]bool{}
	for _, path := range configs {
		if _, err := os.Stat(filepath.Join(filepath.Dir(path), "errors.txt")); err == nil {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "RSA-3072") || strings.Contains(string(b), "RSA-4096") || strings.Contains(string(b), "caFile") {
			continue // slow keys, or a file relative to the case: nothing new to see
		}
		out := Process(nil, yaml.MustParse(string(b)), t0)
		if out.Failed {
			continue
		}
		for _, it := range out.Items {
			if it.GetLabels()[keys.OwnerLabel] == "" {
				continue
			}
			gk := groupKind(it.GetApiVersion(), it.GetKind())
			seen[gk] = true
			if !generatedKinds[gk] {
				t.Errorf("%s: the render emits %s, not in generatedKinds", path, gk)
			}
			if clusterScoped := it.GetNamespace() == ""; clusterScoped != clusterScopedKinds[gk] {
				t.Errorf("%s: %s %s has namespace %q, clusterScopedKinds says %v", path, gk, it.GetName(), it.GetNamespace(), clusterScopedKinds[gk])
			}
		}
	}
	for gk := range generatedKinds {
		if !seen[gk] {
			t.Errorf("generatedKinds lists %s, which no golden config renders", gk)
		}
	}
	for gk := range clusterScopedKinds {
		if !generatedKinds[gk] {
			t.Errorf("clusterScopedKinds lists %s, not in generatedKinds", gk)
		}
	}
}

// TestStrayNamespaceStillCollides: a foreign object with the kind and name of a
// generated cluster-scoped object collides whatever metadata.namespace it carries.
func TestStrayNamespaceStillCollides(t *testing.T) {
	cfg := loadConfig(t)
	for _, c := range []struct{ apiVersion, kind, name string }{
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "wardle-apiserver"},
		{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "wardle-auth-delegator"},
		{"apiregistration.k8s.io/v1", "APIService", "v1alpha1.wardle.example.com"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			item := yaml.MustParse("apiVersion: " + c.apiVersion + "\nkind: " + c.kind + "\nmetadata:\n  name: " + c.name + "\n  namespace: wardle\n")
			out := Process([]*yaml.RNode{item}, cfg, t0)
			if !out.Failed || !strings.Contains(messages(out), c.kind+` "`+c.name+`" is already in the input`) {
				t.Fatalf("no collision reported:\n%s", messages(out))
			}
		})
	}
	// A Namespace the user manages already (stray namespace or not) is theirs: kept,
	// and not generated a second time.
	ns := yaml.MustParse("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: wardle\n  namespace: default\n")
	out := render(t, []*yaml.RNode{ns}, cfg, t0)
	count := 0
	for _, it := range out.Items {
		if it.GetKind() == "Namespace" && it.GetName() == "wardle" {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d Namespaces wardle in the output, want the user's one", count)
	}
}
