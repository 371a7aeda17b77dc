package importer

import (
	"encoding/json"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// TestAdditionsKeepsOnlyWhatTheInstallationSets: a two-way strategic-merge patch
// without its removals keeps set values and empty objects (emptyDir: {}), and drops
// nulls, $patch: delete items, directives and items left with their merge key alone.
func TestAdditionsKeepsOnlyWhatTheInstallationSets(t *testing.T) {
	var patch map[string]any
	if err := json.Unmarshal([]byte(`{
		"metadata": {"labels": {"gone": null, "kept": "v"}},
		"spec": {
			"$setElementOrder/containers": [{"name": "a"}],
			"securityContext": null,
			"containers": [
				{"name": "a", "image": null},
				{"name": "b", "$patch": "delete"},
				{"name": "c", "livenessProbe": {"failureThreshold": 3, "timeoutSeconds": null}}
			],
			"volumes": [{"name": "v", "emptyDir": {}, "$retainKeys": ["emptyDir", "name"]}]
		}
	}`), &patch); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(additions(patch))
	want := `{"metadata":{"labels":{"kept":"v"}},"spec":{"containers":[{"livenessProbe":{"failureThreshold":3},"name":"c"}],"volumes":[{"emptyDir":{},"name":"v"}]}}`
	if string(got) != want {
		t.Errorf("additions:\n got %s\nwant %s", got, want)
	}
}

// TestCovers decides baseRules: a role covers the base rules only when it grants every
// verb on every resource they grant, wildcards included.
func TestCovers(t *testing.T) {
	base := baseRules()
	all := []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	metricsServer := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"nodes/metrics"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list", "watch"}},
	}
	readOnlyBase := append([]rbacv1.PolicyRule{}, base...)
	readOnlyBase[0].Verbs = []string{"get", "list"} // no watch on namespaces
	for _, c := range []struct {
		name  string
		rules []rbacv1.PolicyRule
		want  bool
	}{
		{"everything", all, true},
		{"the base rules themselves", base, true},
		{"metrics-server's two rules", metricsServer, false},
		{"the base rules less one verb", readOnlyBase, false},
		{"nothing", nil, false},
	} {
		if got := covers(c.rules, base); got != c.want {
			t.Errorf("%s: covers %v, want %v", c.name, got, c.want)
		}
	}
}
