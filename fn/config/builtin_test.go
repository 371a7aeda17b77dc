package config

import (
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/kubernetes/scheme"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// TestBuiltinGroupsAreTheRegisteredOnes: BuiltinGroups is exactly the set of groups the
// Kubernetes modules of go.mod register: client-go's scheme (every group of k8s.io/api),
// apiregistration and apiextensions. A Kubernetes bump that adds a group fails here
// until the list has it.
func TestBuiltinGroupsAreTheRegisteredOnes(t *testing.T) {
	registered := map[string]bool{
		apiregv1.SchemeGroupVersion.Group:        true,
		apiextensionsv1.SchemeGroupVersion.Group: true,
	}
	for gvk := range scheme.Scheme.AllKnownTypes() {
		registered[gvk.Group] = true
	}
	for g := range registered {
		if !IsBuiltinGroup(g) {
			t.Errorf("group %q is registered by the Kubernetes modules but not in BuiltinGroups", g)
		}
	}
	for _, g := range BuiltinGroups {
		if !registered[g] {
			t.Errorf("BuiltinGroups has %q, which no linked Kubernetes module registers", g)
		}
	}
	if !slices.IsSorted(BuiltinGroups) {
		t.Errorf("BuiltinGroups is not sorted: IsBuiltinGroup searches it")
	}
	for _, g := range []string{"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"} {
		if IsBuiltinGroup(g) {
			t.Errorf("%s is for extension servers, yet in BuiltinGroups", g)
		}
	}
}

func TestBuiltinRBACNames(t *testing.T) {
	if !slices.IsSorted(BuiltinRBACNames) {
		t.Errorf("BuiltinRBACNames is not sorted: IsBuiltinRBACName searches it")
	}
	for name, want := range map[string]bool{
		"system:node": true, "system:basic-user": true, "admin": true, "edit": true, "view": true,
		"cluster-admin": true, "system:controller:namespace-controller": true,
		"system::extension-apiserver-authentication-reader":   true,
		"system:certificates.k8s.io:kubelet-serving-approver": true,
		// metrics-server's own, which a config adopting it names
		"system:metrics-server": false, "system:aggregated-metrics-reader": false,
		"metrics-server:system:auth-delegator": false,
		"wardle-view":                          false, "Admin": false, "my-admin": false, "system:nodes": false,
	} {
		if got := IsBuiltinRBACName(name); got != want {
			t.Errorf("IsBuiltinRBACName(%q) = %v, want %v", name, got, want)
		}
	}
}
