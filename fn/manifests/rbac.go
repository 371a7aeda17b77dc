package manifests

import (
	"strconv"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
)

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}
)

// serverRules is what a k8s.io/apiserver based server of the current minor reads from
// the kube-apiserver: without any of them its informers are forbidden and it never
// becomes ready (a 1.37 server needs the mutating admission policies too).
var serverRules = []rbacv1.PolicyRule{
	{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: readVerbs},
	{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{
		"mutatingwebhookconfigurations", "validatingwebhookconfigurations",
		"validatingadmissionpolicies", "validatingadmissionpolicybindings",
		"mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
	}, Verbs: readVerbs},
	{APIGroups: []string{"flowcontrol.apiserver.k8s.io"}, Resources: []string{
		"prioritylevelconfigurations", "flowschemas",
	}, Verbs: readVerbs},
}

func serviceAccountSubject(api *config.AggregatedAPI, n Names) []rbacv1.Subject {
	return []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: n.ServiceAccount, Namespace: api.Spec.Namespace}}
}

func clusterRole(api *config.AggregatedAPI, name string, rules []rbacv1.PolicyRule, extraLabels map[string]string) *rbacv1.ClusterRole {
	m := meta(api, name, "")
	for k, v := range extraLabels {
		m.Labels[k] = v
	}
	return &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: m,
		Rules:      rules,
	}
}

func clusterRoleBinding(api *config.AggregatedAPI, n Names, name, role string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: meta(api, name, ""),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   serviceAccountSubject(api, n),
	}
}

// ServerClusterRole is what the server itself reads (unless spec.server.baseRules is
// None), plus spec.server.extraRules.
func ServerClusterRole(api *config.AggregatedAPI, n Names) *rbacv1.ClusterRole {
	rules := []rbacv1.PolicyRule{}
	if api.Spec.Server.BaseRules != config.BaseRulesNone {
		rules = append(rules, serverRules...)
	}
	for _, r := range api.Spec.Server.ExtraRules {
		rules = append(rules, rbacv1.PolicyRule{
			Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources,
			ResourceNames: r.ResourceNames, NonResourceURLs: r.NonResourceURLs,
		})
	}
	return clusterRole(api, n.ServerRole, rules, nil)
}

// ServerClusterRoleBinding grants ServerClusterRole to the server's ServiceAccount.
func ServerClusterRoleBinding(api *config.AggregatedAPI, n Names) *rbacv1.ClusterRoleBinding {
	return clusterRoleBinding(api, n, n.ServerRoleBinding, n.ServerRole)
}

// AuthDelegatorBinding lets the server delegate authentication and authorization
// (TokenReview, SubjectAccessReview) to the kube-apiserver.
func AuthDelegatorBinding(api *config.AggregatedAPI, n Names) *rbacv1.ClusterRoleBinding {
	return clusterRoleBinding(api, n, n.AuthDelegator, authDelegator)
}

// AuthReaderBinding lets the server read the extension-apiserver-authentication
// ConfigMap, where the kube-apiserver publishes its client and request-header CAs.
func AuthReaderBinding(api *config.AggregatedAPI, n Names) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
		ObjectMeta: meta(api, n.AuthReader, kubeSystem),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: authReaderRole},
		Subjects:   serviceAccountSubject(api, n),
	}
}

// UserRoles give the API's users access to the groups' resources through the built-in
// roles: the view role (read verbs) aggregates into view, edit and admin; the edit role
// (write verbs) into edit and admin. Read-only groups have no rule in the edit role, and
// there is no edit role when nothing is writable; no resources, no roles.
func UserRoles(api *config.AggregatedAPI, n Names) []Object {
	var view, edit []rbacv1.PolicyRule
	for _, g := range api.APIGroups() {
		if len(g.Resources) == 0 {
			continue
		}
		view = append(view, rbacv1.PolicyRule{APIGroups: []string{g.Group}, Resources: g.Resources, Verbs: readVerbs})
		if !g.ReadOnly {
			edit = append(edit, rbacv1.PolicyRule{APIGroups: []string{g.Group}, Resources: g.Resources, Verbs: writeVerbs})
		}
	}
	aggregate := func(roles ...string) map[string]string {
		l := map[string]string{}
		for _, r := range roles {
			l["rbac.authorization.k8s.io/aggregate-to-"+r] = strconv.FormatBool(true)
		}
		return l
	}
	var objs []Object
	if len(view) > 0 {
		objs = append(objs, clusterRole(api, n.ViewRole, view, aggregate("view", "edit", "admin")))
	}
	if len(edit) > 0 {
		objs = append(objs, clusterRole(api, n.EditRole, edit, aggregate("edit", "admin")))
	}
	return objs
}
