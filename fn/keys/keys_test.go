package keys

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
)

// Whatever a re-render carries over from the previous object must never count as an
// edit: the location keys are a subset of the tool keys.
func TestLocationAnnotationsAreToolAnnotations(t *testing.T) {
	t.Parallel()
	for _, k := range []string{
		kioutil.PathAnnotation, kioutil.IndexAnnotation, kioutil.IdAnnotation, kioutil.SeqIndentAnnotation,
		kioutil.LegacyPathAnnotation, kioutil.LegacyIndexAnnotation, kioutil.LegacyIdAnnotation,
		kioutil.InternalAnnotationsMigrationResourceIDAnnotation,
	} {
		if !IsLocationAnnotation(k) {
			t.Errorf("%s: not carried to the re-rendered object", k)
		}
		if !IsToolAnnotation(k) {
			t.Errorf("%s: carried but not a tool annotation", k)
		}
	}
	for _, p := range toolPrefixes {
		if k := p + "anything"; IsLocationAnnotation(k) && !IsToolAnnotation(k) {
			t.Errorf("%s: carried but not a tool annotation", k)
		}
	}
	// What says what an object is, or is the function's own, is never carried.
	for _, k := range []string{
		DependsOnAnnotation, "config.kubernetes.io/function", "config.kubernetes.io/local-config",
		"kustomize.config.k8s.io/behavior", OwnerLabel, ConfigDigestAnnotation, VersionAnnotation,
		RenderedDigestAnnotation, CertHashAnnotation, CABundleHashAnnotation,
	} {
		if IsLocationAnnotation(k) {
			t.Errorf("%s: carried to the re-rendered object", k)
		}
	}
	for _, k := range []string{OwnerLabel, ConfigDigestAnnotation, VersionAnnotation, RenderedDigestAnnotation, CertHashAnnotation, CABundleHashAnnotation} {
		if IsToolAnnotation(k) {
			t.Errorf("%s: the function's own key read as a tool's", k)
		}
	}
}

// kioutil does not export its prefix: ours must be the one its keys use.
func TestInternalPrefixIsKioutils(t *testing.T) {
	t.Parallel()
	for _, k := range []string{kioutil.PathAnnotation, kioutil.IndexAnnotation, kioutil.IdAnnotation} {
		if !strings.HasPrefix(k, InternalPrefix) {
			t.Errorf("%s does not start with %s", k, InternalPrefix)
		}
	}
}

// TestToolKeysAreKioutils: the tools' keys spelled in this package are kyaml's.
func TestToolKeysAreKioutils(t *testing.T) {
	t.Parallel()
	for ours, theirs := range map[string]string{
		PathAnnotation:        string(kioutil.PathAnnotation),
		LegacyPathAnnotation:  kioutil.LegacyPathAnnotation,
		IndexAnnotation:       string(kioutil.IndexAnnotation),
		LegacyIndexAnnotation: kioutil.LegacyIndexAnnotation,
		LegacyIDAnnotation:    kioutil.LegacyIdAnnotation,
	} {
		if ours != theirs {
			t.Errorf("%q is %q in kioutil", ours, theirs)
		}
	}
}
