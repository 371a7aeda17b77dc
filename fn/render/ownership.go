package render

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
)

// generatedKinds are the kinds, by API group, that aggapi generates under some config:
// an item with this config's owner label and one of these kinds is the render's to
// replace or, once the config no longer generates it, to leave out (a GitOps tool that
// prunes then deletes it: switching spec.networkPolicy off removes the NetworkPolicy).
// An item of any other kind is never the render's, label or not. TestGeneratedKinds
// ties the list to manifests.Build.
var generatedKinds = map[string]bool{
	"|Namespace":                            true,
	"|ServiceAccount":                       true,
	"|Secret":                               true,
	"|Service":                              true,
	"apps|Deployment":                       true,
	"policy|PodDisruptionBudget":            true,
	"networking.k8s.io|NetworkPolicy":       true,
	"rbac.authorization.k8s.io|ClusterRole": true,
	"rbac.authorization.k8s.io|ClusterRoleBinding": true,
	"rbac.authorization.k8s.io|RoleBinding":        true,
	"apiregistration.k8s.io|APIService":            true,
	"cert-manager.io|Certificate":                  true,
	"cert-manager.io|Issuer":                       true,
	"monitoring.coreos.com|ServiceMonitor":         true,
}

// clusterScopedKinds are the generated kinds that have no namespace: an item of one of
// them is identified without its metadata.namespace, so a stray namespace on a foreign
// item does not hide a collision. TestGeneratedKinds ties it to manifests.Build.
var clusterScopedKinds = map[string]bool{
	"|Namespace":                                   true,
	"rbac.authorization.k8s.io|ClusterRole":        true,
	"rbac.authorization.k8s.io|ClusterRoleBinding": true,
	"apiregistration.k8s.io|APIService":            true,
}

// groupKind is an item's API group and kind, as the keys of generatedKinds.
func groupKind(apiVersion, kind string) string {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = ""
	}
	return group + "|" + kind
}

// ownedBy tells whether an item belongs to the render of the config named owner: it
// carries its owner label and is of a kind aggapi generates.
func ownedBy(n *yaml.RNode, owner string) bool {
	return n.GetLabels()[keys.OwnerLabel] == owner && generatedKinds[groupKind(n.GetApiVersion(), n.GetKind())]
}

// partition splits items into those of this config's render and all others, in their
// order; strays are the others that carry this config's owner label all the same.
func partition(items []*yaml.RNode, owner string) (owned, foreign, strays []*yaml.RNode) {
	for _, it := range items {
		switch {
		case ownedBy(it, owner):
			owned = append(owned, it)
		case it.GetLabels()[keys.OwnerLabel] == owner:
			strays = append(strays, it)
			foreign = append(foreign, it)
		default:
			foreign = append(foreign, it)
		}
	}
	return owned, foreign, strays
}

// idOf identifies an object by API group, kind, namespace and name: what must be
// unique in a pipeline. A cluster-scoped kind has no namespace, whatever the item says.
func idOf(n *yaml.RNode) string {
	ns := n.GetNamespace()
	if clusterScopedKinds[groupKind(n.GetApiVersion(), n.GetKind())] {
		ns = ""
	}
	return objectID(n.GetApiVersion(), n.GetKind(), ns, n.GetName())
}

func objectID(apiVersion, kind, namespace, name string) string {
	return groupKind(apiVersion, kind) + "|" + namespace + "|" + name
}

// refuseStrays names the items that carry this config's owner label but are of a kind
// aggapi never generates. Left out, they would vanish from the output; passed through,
// they would stay objects that claim a render they are not part of (aggapi verify
// --config fails on them, and re-rendering cannot help). The label is the mistake.
func (r *run) refuseStrays(strays []*yaml.RNode, owner string) {
	for _, it := range strays {
		r.fail(fmt.Sprintf("%s %s%s carries the label %s: %s, but aggapi never generates that kind (%s %s): remove the label, which marks the objects this config's render replaces and prunes",
			it.GetKind(), qualifiedName(it), inFile(it), keys.OwnerLabel, owner, it.GetApiVersion(), it.GetKind()), "")
	}
}

// noteDropped names the objects of the previous render (but Namespaces, which
// warnDroppedNamespaces covers) that this config no longer generates (switched off,
// renamed): they are left out of the output, and a GitOps tool that prunes deletes them
// from the cluster, as intended. One result names them all.
func (r *run) noteDropped(owned, out []*yaml.RNode) {
	generated := map[string]bool{}
	for _, n := range out {
		generated[idOf(n)] = true
	}
	var dropped []*yaml.RNode
	for _, prev := range owned {
		if prev.GetKind() != "Namespace" && !generated[idOf(prev)] {
			dropped = append(dropped, prev)
		}
	}
	if len(dropped) == 0 {
		return
	}
	what, ref, them := fmt.Sprintf("%s %s%s of the previous render is", dropped[0].GetKind(), qualifiedName(dropped[0]), inFile(dropped[0])), resourceRef(dropped[0]), "it"
	if len(dropped) > 1 {
		var names []string
		for _, d := range dropped {
			names = append(names, d.GetKind()+" "+qualifiedName(d)+inFile(d))
		}
		what, ref, them = fmt.Sprintf("%d objects of the previous render (%s) are", len(dropped), strings.Join(names, ", ")), r.ref, "them"
	}
	r.results = append(r.results, Result{
		Severity:    Info,
		Message:     fmt.Sprintf("%s no longer generated by this config: left out of the output, so a GitOps tool that prunes deletes %s from the cluster", what, them),
		ResourceRef: ref,
	})
}

func resourceRef(n *yaml.RNode) *yaml.ResourceIdentifier {
	return &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: n.GetApiVersion(), Kind: n.GetKind()},
		NameMeta: yaml.NameMeta{Name: n.GetName(), Namespace: n.GetNamespace()},
	}
}
