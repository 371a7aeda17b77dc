package doctor

import (
	"context"
	"fmt"
	"strings"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// need is one permission a k8s.io/apiserver based server needs from the kube-apiserver.
type need struct {
	Verb, Group, Resource, Namespace, Name string
	// Delegation marks authentication and authorization delegation: without it no
	// request is served at all.
	Delegation bool
}

// serverNeeds is what a k8s.io/apiserver based server of the current minor asks the
// kube-apiserver for: delegated authentication (TokenReview) and authorization
// (SubjectAccessReview), the request-header CA, and the informers of its admission
// and flow control (list suffices to tell: the roles grant get, list and watch
// together). TestServerNeedsMatchRenderedRules ties it to what aggapi renders.
var serverNeeds = []need{
	{Verb: "create", Group: "authentication.k8s.io", Resource: "tokenreviews", Delegation: true},
	{Verb: "create", Group: "authorization.k8s.io", Resource: "subjectaccessreviews", Delegation: true},
	{Verb: "get", Resource: "configmaps", Namespace: authConfigMapNS, Name: authConfigMapName, Delegation: true},
	{Verb: "list", Resource: "namespaces"},
	{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
	{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"},
	{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies"},
	{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings"},
	{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicies"},
	{Verb: "list", Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicybindings"},
	{Verb: "list", Group: "flowcontrol.apiserver.k8s.io", Resource: "prioritylevelconfigurations"},
	{Verb: "list", Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas"},
}

func (n need) String() string {
	r := n.Resource
	if n.Group != "" {
		r += "." + n.Group
	}
	if n.Name != "" {
		r = fmt.Sprintf("%s %s/%s", r, n.Namespace, n.Name)
	}
	return n.Verb + " " + r
}

// checkServiceAccounts asks the kube-apiserver (SubjectAccessReview, as each server
// ServiceAccount) whether it may do what a k8s.io/apiserver server needs. It runs for
// APIServices that are not Available, where it names the cause; once per account.
func (d *Doctor) checkServiceAccounts(ctx context.Context, what string, srv *server) {
	seen := map[string]bool{}
	for _, dep := range srv.deps {
		sa := dep.Spec.Template.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		user := "system:serviceaccount:" + dep.Namespace + ":" + sa
		if seen[user] {
			continue
		}
		seen[user] = true
		missing, delegation, err := d.missingPermissions(ctx, dep.Namespace, user)
		if err != nil {
			d.note(what, "the permissions of ServiceAccount %s/%s are not checked: SubjectAccessReview: %v", dep.Namespace, sa, err)
			continue
		}
		if len(missing) == 0 {
			continue
		}
		fix := fmt.Sprintf("bind ServiceAccount %s/%s to ClusterRole system:auth-delegator (TokenReview, SubjectAccessReview) and to Role extension-apiserver-authentication-reader in kube-system, and give it get, list and watch on namespaces, the admission webhook configurations and policies (and bindings) and flow control (aggapi renders all of these)", dep.Namespace, sa)
		report := d.warn
		if delegation {
			report = d.fail
		}
		report(CauseServiceAccountRBAC, what, fix, "ServiceAccount %s/%s of Deployment %s/%s may not: %s", dep.Namespace, sa, dep.Namespace, dep.Name, strings.Join(missing, ", "))
	}
}

// missingPermissions returns what user may not do of serverNeeds (memoised per user),
// and whether any of it is delegation.
func (d *Doctor) missingPermissions(ctx context.Context, ns, user string) ([]string, bool, error) {
	if d.permissions == nil {
		d.permissions = map[string]permissionResult{}
	}
	if r, ok := d.permissions[user]; ok {
		return r.missing, r.delegation, r.err
	}
	var r permissionResult
	for _, n := range serverNeeds {
		review, err := d.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
			Spec: authzv1.SubjectAccessReviewSpec{
				User:   user,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
				ResourceAttributes: &authzv1.ResourceAttributes{
					Verb: n.Verb, Group: n.Group, Resource: n.Resource, Namespace: n.Namespace, Name: n.Name,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			r = permissionResult{err: err}
			break
		}
		if !review.Status.Allowed {
			r.missing = append(r.missing, n.String())
			r.delegation = r.delegation || n.Delegation
		}
	}
	d.permissions[user] = r
	return r.missing, r.delegation, r.err
}

type permissionResult struct {
	missing    []string
	delegation bool
	err        error
}
