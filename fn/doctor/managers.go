package doctor

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/keys"
)

// Manager is who installed an object, as its labels, annotations and managed fields
// say.
type Manager struct {
	// Kind is "aggapi", "Helm", another app.kubernetes.io/managed-by value, or "" when
	// only field managers are known.
	Kind string
	// Name is the aggapi config or the Helm release (namespace/name).
	Name string
	// FieldManagers are the managedFields managers that wrote the object's spec.
	FieldManagers []string
}

// managerOf reads who manages obj.
func managerOf(obj metav1.Object) Manager {
	var m Manager
	lbl, ann := obj.GetLabels(), obj.GetAnnotations()
	switch {
	case lbl[keys.OwnerLabel] != "":
		m.Kind, m.Name = "aggapi", lbl[keys.OwnerLabel]
	case ann[keys.HelmReleaseNameAnnotation] != "" || lbl[keys.ManagedByLabel] == keys.HelmManagedBy:
		m.Kind = keys.HelmManagedBy
		if r := ann[keys.HelmReleaseNameAnnotation]; r != "" {
			m.Name = r
			if ns := ann[keys.HelmReleaseNamespaceAnnotation]; ns != "" {
				m.Name = ns + "/" + r
			}
		}
	case lbl[keys.ManagedByLabel] != "":
		m.Kind = lbl[keys.ManagedByLabel]
	}
	for _, mf := range obj.GetManagedFields() {
		if mf.Subresource != "" || mf.Manager == "" {
			continue
		}
		if !slices.Contains(m.FieldManagers, mf.Manager) {
			m.FieldManagers = append(m.FieldManagers, mf.Manager)
		}
	}
	slices.Sort(m.FieldManagers)
	return m
}

func (m Manager) String() string {
	s := m.installer()
	if len(m.FieldManagers) > 0 {
		s += "; field managers " + strings.Join(m.FieldManagers, ", ")
	}
	return s
}

// installer names the installer alone.
func (m Manager) installer() string {
	var s string
	switch {
	case m.Kind == "aggapi":
		s = "aggapi (config " + m.Name + ")"
	case m.Kind == keys.HelmManagedBy && m.Name != "":
		s = "Helm release " + m.Name
	case m.Kind != "":
		s = m.Kind
	default:
		s = "no installer label"
	}
	return s
}

// claims reports whether m and o name different installers (both known).
func (m Manager) conflictsWith(o Manager) bool {
	if m.Kind == "" || o.Kind == "" {
		return false
	}
	if m.Kind != o.Kind {
		return true
	}
	return m.Name != "" && o.Name != "" && m.Name != o.Name
}

// conflicts returns the evidence of two installers claiming one APIService: the
// object's own labels disagree (aggapi's label beside Helm's), or the object and what
// it points at (the Service) have different installers, or the manifests or config
// given are aggapi's while the live object is someone else's.
func conflicts(live, svc metav1.Object, rendered *Manager) []string {
	var out []string
	lbl, ann := live.GetLabels(), live.GetAnnotations()
	if lbl[keys.OwnerLabel] != "" && (ann[keys.HelmReleaseNameAnnotation] != "" || lbl[keys.ManagedByLabel] == keys.HelmManagedBy) {
		out = append(out, fmt.Sprintf("it carries aggapi's label %s=%s and Helm's release %q", keys.OwnerLabel, lbl[keys.OwnerLabel], ann[keys.HelmReleaseNameAnnotation]))
	}
	m := managerOf(live)
	if rendered != nil && rendered.conflictsWith(m) {
		out = append(out, fmt.Sprintf("the manifests given are %s's, but the live APIService is managed by %s", rendered.installer(), m.installer()))
	}
	if svc != nil {
		if sm := managerOf(svc); m.conflictsWith(sm) {
			out = append(out, fmt.Sprintf("the APIService is managed by %s, but the Service it points at by %s", m.installer(), sm.installer()))
		}
	}
	return out
}
