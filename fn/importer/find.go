package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// found is an object of the input decoded into its type.
type found[T any] struct {
	*Object
	v T
}

// installation is what the importer found of one extension API server: the chain from
// its APIServices to its RBAC, and every other object of the input.
type installation struct {
	apiServices    []found[*apiregv1.APIService]
	service        found[*corev1.Service]
	servicePort    corev1.ServicePort // the port the APIServices dial
	deployment     found[*appsv1.Deployment]
	container      int // index of the server container in the pod spec
	containerPort  corev1.ContainerPort
	serviceAccount *found[*corev1.ServiceAccount] // nil when the input has none
	namespace      *found[*corev1.Namespace]      // nil when the input has none
	serverRoles    []roleGrant                    // ClusterRoles bound to the ServiceAccount (not auth-delegator)
	authDelegator  *found[*rbacv1.ClusterRoleBinding]
	authReader     *found[*rbacv1.RoleBinding]
	viewRole       *found[*rbacv1.ClusterRole]
	editRole       *found[*rbacv1.ClusterRole]
	pdb            *found[*policyv1.PodDisruptionBudget]
	networkPolicy  *found[*networkingv1.NetworkPolicy]
	others         []*Object // the input's objects that are not part of the chain
	all            []*Object
	droppedVolumes map[string]bool // pod volumes that held the serving certificate
}

// roleGrant is a ClusterRoleBinding to the ServiceAccount and the ClusterRole it grants.
type roleGrant struct {
	binding found[*rbacv1.ClusterRoleBinding]
	role    *found[*rbacv1.ClusterRole]
}

const (
	authDelegatorRole = "system:auth-delegator"
	authReaderRole    = "extension-apiserver-authentication-reader"
	kubeSystem        = "kube-system"
	aggregateLabel    = "rbac.authorization.k8s.io/aggregate-to-"
)

func decodeAs[T any](o *Object) (found[*T], error) {
	v := new(T)
	err := o.decode(v)
	return found[*T]{o, v}, err
}

// find follows the chain from the input's APIServices. Errors name the file, the
// object and the field that breaks it.
func find(objs []*Object) (*installation, error) {
	in := &installation{all: objs}
	used := map[*Object]bool{}
	var svcRef *apiregv1.ServiceReference
	var first found[*apiregv1.APIService]
	for _, o := range objs {
		if o.kind != "APIService" || o.group != "apiregistration.k8s.io" {
			continue
		}
		a, err := decodeAs[apiregv1.APIService](o)
		if err != nil {
			return nil, err
		}
		ref := a.v.Spec.Service
		if ref == nil {
			return nil, fmt.Errorf("%s: spec.service is not set: the API is served by the kube-apiserver itself, not an extension server to import", o.where())
		}
		if svcRef == nil {
			svcRef, first = ref, a
		} else if ref.Namespace != svcRef.Namespace || ref.Name != svcRef.Name {
			return nil, fmt.Errorf("%s: spec.service is %s/%s, but %s points at %s/%s: two servers; import one at a time (give the files of one installation)",
				o.where(), ref.Namespace, ref.Name, first.ref(), svcRef.Namespace, svcRef.Name)
		}
		in.apiServices = append(in.apiServices, a)
		used[o] = true
	}
	if len(in.apiServices) == 0 {
		return nil, fmt.Errorf("no APIService (apiregistration.k8s.io) in the input: an extension API server's manifests register it with one")
	}
	ns := svcRef.Namespace
	inNS := func(o *Object) bool { return o.namespace == ns || o.namespace == "" }

	// The Service the APIServices dial.
	var svcObj *Object
	for _, o := range objs {
		if o.kind == "Service" && o.group == "" && o.name == svcRef.Name && inNS(o) {
			svcObj = o
		}
	}
	if svcObj == nil {
		return nil, fmt.Errorf("%s: spec.service.name %q: no Service %s/%s in the input", first.where(), svcRef.Name, ns, svcRef.Name)
	}
	svc, err := decodeAs[corev1.Service](svcObj)
	if err != nil {
		return nil, err
	}
	in.service = svc
	used[svcObj] = true
	port := int32(443)
	if svcRef.Port != nil {
		port = *svcRef.Port
	}
	i := slices.IndexFunc(svc.v.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == port })
	if i < 0 {
		return nil, fmt.Errorf("%s: spec.service.port %d: %s has no port %d", first.where(), port, svc.ref(), port)
	}
	in.servicePort = svc.v.Spec.Ports[i]
	if len(svc.v.Spec.Selector) == 0 {
		return nil, fmt.Errorf("%s: spec.selector is empty: the importer finds the server's pods by it", svc.where())
	}

	// The Deployment whose pods the Service selects.
	sel := labels.SelectorFromSet(svc.v.Spec.Selector)
	var deps []found[*appsv1.Deployment]
	for _, o := range objs {
		if o.kind != "Deployment" || o.group != "apps" || !inNS(o) {
			continue
		}
		d, err := decodeAs[appsv1.Deployment](o)
		if err != nil {
			return nil, err
		}
		if sel.Matches(labels.Set(d.v.Spec.Template.Labels)) {
			deps = append(deps, d)
		}
	}
	switch len(deps) {
	case 0:
		return nil, fmt.Errorf("%s: spec.selector %s: no Deployment in namespace %s has pods with these labels", svc.where(), sel, ns)
	case 1:
	default:
		return nil, fmt.Errorf("%s: spec.selector %s selects the pods of %s and %s: import one server at a time", svc.where(), sel, deps[0].where(), deps[1].where())
	}
	in.deployment = deps[0]
	used[deps[0].Object] = true
	if in.deployment.v.Spec.Selector == nil || len(in.deployment.v.Spec.Selector.MatchExpressions) > 0 {
		return nil, fmt.Errorf("%s: spec.selector: only matchLabels can be kept (spec.server.selectorLabels)", in.deployment.where())
	}
	if err := in.findContainer(); err != nil {
		return nil, err
	}

	// The identity and its RBAC.
	sa := in.deployment.v.Spec.Template.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	isOurs := func(subjects []rbacv1.Subject) bool {
		return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && (s.Namespace == ns || s.Namespace == "")
		})
	}
	clusterRoles := map[string]*Object{}
	for _, o := range objs {
		switch {
		case o.group == "" && o.kind == "ServiceAccount" && o.name == sa && inNS(o):
			s, err := decodeAs[corev1.ServiceAccount](o)
			if err != nil {
				return nil, err
			}
			in.serviceAccount = &s
			used[o] = true
		case o.group == "" && o.kind == "Namespace" && o.name == ns:
			n, err := decodeAs[corev1.Namespace](o)
			if err != nil {
				return nil, err
			}
			in.namespace = &n
			used[o] = true
		case o.group == rbacv1.GroupName && o.kind == "ClusterRole":
			clusterRoles[o.name] = o
		}
	}
	for _, o := range objs {
		if o.group != rbacv1.GroupName {
			continue
		}
		switch o.kind {
		case "ClusterRoleBinding":
			b, err := decodeAs[rbacv1.ClusterRoleBinding](o)
			if err != nil {
				return nil, err
			}
			if !isOurs(b.v.Subjects) || b.v.RoleRef.Kind != "ClusterRole" {
				continue
			}
			if len(b.v.Subjects) > 1 {
				continue // shared with others: kept alongside, reported
			}
			if b.v.RoleRef.Name == authDelegatorRole {
				if in.authDelegator == nil {
					in.authDelegator = &b
					used[o] = true
				}
				continue
			}
			r := clusterRoles[b.v.RoleRef.Name]
			if r == nil {
				continue // a role the input does not hold: kept alongside, reported
			}
			role, err := decodeAs[rbacv1.ClusterRole](r)
			if err != nil {
				return nil, err
			}
			if role.v.AggregationRule != nil {
				continue
			}
			in.serverRoles = append(in.serverRoles, roleGrant{binding: b, role: &role})
			used[r] = true
			used[o] = true
		case "RoleBinding":
			b, err := decodeAs[rbacv1.RoleBinding](o)
			if err != nil {
				return nil, err
			}
			if o.namespace == kubeSystem && isOurs(b.v.Subjects) && len(b.v.Subjects) == 1 &&
				b.v.RoleRef.Kind == "Role" && b.v.RoleRef.Name == authReaderRole && in.authReader == nil {
				in.authReader = &b
				used[o] = true
			}
		}
	}
	// The server's role is the grant whose role reads most beyond the served groups
	// (what the server itself needs), then by name; the others' rules join it.
	served := map[string]bool{}
	for _, a := range in.apiServices {
		served[a.v.Spec.Group] = true
	}
	slices.SortStableFunc(in.serverRoles, func(a, b roleGrant) int {
		if d := outside(b.role.v.Rules, served) - outside(a.role.v.Rules, served); d != 0 {
			return d
		}
		return strings.Compare(a.binding.name, b.binding.name)
	})

	// The users' roles: ClusterRoles over the served groups that aggregate into the
	// built-in view or edit role.
	groups := map[string]bool{}
	for _, a := range in.apiServices {
		groups[a.v.Spec.Group] = true
	}
	for _, name := range slices.Sorted(maps.Keys(clusterRoles)) {
		o := clusterRoles[name]
		if used[o] {
			continue
		}
		r, err := decodeAs[rbacv1.ClusterRole](o)
		if err != nil {
			return nil, err
		}
		if r.v.AggregationRule != nil || !onlyGroups(r.v.Rules, groups) {
			continue
		}
		l := r.v.Labels
		switch {
		case l[aggregateLabel+"view"] == "true" && in.viewRole == nil:
			in.viewRole = &r
			used[o] = true
		case l[aggregateLabel+"edit"] == "true" && l[aggregateLabel+"view"] != "true" && in.editRole == nil:
			in.editRole = &r
			used[o] = true
		}
	}

	// The PodDisruptionBudget and NetworkPolicy of the pods.
	podLabels := labels.Set(in.deployment.v.Spec.Template.Labels)
	for _, o := range objs {
		if !inNS(o) || used[o] {
			continue
		}
		switch {
		case o.group == "policy" && o.kind == "PodDisruptionBudget" && in.pdb == nil:
			p, err := decodeAs[policyv1.PodDisruptionBudget](o)
			if err != nil {
				return nil, err
			}
			replicas := int32(config.DefaultReplicas)
			if r := in.deployment.v.Spec.Replicas; r != nil {
				replicas = *r
			}
			// With one replica the render has no budget of its own to take over one it
			// refuses: that one is left alone, and the report says so.
			refused := replicas < 2 && budgetOf(p.v) != nil && refusedBudget(budgetOf(p.v), replicas) != ""
			if matchesPods(p.v.Spec.Selector, podLabels) && !refused {
				in.pdb = &p
				used[o] = true
			}
		case o.group == "networking.k8s.io" && o.kind == "NetworkPolicy" && in.networkPolicy == nil:
			p, err := decodeAs[networkingv1.NetworkPolicy](o)
			if err != nil {
				return nil, err
			}
			if matchesPods(&p.v.Spec.PodSelector, podLabels) && len(p.v.Spec.PodSelector.MatchLabels) > 0 {
				in.networkPolicy = &p
				used[o] = true
			}
		}
	}
	for _, o := range objs {
		if !used[o] {
			in.others = append(in.others, o)
		}
	}
	return in, nil
}

// findContainer finds the server container: the one with the port the Service targets.
func (in *installation) findContainer() error {
	d := in.deployment
	target := in.servicePort.TargetPort
	if target.Type == intstr.Int && target.IntVal == 0 {
		target = intstr.FromInt32(in.servicePort.Port) // an unset targetPort is the port
	}
	cs := d.v.Spec.Template.Spec.Containers
	for i, c := range cs {
		for _, p := range c.Ports {
			if (target.Type == intstr.String && p.Name == target.StrVal) || (target.Type == intstr.Int && p.ContainerPort == target.IntVal) {
				in.container, in.containerPort = i, p
				return nil
			}
		}
	}
	if len(cs) == 1 && target.Type == intstr.Int {
		// A container may listen on a port it does not declare.
		in.container, in.containerPort = 0, corev1.ContainerPort{ContainerPort: target.IntVal, Protocol: corev1.ProtocolTCP}
		return nil
	}
	return fmt.Errorf("%s: spec.ports[%s].targetPort %s: no container of %s declares that port", in.service.where(), in.servicePort.Name, target.String(), d.ref())
}

func matchesPods(s *metav1.LabelSelector, pods labels.Set) bool {
	if s == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	return err == nil && !sel.Empty() && sel.Matches(pods)
}

// outside counts the rules about other groups than served.
func outside(rules []rbacv1.PolicyRule, served map[string]bool) int {
	n := 0
	for _, r := range rules {
		if slices.ContainsFunc(r.APIGroups, func(g string) bool { return !served[g] }) || len(r.NonResourceURLs) > 0 {
			n++
		}
	}
	return n
}

// onlyGroups reports whether every rule is about the served groups.
func onlyGroups(rules []rbacv1.PolicyRule, groups map[string]bool) bool {
	if len(rules) == 0 {
		return false
	}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 || len(r.APIGroups) == 0 {
			return false
		}
		for _, g := range r.APIGroups {
			if !groups[g] {
				return false
			}
		}
	}
	return true
}
