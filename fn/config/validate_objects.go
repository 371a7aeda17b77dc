package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/fn/keys"
)

// ReservedLabels are the labels the function sets itself on its objects and pods; the
// selector and the owner label depend on them (a test in fn/manifests keeps the list
// in step with what it sets).
var ReservedLabels = []string{keys.OwnerLabel, keys.NameLabel, keys.ComponentLabel, keys.ManagedByLabel}

// isReservedAnnotation: the function's own keys (aggapi.dev/) and the tools'
// bookkeeping (keys.IsToolAnnotation: kpt's and kustomize's paths, indexes, ids,
// local-config), which a render neither counts as an edit nor lets a config set.
func isReservedAnnotation(k string) bool {
	return strings.HasPrefix(k, keys.Prefix) || keys.IsToolAnnotation(k)
}

// reservedAnnotations are other tools' keys the function sets on some of its objects.
var reservedAnnotations = keys.WrittenForOthers

// maxDeploymentNameLength leaves room for what the Deployment's controllers append: the
// ReplicaSet is named <deployment>-<pod-template-hash> (at most 10 characters), and its
// pods' generateName is <replicaset>- (kube-apiserver cuts generated names to 63
// characters itself), each a DNS-1123 subdomain of at most 253.
const maxDeploymentNameLength = validation.DNS1123SubdomainMaxLength - len("-") - 10 - len("-")

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
	for _, f := range []struct{ key, name, kind string }{
		{"clusterRole", o.ClusterRole, "ClusterRole"}, {"viewRole", o.ViewRole, "ClusterRole"}, {"editRole", o.EditRole, "ClusterRole"},
		{"clusterRoleBinding", o.ClusterRoleBinding, "ClusterRoleBinding"}, {"authDelegator", o.AuthDelegator, "ClusterRoleBinding"},
		{"authReader", o.AuthReader, "RoleBinding in kube-system"},
	} {
		if IsBuiltinRBACName(f.name) {
			errs = append(errs, field.Invalid(p.Child(f.key), f.name, fmt.Sprintf(
				"names a built-in %s, one kube-apiserver creates and reconciles: the function would replace it and change who may do what in the cluster", f.kind)))
		}
	}
	if len(o.Deployment) > maxDeploymentNameLength && len(validation.IsDNS1123Subdomain(o.Deployment)) == 0 {
		errs = append(errs, field.Invalid(p.Child("deployment"), o.Deployment, fmt.Sprintf(
			"must be no more than %d characters: its ReplicaSets are named <deployment>-<hash of up to 10 characters> and their pods <replicaset>-<5 characters>, each at most %d",
			maxDeploymentNameLength, validation.DNS1123SubdomainMaxLength)))
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
		errs = append(errs, labelErrors(kp, k, labels[k])...)
	}
	return errs
}

// labelErrors checks one label with apimachinery's ValidateLabels, the rule
// kube-apiserver applies, reported at the label's own path.
func labelErrors(p *field.Path, key, value string) field.ErrorList {
	return metav1validation.ValidateLabels(map[string]string{key: value}, p)
}

// annotationKeyErrors checks an annotation key as ValidateAnnotations does: a qualified
// name, case aside. The sizes are checked per generated object (validateAnnotationSizes).
func annotationKeyErrors(p *field.Path, key string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(strings.ToLower(key)) {
		errs = append(errs, field.Invalid(p, key, msg))
	}
	return errs
}

func validateAnnotations(p *field.Path, annotations map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		kp := p.Key(k)
		if slices.Contains(reservedAnnotations, k) || isReservedAnnotation(k) {
			errs = append(errs, field.Forbidden(kp, "the function or the tool running it sets this annotation"))
			continue
		}
		errs = append(errs, annotationKeyErrors(kp, k)...)
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
	// Sorted: the errors come out in the same order on every run.
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		errs = append(errs, labelErrors(p.Child("metadata", "labels").Key(k), k, t.Labels[k])...)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Annotations)) {
		kp := p.Child("metadata", "annotations").Key(k)
		if strings.HasPrefix(k, keys.Prefix) {
			errs = append(errs, field.Forbidden(kp, "the function sets this annotation itself (a new certificate rolls the pods)"))
			continue
		}
		errs = append(errs, annotationKeyErrors(kp, k)...)
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
