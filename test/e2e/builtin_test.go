//go:build e2e

package e2e

import (
	"net/url"
	"testing"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/test/e2e/controlplane"
)

// TestBuiltinNamesAreTheServersOwn holds fn/config's lists to a real kube-apiserver:
// every group it serves itself (a local APIService, one without a service) is refused
// as spec.group, and every ClusterRole and ClusterRoleBinding it bootstraps is refused
// in spec.names.
func TestBuiltinNamesAreTheServersOwn(t *testing.T) {
	cp := controlplane.StartForTest(t, controlplane.Options{})
	ctx := t.Context()
	admin, err := cp.AdminClient()
	if err != nil {
		t.Fatal(err)
	}

	var services struct {
		Items []struct {
			Metadata struct{ Name string } `json:"metadata"`
			Spec     struct {
				Group   string `json:"group"`
				Service *struct {
					Name string `json:"name"`
				} `json:"service"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := admin.Get(ctx, "/apis/apiregistration.k8s.io/v1/apiservices", &services); err != nil {
		t.Fatal(err)
	}
	local := 0
	for _, s := range services.Items {
		if s.Spec.Service != nil {
			continue
		}
		local++
		if !config.IsBuiltinGroup(s.Spec.Group) {
			t.Errorf("kube-apiserver serves group %q itself (APIService %s), and config.BuiltinGroups does not have it", s.Spec.Group, s.Metadata.Name)
		}
	}
	if local == 0 {
		t.Fatal("no local APIService listed: the check compared nothing")
	}

	selector := "?labelSelector=" + url.QueryEscape("kubernetes.io/bootstrapping=rbac-defaults")
	for _, kind := range []string{"clusterroles", "clusterrolebindings"} {
		var list struct {
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
			} `json:"items"`
		}
		if err := admin.Get(ctx, "/apis/rbac.authorization.k8s.io/v1/"+kind+selector, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 0 {
			t.Fatalf("no bootstrapped %s listed: the check compared nothing", kind)
		}
		for _, it := range list.Items {
			if !config.IsBuiltinRBACName(it.Metadata.Name) {
				t.Errorf("kube-apiserver bootstraps %s %q, and config.IsBuiltinRBACName does not refuse it", kind, it.Metadata.Name)
			}
		}
	}
}
