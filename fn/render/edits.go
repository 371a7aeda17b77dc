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

// edit is a previous object that differs from what aggapi wrote last time.
type edit struct {
	object *yaml.RNode // the object this render writes in its place
	paths  []string
}

// checkEdit notes when the previous version of a generated object differs from what
// aggapi wrote last time (a kustomize patch, images: or labels: in the same
// kustomization, a hand edit in a kpt package): the render replaces it with next, so
// the user must hear where the change belongs instead of losing it silently.
func (r *run) checkEdit(prev, next *yaml.RNode) {
	if !provenance.Edited(prev) {
		return
	}
	if paths := provenance.Changes(next, prev); len(paths) > 0 { // else only formatting or stamps
		r.edits = append(r.edits, edit{next, paths})
	}
}

// reportEdits warns once per set of changed paths: labels: in a kustomization changes
// every object the same way, and one warning naming them all says it better than 14.
// container is the server container's name.
func (r *run) reportEdits(container string) {
	type group struct {
		paths   []string
		objects []*yaml.RNode
	}
	var groups []*group
	for _, e := range r.edits {
		i := slices.IndexFunc(groups, func(g *group) bool {
			return slices.Equal(g.paths, e.paths) && whereItBelongs(g.objects[0].GetKind(), g.paths, container) == whereItBelongs(e.object.GetKind(), e.paths, container)
		})
		if i < 0 {
			groups = append(groups, &group{paths: e.paths})
			i = len(groups) - 1
		}
		groups[i].objects = append(groups[i].objects, e.object)
	}
	for _, g := range groups {
		shown := g.paths
		if len(shown) > maxChangedPaths {
			shown = shown[:maxChangedPaths]
		}
		paths := strings.Join(shown, ", ")
		if more := len(g.paths) - len(shown); more > 0 {
			paths += fmt.Sprintf(" and %d more", more)
		}
		first := g.objects[0]
		what, them := fmt.Sprintf("%s %s was", first.GetKind(), qualifiedName(first)), "it"
		ref := &yaml.ResourceIdentifier{
			TypeMeta: yaml.TypeMeta{APIVersion: first.GetApiVersion(), Kind: first.GetKind()},
			NameMeta: yaml.NameMeta{Name: first.GetName(), Namespace: first.GetNamespace()},
		}
		if len(g.objects) > 1 {
			var names []string
			for _, o := range g.objects {
				names = append(names, o.GetKind()+" "+qualifiedName(o))
			}
			what, them = fmt.Sprintf("%d objects (%s) were", len(g.objects), strings.Join(names, ", ")), "them"
			ref = r.ref
		}
		r.results = append(r.results, Result{
			Severity: Warning,
			Message: fmt.Sprintf("%s changed after aggapi rendered %s (%s); this render writes %s as the config says, so the change is not in the output. Where it belongs: %s (see examples/gitops)",
				what, them, paths, them, whereItBelongs(first.GetKind(), g.paths, container)),
			ResourceRef: ref,
			FieldPath:   g.paths[0],
		})
	}
}

// whereItBelongs says where changes at paths of a generated object of kind belong;
// serverContainer is the server container's name.
func whereItBelongs(kind string, paths []string, serverContainer string) string {
	var places []string
	add := func(s string) {
		if !slices.Contains(places, s) {
			places = append(places, s)
		}
	}
	for _, p := range paths {
		container := "spec.template.spec.containers[name=" + serverContainer + "]."
		switch {
		case kind == "Secret" && (strings.HasPrefix(p, "data") || strings.HasPrefix(p, "stringData")),
			kind == "APIService" && p == "spec.caBundle":
			add("nowhere: aggapi issues the serving certificate and trusts only the CAs it issued, never material changed after a render (to serve with a CA of your own, use `spec.certificate.mode: provided`)")
		case kind == "Deployment" && p == "spec.replicas":
			add("`spec.server.replicas` in the config")
		case kind == "Deployment" && p == container+"image":
			add("`spec.server.image` in the config, or `images:` in a kustomization over the rendered output")
		case kind == "Deployment" && strings.HasPrefix(p, container+"resources"):
			add("`spec.server.resources` in the config")
		case kind == "Deployment" && (strings.HasPrefix(p, container+"args") || strings.HasPrefix(p, container+"command")):
			add("`spec.server.args` or `spec.server.command` in the config")
		case kind == "Deployment" && strings.HasPrefix(p, "spec.template."):
			add("`spec.server.podTemplate` in the config")
		case strings.HasPrefix(p, "metadata.labels"):
			add("`spec.commonLabels` in the config, or `labels:` in a kustomization over the rendered output")
		case strings.HasPrefix(p, "metadata.annotations"):
			add("`spec.commonAnnotations` in the config, or `commonAnnotations:` in a kustomization over the rendered output")
		default:
			add("the config, or a kustomization over the rendered output")
		}
	}
	return strings.Join(places, "; ")
}
