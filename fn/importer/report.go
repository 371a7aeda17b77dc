package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/manifests"
)

// Change is one thing the adoption changes in the cluster, or one thing to know.
type Change struct {
	// Object is the object it is about (Kind namespace/name), or "" for the whole render.
	Object string `json:"object"`
	// Path is the field, when it is about one.
	Path string `json:"path,omitempty"`
	// Detail says what happens and, where there is one, what to do.
	Detail string `json:"detail"`
}

// Report is what `aggapi import` tells besides the config.
type Report struct {
	// Config is the imported config's metadata.name.
	Config string `json:"config"`
	// DroppedArgs are the server's args the function owns and sets itself.
	DroppedArgs []string `json:"droppedArgs"`
	// Notes are the changes the importer decided, each with its reason.
	Notes []Change `json:"notes"`
	// Added are the render's objects the installation does not have.
	Added []string `json:"added"`
	// Changed are the fields the render sets differently on objects it adopts.
	Changed []Change `json:"changed"`
	// NotRendered are the installation's objects aggapi does not render: apply them
	// alongside, or delete them.
	NotRendered []Change `json:"notRendered"`
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "aggapi import: AggregatedAPI %s: what adopting the installation changes\n", r.Config)
	if len(r.DroppedArgs) > 0 {
		fmt.Fprintf(&b, "\nargs the function sets itself (left out of spec.server.args):\n")
		for _, a := range r.DroppedArgs {
			fmt.Fprintf(&b, "  %s\n", a)
		}
	}
	section := func(title, whole string, cs []Change) {
		if len(cs) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s:\n", title)
		last := "\x00"
		for _, c := range cs {
			if c.Object != last {
				obj := c.Object
				if obj == "" {
					obj = whole
				}
				fmt.Fprintf(&b, "  %s\n", obj)
				last = c.Object
			}
			if c.Path != "" {
				fmt.Fprintf(&b, "    %s: %s\n", c.Path, c.Detail)
			} else {
				fmt.Fprintf(&b, "    %s\n", c.Detail)
			}
		}
	}
	section("notes", "the imported config", r.Notes)
	if len(r.Added) > 0 {
		fmt.Fprintf(&b, "\nobjects the render adds:\n")
		for _, a := range r.Added {
			fmt.Fprintf(&b, "  %s\n", a)
		}
	}
	section("fields the render changes", "every adopted object", r.Changed)
	section("objects aggapi does not render (apply them alongside, or delete them)", "", r.NotRendered)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON object; every list is there, empty or not.
func (r *Report) WriteJSON(w io.Writer) error {
	out := *r
	for _, l := range []*[]Change{&out.Notes, &out.Changed, &out.NotRendered} {
		if *l == nil {
			*l = []Change{}
		}
	}
	for _, l := range []*[]string{&out.DroppedArgs, &out.Added} {
		if *l == nil {
			*l = []string{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// compare fills the report's Added, Changed and NotRendered from the installation and
// the render of the imported config.
func (r *Report) compare(in *installation, rendered []manifests.Object, ns string) error {
	byID := map[string]*Object{}
	id := func(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }
	for _, o := range in.all {
		n := o.namespace
		if n == "" && namespaced(o.kind) {
			n = ns
		}
		byID[id(o.kind, n, o.name)] = o
	}
	matched := map[*Object]bool{}
	var labelChanges []Change
	for _, obj := range rendered {
		kind := obj.GetObjectKind().GroupVersionKind().Kind
		ref := kind + " " + obj.GetName()
		if obj.GetNamespace() != "" {
			ref = kind + " " + obj.GetNamespace() + "/" + obj.GetName()
		}
		up := byID[id(kind, obj.GetNamespace(), obj.GetName())]
		if up == nil {
			r.Added = append(r.Added, ref+addedWhy(kind))
			continue
		}
		matched[up] = true
		raw, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		var after map[string]any
		if err := json.Unmarshal(raw, &after); err != nil {
			return err
		}
		before := up.generic()
		for _, k := range []string{"labels", "annotations"} {
			if c := metadataChange(k, before, after); c != "" {
				labelChanges = append(labelChanges, Change{Object: ref, Path: "metadata." + k, Detail: c})
			}
		}
		for _, m := range []map[string]any{before, after} {
			delete(m, "status")
			if meta, ok := m["metadata"].(map[string]any); ok {
				for _, k := range []string{"labels", "annotations", "creationTimestamp", "namespace"} {
					delete(meta, k)
				}
			}
		}
		var cs []Change
		diff(&cs, ref, "", before, after)
		r.Changed = append(r.Changed, cs...)
	}
	r.Changed = append(hoist(labelChanges, len(matched)), r.Changed...)
	order := map[string]int{}
	for i, obj := range rendered {
		order[obj.GetObjectKind().GroupVersionKind().Kind+" "+strings.TrimPrefix(obj.GetNamespace()+"/"+obj.GetName(), "/")] = i + 1
	}
	slices.SortStableFunc(r.Changed, func(a, b Change) int { return order[a.Object] - order[b.Object] })
	for _, o := range in.all {
		if matched[o] {
			continue
		}
		r.NotRendered = append(r.NotRendered, Change{Object: o.ref(), Detail: notRenderedWhy(in, o)})
	}
	return nil
}

// hoist says a label or annotation change once when every adopted object has it, and
// the rest of it per object.
func hoist(cs []Change, objects int) []Change {
	count := map[string]int{}
	for _, c := range cs {
		for _, item := range strings.Split(c.Detail, ", ") {
			count[c.Path+"\x00"+item]++
		}
	}
	var common, out []Change
	seen := map[string]bool{}
	for _, c := range cs {
		var rest []string
		for _, item := range strings.Split(c.Detail, ", ") {
			k := c.Path + "\x00" + item
			switch {
			case count[k] < objects || objects < 2:
				rest = append(rest, item)
			case !seen[k]:
				seen[k] = true
				if i := slices.IndexFunc(common, func(x Change) bool { return x.Path == c.Path }); i >= 0 {
					common[i].Detail += ", " + item
				} else {
					common = append(common, Change{Path: c.Path, Detail: item})
				}
			}
		}
		if len(rest) > 0 {
			out = append(out, Change{Object: c.Object, Path: c.Path, Detail: strings.Join(rest, ", ")})
		}
	}
	return append(common, out...)
}

func namespaced(kind string) bool {
	switch kind {
	case "APIService", "ClusterRole", "ClusterRoleBinding", "Namespace", "CustomResourceDefinition",
		"PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "PodSecurityPolicy":
		return false
	}
	return true
}

func addedWhy(kind string) string {
	switch kind {
	case "Secret":
		return " (the serving certificate and key the pods mount)"
	case "ClusterRole":
		return " (a role the installation lacks)"
	case "ClusterRoleBinding", "RoleBinding":
		return " (a binding the installation lacks)"
	case "PodDisruptionBudget":
		return " (more than one replica: a drain keeps one serving)"
	case "Namespace":
		return " (spec.createNamespace)"
	}
	return ""
}

func notRenderedWhy(in *installation, o *Object) string {
	for _, v := range in.deployment.v.Spec.Template.Spec.Volumes {
		switch {
		case v.ConfigMap != nil && o.kind == "ConfigMap" && v.ConfigMap.Name == o.name:
			return "the pods mount it (volume " + v.Name + "): keep applying it alongside the render"
		case v.Secret != nil && o.kind == "Secret" && v.Secret.SecretName == o.name:
			if in.droppedVolumes[v.Name] {
				return "held the serving certificate: the render's serving Secret replaces it; delete it after the adoption"
			}
			return "the pods mount it (volume " + v.Name + "): keep applying it alongside the render"
		}
	}
	for _, g := range in.serverRoles[min(1, len(in.serverRoles)):] {
		if o == g.binding.Object || o == g.role.Object {
			return fmt.Sprintf("its rules are in %s now (spec.server.extraRules): delete it after the adoption", in.serverRoles[0].role.ref())
		}
	}
	switch o.kind {
	case "APIService":
		return "another server's APIService: import that server on its own"
	case "ClusterRoleBinding", "RoleBinding":
		return "grants to others than the server's ServiceAccount, or a role aggapi does not render: keep applying it alongside"
	case "ClusterRole", "Role":
		return "not one the server or its users' roles need as aggapi renders them: keep applying it alongside if something binds it"
	case "PodDisruptionBudget":
		if r := in.deployment.v.Spec.Replicas; r == nil || *r < 2 {
			return "one replica: aggapi renders no PodDisruptionBudget (and refuses one that allows no eviction: it blocks every drain); delete it after the adoption"
		}
	}
	return "aggapi does not render it: keep applying it alongside"
}

// metadataChange describes what the render adds to and changes in an object's labels
// or annotations; the installation's other keys are left as they are by server-side
// apply and dropped by a client-side apply or a replace.
func metadataChange(key string, before, after map[string]any) string {
	get := func(m map[string]any) map[string]any {
		meta, _ := m["metadata"].(map[string]any)
		l, _ := meta[key].(map[string]any)
		return l
	}
	b, a := get(before), get(after)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if ignored(k) && key == "annotations" && k != keys.DependsOnAnnotation {
			continue
		}
		old, ok := b[k]
		switch {
		case !ok:
			parts = append(parts, fmt.Sprintf("+%s=%v", k, a[k]))
		case old != a[k]:
			parts = append(parts, fmt.Sprintf("%s: %v → %v", k, old, a[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok && !ignored(k) {
			parts = append(parts, "-"+k)
		}
	}
	return strings.Join(parts, ", ")
}

// mergeKeys name the list items diff matches by key rather than by position.
var mergeKeys = []string{"name", "mountPath", "containerPort", "port"}

// diff appends what changes from before to after under path.
func diff(cs *[]Change, ref, path string, before, after any) {
	switch a := after.(type) {
	case map[string]any:
		b, ok := before.(map[string]any)
		if !ok {
			break
		}
		for _, k := range slices.Sorted(maps.Keys(a)) {
			diff(cs, ref, join(path, k), b[k], a[k])
		}
		for _, k := range slices.Sorted(maps.Keys(b)) {
			if _, ok := a[k]; !ok {
				*cs = append(*cs, Change{Object: ref, Path: join(path, k), Detail: "removed (was " + brief(b[k]) + ")"})
			}
		}
		return
	case []any:
		b, ok := before.([]any)
		if !ok {
			break
		}
		if key := listKey(a, b); key != "" {
			byKey := map[string]any{}
			for _, it := range b {
				byKey[fmt.Sprint(it.(map[string]any)[key])] = it
			}
			seen := map[string]bool{}
			for _, it := range a {
				k := fmt.Sprint(it.(map[string]any)[key])
				seen[k] = true
				diff(cs, ref, path+"["+k+"]", byKey[k], it)
			}
			for _, it := range b {
				if k := fmt.Sprint(it.(map[string]any)[key]); !seen[k] {
					*cs = append(*cs, Change{Object: ref, Path: path + "[" + k + "]", Detail: "removed"})
				}
			}
			return
		}
		if listOfMaps(a) && listOfMaps(b) {
			// Items without a key: say which come and which go.
			has := func(l []any, it any) bool {
				return slices.ContainsFunc(l, func(x any) bool { return brief(x) == brief(it) })
			}
			for _, it := range a {
				if !has(b, it) {
					*cs = append(*cs, Change{Object: ref, Path: path, Detail: "added item " + brief(it)})
				}
			}
			for _, it := range b {
				if !has(a, it) {
					*cs = append(*cs, Change{Object: ref, Path: path, Detail: "removed item " + brief(it)})
				}
			}
			return
		}
	}
	if strings.HasSuffix(path, "].args") {
		return // the report's droppedArgs and the config's args say it
	}
	if strings.HasSuffix(path, "caBundle") {
		*cs = append(*cs, Change{Object: ref, Path: path, Detail: "the CA of the render's serving certificate"})
		return
	}
	if before == nil {
		if after != nil && !emptyValue(after) {
			*cs = append(*cs, Change{Object: ref, Path: path, Detail: "added: " + brief(after)})
		}
		return
	}
	if fmt.Sprint(normal(before)) != fmt.Sprint(normal(after)) {
		*cs = append(*cs, Change{Object: ref, Path: path, Detail: brief(before) + " → " + brief(after)})
	}
}

func listOfMaps(l []any) bool {
	for _, it := range l {
		if _, ok := it.(map[string]any); !ok {
			return false
		}
	}
	return len(l) > 0
}

func emptyValue(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// normal makes JSON numbers and strings that hold the same value compare equal.
func normal(v any) any {
	if f, ok := v.(float64); ok {
		return fmt.Sprint(int64(f))
	}
	return v
}

// listKey is the merge key every item of both lists has, or "".
func listKey(lists ...[]any) string {
	for _, k := range mergeKeys {
		ok := true
		for _, l := range lists {
			for _, it := range l {
				m, isMap := it.(map[string]any)
				if !isMap || m[k] == nil {
					ok = false
				}
			}
		}
		if ok {
			return k
		}
	}
	return ""
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// brief is a value as compact JSON, cut to a readable length.
func brief(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
