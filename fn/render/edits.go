package render

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/provenance"
)

// maxChangedPaths bounds the field paths one warning lists.
const maxChangedPaths = 8

// checkEdit warns when the previous version of a generated object differs from what
// aggapi wrote last time (a kustomize patch, images: or labels: in the same
// kustomization, a hand edit in a kpt package): the render replaces it with next, so
// the user hears where the change belongs instead of losing it silently.
func (r *run) checkEdit(prev, next *yaml.RNode) {
	if !provenance.Edited(prev) {
		return
	}
	paths := provenance.Changes(next, prev)
	if len(paths) == 0 {
		return // only formatting or the stamps changed
	}
	shown := paths
	if len(shown) > maxChangedPaths {
		shown = shown[:maxChangedPaths]
	}
	list := strings.Join(shown, ", ")
	if more := len(paths) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	msg := fmt.Sprintf("%s %s was changed after aggapi rendered it (%s); this render writes it as the config says, so the change is not in the output: %s (see examples/gitops)",
		next.GetKind(), qualifiedName(next), list, whereItBelongs(next.GetKind(), paths))
	r.results = append(r.results, Result{
		Severity: Warning,
		Message:  msg,
		ResourceRef: &yaml.ResourceIdentifier{
			TypeMeta: yaml.TypeMeta{APIVersion: next.GetApiVersion(), Kind: next.GetKind()},
			NameMeta: yaml.NameMeta{Name: next.GetName(), Namespace: next.GetNamespace()},
		},
		FieldPath: paths[0],
	})
}

// whereItBelongs says where changes at paths of a generated object of kind belong.
func whereItBelongs(kind string, paths []string) string {
	var places []string
	add := func(s string) {
		if !slices.Contains(places, s) {
			places = append(places, s)
		}
	}
	for _, p := range paths {
		const container = "spec.template.spec.containers[name=apiserver]."
		switch {
		case kind == "Deployment" && p == "spec.replicas":
			add("`spec.server.replicas` in the config")
		case kind == "Deployment" && p == container+"image":
			add("`spec.server.image` in the config (or `images:` in a kustomization over the rendered output)")
		case kind == "Deployment" && strings.HasPrefix(p, container+"resources"):
			add("`spec.server.resources` in the config")
		case kind == "Deployment" && (strings.HasPrefix(p, container+"args") || strings.HasPrefix(p, container+"command")):
			add("`spec.server.args` or `spec.server.command` in the config")
		case kind == "Deployment" && strings.HasPrefix(p, "spec.template."):
			add("`spec.server.podTemplate` in the config")
		case strings.HasPrefix(p, "metadata.labels") || strings.HasPrefix(p, "metadata.annotations"):
			add("a kustomization over the rendered output (`labels:`, `commonAnnotations:`, `patches:`)")
		default:
			add("the config, or a kustomization over the rendered output")
		}
	}
	return "make it in " + strings.Join(places, "; ")
}
