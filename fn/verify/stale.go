package verify

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/keys"
	"github.com/aggapi/aggapi/fn/provenance"
	"github.com/aggapi/aggapi/fn/sops"
)

// The stamps a render leaves on every object it generates (fn/keys defines them;
// verify reads them without importing the renderer).
const (
	ownerLabel             = keys.OwnerLabel
	configDigestAnnotation = keys.ConfigDigestAnnotation
	versionAnnotation      = keys.VersionAnnotation
)

// Rerender says how to refresh a stale render.
const Rerender = "re-render and commit the output: `kustomize build --enable-alpha-plugins --enable-exec DIR` " +
	"(with --enable-alpha-plugins alone kustomize skips the function and exits 0) or `kpt fn render --allow-exec PKG`"

// Config is an AggregatedAPI the manifests must have been rendered from.
type Config struct {
	// Name is the config's metadata.name, the value of the owner label of its objects.
	Name string
	// Digest is its config digest (render.ConfigDigest).
	Digest string
	// Source is where it was read, for messages.
	Source string
	// Timing is its renewBefore and overlap.
	Timing Timing
	// PodTemplate is what is wrong with its pod template (PodTemplateFindings); Stale
	// reports it with the config.
	PodTemplate []Finding
}

// maxKept bounds the whole objects Stamps keeps to name the fields of an edit.
const maxKept = 512

// Stamps keeps what `verify --config` reads of each generated object as a Reader
// decodes it: owner, identity, config digest and version (a few short strings, not the
// object), and whether it still matches its rendered digest. Call Add before anything
// prunes the object.
type Stamps struct {
	// CheckEdits makes Add note the objects that changed after aggapi rendered them
	// (set for each input: the rendered files, not a deploy layer's build on stdin).
	CheckEdits bool
	// KeepOwned keeps the objects of these configs whole, up to maxKept in all, so
	// the fields of an edit can be named by rendering the config over them.
	KeepOwned map[string]bool

	objects  []stamped
	kept     []*yaml.RNode
	overKept bool
}

type stamped struct {
	owner, object, digest, version string
	edited                         bool
}

// Add records n if it carries an owner label, and returns n unchanged.
func (s *Stamps) Add(n *yaml.RNode) *yaml.RNode {
	owner := str(n, "metadata", "labels", ownerLabel)
	if owner == "" {
		return n
	}
	// A SOPS-encrypted object cannot match: its digest is of the plaintext. The render
	// checks it once decrypted.
	edited := s.CheckEdits && sops.Encryption(n) == "" && provenance.Edited(n)
	s.objects = append(s.objects, stamped{owner, describe(n), annotation(n, configDigestAnnotation), annotation(n, versionAnnotation), edited})
	if s.KeepOwned[owner] {
		if len(s.kept) < maxKept {
			s.kept = append(s.kept, n.Copy())
		} else {
			s.overKept = true
		}
	}
	return n
}

// Owned is the objects of config name kept whole (KeepOwned), in input order; nil when
// there were more than Stamps keeps.
func (s *Stamps) Owned(name string) []*yaml.RNode {
	if s.overKept {
		return nil
	}
	var out []*yaml.RNode
	for _, n := range s.kept {
		if str(n, "metadata", "labels", ownerLabel) == name {
			out = append(out, n)
		}
	}
	return out
}

// Edited is an object that no longer matches its rendered digest.
type Edited struct {
	// Owner is its config, Object its kind, namespace and name (as findings name it).
	Owner, Object string
}

// Edited lists the objects that changed after aggapi rendered them (with CheckEdits).
func (s *Stamps) Edited() []Edited {
	var out []Edited
	for _, o := range s.objects {
		if o.edited {
			out = append(out, Edited{o.owner, o.object})
		}
	}
	return out
}

// Edits reports each object that changed after aggapi rendered it, at severity sev,
// with the changed field paths fields gives (nil when they are not known).
func (s *Stamps) Edits(sev Severity, fields func(Edited) []string) []Finding {
	var out []Finding
	for _, e := range s.Edited() {
		what := "verify names the changed fields when it can render the config again: with --config, and the Secret decrypted"
		if paths := fields(e); len(paths) > 0 {
			what = "changed: " + list(paths)
		}
		out = append(out, Finding{sev, e.Object, fmt.Sprintf(
			"changed after aggapi rendered it: it no longer matches its %s (%s). The next render of AggregatedAPI %s writes it back as the config says: "+
				"put the change in the config, or in a kustomization over the rendered output (a deploy layer), and re-render",
			keys.RenderedDigestAnnotation, what, e.Owner)})
	}
	return out
}

// Stale checks that nodes hold objects rendered from each config and that every one of
// them carries that config's digest: a render that was skipped, or not redone after
// the config changed, fails here.
func Stale(nodes []*yaml.RNode, configs []Config) []Finding {
	var s Stamps
	for _, n := range nodes {
		s.Add(n)
	}
	return s.Stale(configs)
}

// Stale is the package function Stale over the recorded objects.
func (s *Stamps) Stale(configs []Config) []Finding {
	var findings []Finding
	for _, c := range configs {
		object := fmt.Sprintf("AggregatedAPI %s (%s)", c.Name, c.Source)
		findings = append(findings, c.PodTemplate...)
		var unstamped, other, from []string
		owned := 0
		for _, o := range s.objects {
			if o.owner != c.Name {
				continue
			}
			owned++
			switch {
			case o.digest == "":
				unstamped = append(unstamped, o.object)
			case o.digest != c.Digest:
				other = append(other, o.object)
				f := short(o.digest)
				if o.version != "" {
					f += " by aggapi " + o.version
				}
				if !slices.Contains(from, f) {
					from = append(from, f)
				}
			}
		}
		switch {
		case owned == 0:
			findings = append(findings, Finding{Error, object, fmt.Sprintf(
				"no object in the manifests was rendered from this config (none has the label %s: %s): the function did not run, or its output is elsewhere; %s",
				ownerLabel, c.Name, Rerender)})
			continue
		case len(other) > 0:
			findings = append(findings, Finding{Error, object, fmt.Sprintf(
				"the render is stale: %d of %d object(s) were rendered from another config (%s) than this one (%s): %s; %s",
				len(other), owned, strings.Join(from, "; "), short(c.Digest), list(other), Rerender)})
		}
		if len(unstamped) > 0 {
			findings = append(findings, Finding{Error, object, fmt.Sprintf(
				"%d of %d object(s) carry no %s annotation (rendered by an aggapi without stamps, or written by hand), so nothing shows they match this config: %s; %s",
				len(unstamped), owned, configDigestAnnotation, list(unstamped), Rerender)})
		}
	}
	return findings
}

func describe(n *yaml.RNode) string {
	if ns := n.GetNamespace(); ns != "" {
		return n.GetKind() + " " + ns + "/" + n.GetName()
	}
	return n.GetKind() + " " + n.GetName()
}

// short abbreviates a digest for messages, as Git abbreviates commits.
func short(digest string) string {
	if i := strings.IndexByte(digest, ':'); i >= 0 && len(digest) > i+13 {
		return digest[:i+13]
	}
	return digest
}

// list names up to 24 objects (a render of several versions) and counts the rest.
func list(names []string) string {
	const max = 24
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
