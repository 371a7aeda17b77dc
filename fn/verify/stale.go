package verify

import (
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The stamps a render leaves on every object it generates (fn/provenance defines them;
// verify reads them without importing the renderer).
const (
	ownerLabel             = "aggapi.dev/owner"
	configDigestAnnotation = "aggapi.dev/config-digest"
	versionAnnotation      = "aggapi.dev/version"
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
}

// Stamps keeps what `verify --config` reads of each generated object as a Reader
// decodes it: owner, identity, config digest and version (a few short strings, not the
// object). Call Add before anything prunes the object.
type Stamps struct {
	objects []stamped
}

type stamped struct {
	owner, object, digest, version string
}

// Add records n if it carries an owner label, and returns n unchanged.
func (s *Stamps) Add(n *yaml.RNode) *yaml.RNode {
	if owner := str(n, "metadata", "labels", ownerLabel); owner != "" {
		s.objects = append(s.objects, stamped{owner, describe(n), annotation(n, configDigestAnnotation), annotation(n, versionAnnotation)})
	}
	return n
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
