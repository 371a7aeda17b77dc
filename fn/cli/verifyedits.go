package cli

import (
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/provenance"
	"github.com/aggapi/aggapi/fn/render"
	"github.com/aggapi/aggapi/fn/verify"
)

// editedFields names the fields of each edited object by rendering its config again
// over the objects it owns, as the next render would, and comparing. It renders at the
// serving certificate's NotBefore when the schedule knows it, so the previous material
// is reused (not renewed) and only the edit differs. nil when there is no config, the
// render fails (an encrypted Secret) or the objects were too many to keep.
func editedFields(stamps *verify.Stamps, configs map[string]*yaml.RNode, schedules []verify.Schedule, now time.Time) func(verify.Edited) []string {
	rendered := map[string]map[string]*yaml.RNode{} // by config, then object
	render1 := func(name string) map[string]*yaml.RNode {
		if m, ok := rendered[name]; ok {
			return m
		}
		rendered[name] = nil
		cfg, owned := configs[name], stamps.Owned(name)
		if cfg == nil || len(owned) == 0 {
			return nil
		}
		at := now
		for _, s := range schedules {
			if s.Config == name {
				at = s.NotBefore
			}
		}
		items := make([]*yaml.RNode, len(owned))
		for i, n := range owned {
			items[i] = n.Copy()
		}
		out := render.Process(items, cfg.Copy(), at)
		if out.Failed {
			return nil
		}
		m := map[string]*yaml.RNode{}
		for _, n := range out.Items {
			m[objectName(n)] = n
		}
		rendered[name] = m
		return m
	}
	return func(e verify.Edited) []string {
		want := render1(e.Owner)[e.Object]
		if want == nil {
			return nil
		}
		for _, got := range stamps.Owned(e.Owner) {
			if objectName(got) == e.Object {
				return provenance.Changes(want, got)
			}
		}
		return nil
	}
}

// objectName names an object as verify's findings do: kind, namespace/name.
func objectName(n *yaml.RNode) string {
	if ns := n.GetNamespace(); ns != "" {
		return n.GetKind() + " " + ns + "/" + n.GetName()
	}
	return n.GetKind() + " " + n.GetName()
}
