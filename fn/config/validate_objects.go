package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxPort bounds the ports of networkPolicy.extraIngress/extraEgress, which the schema
// leaves to the Kubernetes type.
const maxPort = 65535

// ReservedLabels are the labels the function sets itself on its objects and pods; the
// selector and the owner label depend on them (a test in fn/manifests keeps the list
// in step with what it sets).
var ReservedLabels = []string{"aggapi.dev/owner", "app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/managed-by"}

// reservedAnnotationPrefixes belong to the function and to the tools running it (kpt
// and kustomize bookkeeping, config.kubernetes.io/local-config).
var reservedAnnotationPrefixes = []string{"aggapi.dev/", "config.kubernetes.io/", "internal.config.kubernetes.io/", "config.k8s.io/"}

// reservedAnnotations are set by the function on some of its objects.
var reservedAnnotations = []string{
	"argocd.argoproj.io/sync-wave",
	"cert-manager.io/inject-ca-from",
	"service.beta.openshift.io/inject-cabundle",
	"service.beta.openshift.io/serving-cert-secret-name",
}

// builtinClusterRoles are the cluster's own roles a generated ClusterRole must not replace.
var builtinClusterRoles = []string{
	"cluster-admin", "admin", "edit", "view", "system:auth-delegator",
	"system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
}

// validateNames checks spec.names: each name by the rules of its kind, no two objects
// of one kind with one name, and no ClusterRole that would replace a built-in one.
func (a *AggregatedAPI) validateNames(p *field.Path) field.ErrorList {
	o := a.Spec.Names
	if o == nil {
		return nil
	}
	var errs field.ErrorList
	subdomain, rbac := validation.IsDNS1123Subdomain, content.IsPathSegmentName
	for _, f := range []struct {
		key, value string
		check      func(string) []string
	}{
		{"serviceAccount", o.ServiceAccount, subdomain}, {"secret", o.Secret, subdomain},
		{"deployment", o.Deployment, subdomain}, {"service", o.Service, validation.IsDNS1035Label},
		{"clusterRole", o.ClusterRole, rbac}, {"clusterRoleBinding", o.ClusterRoleBinding, rbac},
		{"authDelegator", o.AuthDelegator, rbac}, {"authReader", o.AuthReader, rbac},
		{"viewRole", o.ViewRole, rbac}, {"editRole", o.EditRole, rbac},
		{"podDisruptionBudget", o.PodDisruptionBudget, subdomain}, {"networkPolicy", o.NetworkPolicy, subdomain},
	} {
		if f.value != "" {
			errs = append(errs, dns(p.Child(f.key), f.value, f.check)...)
		}
	}
	if o.Secret != "" && a.Spec.Certificate.Mode == ModeProvided {
		errs = append(errs, field.Forbidden(p.Child("secret"), "mode provided mounts spec.certificate.provided.secretName"))
	}

	// Objects of one kind, with the spec.names key that sets each (overrides first,
	// so a clash is reported on the name the user wrote).
	n := a.ObjectNames()
	type named struct {
		key, name string
		set       bool // given in spec.names, not derived
	}
	kinds := []struct {
		kind    string
		members []named
	}{
		{"ClusterRole", []named{{"clusterRole", n.ServerRole, o.ClusterRole != ""}, {"viewRole", n.ViewRole, o.ViewRole != ""}, {"editRole", n.EditRole, o.EditRole != ""}}},
		{"ClusterRoleBinding", []named{{"clusterRoleBinding", n.ServerRoleBinding, o.ClusterRoleBinding != ""}, {"authDelegator", n.AuthDelegator, o.AuthDelegator != ""}}},
	}
	if cm := a.Spec.Certificate.CertManager; a.Spec.Certificate.Mode == ModeCertManager && (cm == nil || cm.IssuerRef == nil) {
		// cert-manager writes the CA's Secret under the CA Certificate's name.
		kinds = append(kinds, struct {
			kind    string
			members []named
		}{"Secret", []named{{"secret", n.Secret, o.Secret != ""}, {"", n.CACertificate, false}}})
	}
	for _, k := range kinds {
		for i, m := range k.members {
			for _, other := range k.members[i+1:] {
				if m.name != other.name {
					continue
				}
				// Report on the name the user wrote; the other may be derived.
				at, with := m, other
				if !m.set && other.set {
					at, with = other, m
				}
				what := "spec.names." + with.key
				switch {
				case with.key == "":
					what = "cert-manager's CA Secret"
				case !with.set:
					what += " (derived from metadata.name)"
				}
				errs = append(errs, field.Invalid(p.Child(at.key), at.name, fmt.Sprintf("%s %q is also the name of %s: two %ss cannot share a name", k.kind, at.name, what, k.kind)))
			}
		}
	}
	for _, key := range []struct{ key, name string }{{"clusterRole", o.ClusterRole}, {"viewRole", o.ViewRole}, {"editRole", o.EditRole}} {
		if slices.Contains(builtinClusterRoles, key.name) {
			errs = append(errs, field.Invalid(p.Child(key.key), key.name, "is a built-in ClusterRole of the cluster: the function would replace it"))
		}
	}
	return errs
}

// validateMetadata checks the labels and annotations the user adds to generated objects.
func validateMetadata(spec *field.Path, s AggregatedAPISpec) field.ErrorList {
	var errs field.ErrorList
	// Paths are built only for maps that are set: every render pays for validation.
	for _, m := range []struct {
		path   []string
		values map[string]string
		labels bool
	}{
		{[]string{"commonLabels"}, s.CommonLabels, true},
		{[]string{"commonAnnotations"}, s.CommonAnnotations, false},
		{[]string{"serviceAccount", "annotations"}, s.ServiceAccount.Annotations, false},
		{[]string{"service", "labels"}, s.Service.Labels, true},
		{[]string{"service", "annotations"}, s.Service.Annotations, false},
	} {
		switch {
		case len(m.values) == 0:
		case m.labels:
			errs = append(errs, validateLabels(spec.Child(m.path[0], m.path[1:]...), m.values)...)
		default:
			errs = append(errs, validateAnnotations(spec.Child(m.path[0], m.path[1:]...), m.values)...)
		}
	}
	return errs
}

func validateLabels(p *field.Path, labels map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		kp := p.Key(k)
		if slices.Contains(ReservedLabels, k) {
			errs = append(errs, field.Forbidden(kp, "the function sets this label itself: it selects the pods and marks the function's objects"))
			continue
		}
		if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
			// On every ClusterRole, the server's own rules would reach the built-in roles' users.
			errs = append(errs, field.Forbidden(kp, "would aggregate every generated ClusterRole, the server's own included, into a built-in role; the view and edit roles carry these labels already"))
			continue
		}
		for _, msg := range content.IsLabelKey(k) {
			errs = append(errs, field.Invalid(kp, k, msg))
		}
		for _, msg := range content.IsLabelValue(labels[k]) {
			errs = append(errs, field.Invalid(kp, labels[k], msg))
		}
	}
	return errs
}

func validateAnnotations(p *field.Path, annotations map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		kp := p.Key(k)
		if slices.Contains(reservedAnnotations, k) || slices.ContainsFunc(reservedAnnotationPrefixes, func(pre string) bool { return strings.HasPrefix(k, pre) }) {
			errs = append(errs, field.Forbidden(kp, "the function or the tool running it sets this annotation"))
			continue
		}
		for _, msg := range content.IsLabelKey(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(kp, k, msg))
		}
	}
	return errs
}

// validatePodTemplate decodes spec.server.podTemplate strictly and rejects what the
// function itself must decide; what a merge would break is checked after merging
// (fn/manifests).
func validatePodTemplate(p *field.Path, raw []byte) field.ErrorList {
	if raw[0] != '{' {
		return field.ErrorList{field.Invalid(p, string(raw), "must be a partial PodTemplateSpec (an object)")}
	}
	// Strategic-merge directives ($patch, $retainKeys, $setElementOrder/...) are part
	// of the patch language, not of the type: check the rest strictly. What they
	// remove is checked after the merge.
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return field.ErrorList{field.Invalid(p, field.OmitValueType{}, err.Error())}
	}
	if errs := boundLists(p, generic); len(errs) > 0 {
		return errs
	}
	withoutDirectives, err := json.Marshal(dropDirectives(generic))
	if err != nil {
		return field.ErrorList{field.InternalError(p, err)}
	}
	var t corev1.PodTemplateSpec
	errs := decodeStrict(p, withoutDirectives, &t)
	if len(errs) > 0 {
		return errs
	}
	var top struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(withoutDirectives, &top)
	for _, k := range slices.Sorted(maps.Keys(top.Metadata)) {
		if k != "labels" && k != "annotations" {
			errs = append(errs, field.Forbidden(p.Child("metadata", k), "the pod template takes labels and annotations only"))
		}
	}
	sp := p.Child("spec")
	if t.Spec.ServiceAccountName != "" || t.Spec.DeprecatedServiceAccount != "" {
		errs = append(errs, field.Forbidden(sp.Child("serviceAccountName"), "the pods run as the ServiceAccount the RBAC is bound to: use spec.names.serviceAccount to name it"))
	}
	if v := t.Spec.AutomountServiceAccountToken; v != nil && !*v {
		errs = append(errs, field.Forbidden(sp.Child("automountServiceAccountToken"), "the server authenticates to the kube-apiserver with its ServiceAccount token (delegated authn/authz)"))
	}
	for k, v := range t.Labels {
		for _, msg := range content.IsLabelKey(k) {
			errs = append(errs, field.Invalid(p.Child("metadata", "labels").Key(k), k, msg))
		}
		for _, msg := range content.IsLabelValue(v) {
			errs = append(errs, field.Invalid(p.Child("metadata", "labels").Key(k), v, msg))
		}
	}
	for k := range t.Annotations {
		if strings.HasPrefix(k, "aggapi.dev/") {
			errs = append(errs, field.Forbidden(p.Child("metadata", "annotations").Key(k), "the function sets this annotation itself (a new certificate rolls the pods)"))
		}
	}
	return errs
}

// maxTemplateListItems bounds every list in a podTemplate (containers, env, volumes,
// tolerations, ...): the schema leaves the template to the Kubernetes type, and
// strategic merge orders merged lists in quadratic time.
const maxTemplateListItems = 256

// boundLists reports the lists of a decoded podTemplate longer than maxTemplateListItems.
func boundLists(p *field.Path, v any) field.ErrorList {
	var errs field.ErrorList
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			errs = append(errs, boundLists(p.Child(k), v[k])...)
		}
	case []any:
		if len(v) > maxTemplateListItems {
			return field.ErrorList{field.TooMany(p, len(v), maxTemplateListItems)}
		}
		for i, x := range v {
			errs = append(errs, boundLists(p.Index(i), x)...)
		}
	}
	return errs
}

// dropDirectives removes the keys of strategic-merge directives ("$patch", ...) from a
// decoded JSON document; list items stay, so the indexes of errors stay right.
func dropDirectives(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.HasPrefix(k, "$") {
				delete(v, k)
				continue
			}
			v[k] = dropDirectives(x)
		}
	case []any:
		for i, x := range v {
			v[i] = dropDirectives(x)
		}
	}
	return v
}

// validateExtraRules decodes spec.networkPolicy.extraIngress and extraEgress strictly
// and checks their ports and CIDRs.
func validateExtraRules(p *field.Path, np *NetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	if !np.Enabled {
		for key, n := range map[string]int{"extraIngress": len(np.ExtraIngress), "extraEgress": len(np.ExtraEgress)} {
			if n > 0 {
				errs = append(errs, field.Forbidden(p.Child(key), "has no effect: spec.networkPolicy.enabled is false"))
			}
		}
		slices.SortFunc(errs, func(a, b *field.Error) int { return strings.Compare(a.Field, b.Field) })
	}
	for i, r := range np.ExtraIngress {
		rp := p.Child("extraIngress").Index(i)
		var rule networkingv1.NetworkPolicyIngressRule
		if e := decodeStrict(rp, bytes.TrimSpace(r.Raw), &rule); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		errs = append(errs, validatePorts(rp.Child("ports"), rule.Ports)...)
		errs = append(errs, validatePeers(rp.Child("from"), rule.From)...)
	}
	for i, r := range np.ExtraEgress {
		rp := p.Child("extraEgress").Index(i)
		var rule networkingv1.NetworkPolicyEgressRule
		if e := decodeStrict(rp, bytes.TrimSpace(r.Raw), &rule); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		errs = append(errs, validatePorts(rp.Child("ports"), rule.Ports)...)
		errs = append(errs, validatePeers(rp.Child("to"), rule.To)...)
	}
	return errs
}

func validatePorts(p *field.Path, ports []networkingv1.NetworkPolicyPort) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if port.Protocol != nil {
			if pr := *port.Protocol; pr != corev1.ProtocolTCP && pr != corev1.ProtocolUDP && pr != corev1.ProtocolSCTP {
				errs = append(errs, field.NotSupported(pp.Child("protocol"), pr, []string{"TCP", "UDP", "SCTP"}))
			}
		}
		if port.Port != nil {
			if port.Port.StrVal != "" {
				for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
					errs = append(errs, field.Invalid(pp.Child("port"), port.Port.StrVal, msg))
				}
			} else {
				// Not in the schema (the rules are schemaless there): the range is checked here.
				if p := port.Port.IntVal; p < 1 || p > maxPort {
					errs = append(errs, field.Invalid(pp.Child("port"), p, fmt.Sprintf("must be between 1 and %d", maxPort)))
				}
			}
		}
		if port.EndPort != nil {
			switch {
			case port.Port == nil || port.Port.StrVal != "":
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, "needs a numeric port"))
			case *port.EndPort < port.Port.IntVal || *port.EndPort > maxPort:
				errs = append(errs, field.Invalid(pp.Child("endPort"), *port.EndPort, fmt.Sprintf("must be between port (%d) and %d", port.Port.IntVal, maxPort)))
			}
		}
	}
	return errs
}

func validatePeers(p *field.Path, peers []networkingv1.NetworkPolicyPeer) field.ErrorList {
	var errs field.ErrorList
	for i, peer := range peers {
		pp := p.Index(i)
		b := peer.IPBlock
		if b == nil {
			continue
		}
		if b.CIDR != "" && (peer.PodSelector != nil || peer.NamespaceSelector != nil) {
			errs = append(errs, field.Forbidden(pp.Child("ipBlock"), "a peer has ipBlock or selectors, not both"))
		}
		if _, _, err := net.ParseCIDR(b.CIDR); err != nil {
			errs = append(errs, field.Invalid(pp.Child("ipBlock", "cidr"), b.CIDR, "must be a CIDR such as 10.0.0.0/24"))
		}
		for j, ex := range b.Except {
			if _, _, err := net.ParseCIDR(ex); err != nil {
				errs = append(errs, field.Invalid(pp.Child("ipBlock", "except").Index(j), ex, "must be a CIDR such as 10.0.0.0/24"))
			}
		}
	}
	return errs
}
