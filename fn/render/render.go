package render

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/manifests"
	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/provenance"
	"github.com/aggapi/aggapi/fn/version"
)

// Output is what one run produces. On failure Items are the input items unchanged.
type Output struct {
	Items   []*yaml.RNode
	Results []Result
	// Failed is true when Results hold an error: the caller must exit non-zero.
	Failed bool
	// OmitFunctionConfig is true when the config was refused for its size: writing it
	// back would cost more than everything else (half a GB for 150,000 keys).
	OmitFunctionConfig bool
}

// Option tunes Process.
type Option func(*run)

// WithProgress sends what a user waits on (slow key generation) to w as it happens;
// results come only at the end.
func WithProgress(w io.Writer) Option { return func(r *run) { r.progress = w } }

// WithKeySource makes the render's keys with keys instead of pki.GenerateKey.
func WithKeySource(keys pki.KeySource) Option { return func(r *run) { r.issuer.Keys = keys } }

// Process runs the function over items with the given functionConfig at time now.
func Process(items []*yaml.RNode, fnConfig *yaml.RNode, now time.Time, opts ...Option) Output {
	r := &run{items: items, now: now, progress: io.Discard}
	for _, o := range opts {
		o(r)
	}
	if err := r.process(fnConfig); err != nil {
		r.fail(err.Error(), "")
	}
	if r.failed {
		return Output{Items: items, Results: r.results, Failed: true, OmitFunctionConfig: r.configTooLarge}
	}
	return Output{Items: r.out, Results: r.results}
}

type run struct {
	items []*yaml.RNode
	now   time.Time
	ref   *yaml.ResourceIdentifier
	file  *File // where the config came from, when kpt or kustomize said so
	// configTooLarge: the config was refused for its size.
	configTooLarge bool
	results        []Result
	failed         bool
	out            []*yaml.RNode
	edits          []edit
	// progress receives notes before slow steps.
	progress io.Writer
	// issuer makes the CA and serving certificate (its key source: WithKeySource).
	issuer pki.Issuer
}

// fail records an error result; fieldPath names the config field, or is empty.
func (r *run) fail(msg, fieldPath string) {
	r.failed = true
	r.results = append(r.results, Result{Severity: Error, Message: msg, ResourceRef: r.ref, FieldPath: fieldPath, File: r.file})
}

func (r *run) info(msg string) {
	r.results = append(r.results, Result{Severity: Info, Message: msg, ResourceRef: r.ref, File: r.file})
}

func (r *run) warn(msg string) {
	r.results = append(r.results, Result{Severity: Warning, Message: msg, ResourceRef: r.ref, File: r.file})
}

func (r *run) process(fnConfig *yaml.RNode) error {
	for i, it := range r.items {
		if err := checkItem(i, it.YNode()); err != nil {
			return err
		}
	}
	if fnConfig == nil || fnConfig.IsNilOrEmpty() {
		return fmt.Errorf("no functionConfig: pass an %s %s as the function's config", config.APIVersion, config.Kind)
	}
	if fnConfig.YNode().Kind != yaml.MappingNode {
		return fmt.Errorf("functionConfig is not an object: pass an %s %s", config.APIVersion, config.Kind)
	}
	r.ref = &yaml.ResourceIdentifier{
		TypeMeta: yaml.TypeMeta{APIVersion: fnConfig.GetApiVersion(), Kind: fnConfig.GetKind()},
		NameMeta: yaml.NameMeta{Name: fnConfig.GetName(), Namespace: fnConfig.GetNamespace()},
	}
	r.file = fileOf(fnConfig)
	// JSON straight from the node, within the config's limits: encoding YAML only to
	// parse it again costs seconds on a multi-megabyte config, and yaml.v3's decoder
	// compares every pair of keys of a mapping.
	api, errs := config.LoadNode(fnConfig.YNode())
	if len(errs) > 0 {
		r.configTooLarge = config.TooLarge(errs)
		for _, e := range errs {
			r.fail(fieldMessage(e), e.Field)
		}
		return nil
	}
	for _, w := range api.Warnings() {
		r.results = append(r.results, Result{Severity: Warning, Message: "`" + w.Field + "`: " + w.Message, ResourceRef: r.ref, FieldPath: w.Field, File: r.file})
	}

	if errs := manifests.CheckPodTemplate(api); len(errs) > 0 {
		for _, e := range errs {
			r.fail(fieldMessage(e), e.Field)
		}
		return nil
	}

	owned, foreign, strays := partition(r.items, api.Name)
	r.refuseStrays(strays, api.Name)
	names := api.ObjectNames()
	r.checkEncrypted(r.items, api.Name, objectID("v1", "Secret", api.Spec.Namespace, names.Secret))
	if r.failed {
		return nil
	}
	configDigest, err := ConfigDigest(api)
	if err != nil {
		return err
	}
	material, err := r.certificates(api, names, owned)
	if err != nil {
		return err
	}
	generated, err := manifests.Build(api, material)
	if err != nil {
		return err
	}

	foreignIDs := map[string]*yaml.RNode{}
	for _, it := range foreign {
		foreignIDs[idOf(it)] = it
	}
	ownedByID := map[string]*yaml.RNode{}
	for _, it := range owned {
		ownedByID[idOf(it)] = it
	}
	var out []*yaml.RNode
	for _, obj := range generated {
		node, err := toRNode(obj)
		if err != nil {
			return err
		}
		id := idOf(node)
		if other, clash := foreignIDs[id]; clash {
			if node.GetKind() == "Namespace" {
				// A Namespace the user manages already: theirs stays, ours is not needed.
				continue
			}
			if node.GetKind() == "APIService" {
				// Its name is <version>.<group>: it cannot be renamed, only left to its owner.
				return fmt.Errorf("APIService %q is already in the input and not generated by this config (%s): another provider owns that version; set createAPIService: false on it to leave the APIService to them",
					node.GetName(), ownerOf(other))
			}
			return fmt.Errorf("%s %q is already in the input and not generated by this config (%s); rename one of them",
				node.GetKind(), qualifiedName(node), ownerOf(other))
		}
		if err := provenance.Stamp(node, configDigest, version.String()); err != nil {
			return err
		}
		if prev, ok := ownedByID[id]; ok {
			r.checkEdit(prev, node)
			keepToolAnnotations(prev, node)
		}
		if f := api.Spec.Certificate.SecretFile; f != "" && node.GetKind() == "Secret" {
			// kpt writes an object to the file its path annotations name.
			for _, k := range []string{keys.LegacyPathAnnotation, keys.PathAnnotation} { // sorted, as keepToolAnnotations writes them
				if err := node.PipeE(yaml.SetAnnotation(k, f)); err != nil {
					return err
				}
			}
		}
		out = append(out, node)
	}
	r.reportEdits(api.Spec.Server.ContainerName)
	r.warnDroppedNamespaces(api, owned, out)
	r.noteDropped(owned, out)
	r.out = append(foreign, out...)
	return nil
}

// warnDroppedNamespaces says when a Namespace of the previous render is no longer
// generated: a GitOps tool that prunes would delete it, and everything in it.
func (r *run) warnDroppedNamespaces(api *config.AggregatedAPI, owned, out []*yaml.RNode) {
	for _, prev := range owned {
		if prev.GetKind() != "Namespace" || slices.ContainsFunc(out, func(n *yaml.RNode) bool {
			return n.GetKind() == "Namespace" && n.GetName() == prev.GetName()
		}) {
			continue
		}
		why := "spec.createNamespace is false"
		switch {
		case config.IsSystemNamespace(prev.GetName()):
			why = "the cluster itself owns it"
		case prev.GetName() != api.Spec.Namespace:
			why = "spec.namespace is now " + api.Spec.Namespace
		}
		r.warn(fmt.Sprintf("Namespace %s from the previous render is no longer generated (%s): make sure your GitOps tool does not prune it (Argo CD: argocd.argoproj.io/sync-options: Prune=false; Flux: kustomize.toolkit.fluxcd.io/prune: disabled), or it deletes everything in it", prev.GetName(), why))
	}
}

func qualifiedName(n *yaml.RNode) string {
	if ns := n.GetNamespace(); ns != "" {
		return ns + "/" + n.GetName()
	}
	return n.GetName()
}

func ownerOf(n *yaml.RNode) string {
	if o := n.GetLabels()[keys.OwnerLabel]; o != "" {
		return "generated by " + config.Kind + " " + o
	}
	return "no " + keys.OwnerLabel + " label"
}

// keepToolAnnotations carries kpt's and kustomize's location annotations (file
// path, index, ids: keys.IsLocationAnnotation) from the previous version of an object to the new one, so an
// in-place re-render writes the object back where it was.
func keepToolAnnotations(prev, next *yaml.RNode) {
	annotations := prev.GetAnnotations()
	var carried []string // sorted, so a re-render writes them in the same order
	for k := range annotations {
		if keys.IsLocationAnnotation(k) {
			carried = append(carried, k)
		}
	}
	slices.Sort(carried)
	for _, k := range carried {
		_ = next.PipeE(yaml.SetAnnotation(k, annotations[k]))
	}
}

// fieldMessage spells a config error: the field path in backticks, as kpt shows it,
// unless the error is about the config as a whole.
func fieldMessage(e *field.Error) string {
	if e.Field == "" || e.Field == "[]" {
		if _, omit := e.BadValue.(field.OmitValueType); omit || e.BadValue == nil {
			return e.Detail
		}
		return e.ErrorBody()
	}
	return fmt.Sprintf("`%s`: %s", e.Field, e.ErrorBody())
}

// fileOf reads the file a config came from out of the annotations kpt and kustomize set.
func fileOf(n *yaml.RNode) *File {
	a := n.GetAnnotations()
	for _, k := range [...][2]string{{keys.PathAnnotation, keys.IndexAnnotation}, {keys.LegacyPathAnnotation, keys.LegacyIndexAnnotation}} {
		if p := a[k[0]]; p != "" {
			f := &File{Path: p}
			f.Index, _ = strconv.Atoi(a[k[1]])
			return f
		}
	}
	return nil
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
