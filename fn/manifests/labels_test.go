package manifests

import (
	"maps"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// TestReservedLabelsAreTheFunctionsOwn ties config.ReservedLabels, which spec.commonLabels
// and spec.service.labels may not set, to the labels the function puts on its objects
// and pods.
func TestReservedLabelsAreTheFunctionsOwn(t *testing.T) {
	api := &config.AggregatedAPI{}
	api.Name = "x"
	set := labels(api)
	maps.Copy(set, selector(api))
	got := slices.Sorted(maps.Keys(set))
	want := slices.Sorted(slices.Values(config.ReservedLabels))
	if !slices.Equal(got, want) {
		t.Errorf("the function sets %v, config.ReservedLabels lists %v", got, want)
	}
}

// TestUserRolesFollowReadOnly: a read-only group has read verbs in the view role and no
// rule in the edit role; no edit role when nothing is writable.
func TestUserRolesFollowReadOnly(t *testing.T) {
	api := &config.AggregatedAPI{}
	api.Name = "x"
	api.Spec.Groups = []config.APIGroup{
		{Group: "ro.example.com", Resources: []string{"*"}, ReadOnly: true},
		{Group: "rw.example.com", Resources: []string{"things"}},
		{Group: "none.example.com"},
	}
	roles := UserRoles(api, api.ObjectNames())
	if len(roles) != 2 {
		t.Fatalf("%d roles, want view and edit", len(roles))
	}
	view, edit := ruleGroups(roles[0]), ruleGroups(roles[1])
	if !slices.Equal(view, []string{"ro.example.com", "rw.example.com"}) || !slices.Equal(edit, []string{"rw.example.com"}) {
		t.Errorf("view covers %v, edit %v", view, edit)
	}
	api.Spec.Groups[1].ReadOnly = true
	if roles := UserRoles(api, api.ObjectNames()); len(roles) != 1 || roles[0].GetName() != "x-view" {
		t.Errorf("all read-only: want only the view role, got %d roles", len(roles))
	}
}

func ruleGroups(o Object) []string {
	var groups []string
	for _, r := range o.(*rbacv1.ClusterRole).Rules {
		groups = append(groups, r.APIGroups...)
	}
	return groups
}
