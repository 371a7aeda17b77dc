package render

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/internal/yamlenc"
	"github.com/aggapi/aggapi/fn/provenance"
	"github.com/aggapi/aggapi/fn/version"
)

// ConfigDigest is the digest of a defaulted config: its apiVersion, kind, name and
// spec, in canonical form, so formatting, comments, spelled-out defaults and the
// tools' annotations do not change it.
func ConfigDigest(api *config.AggregatedAPI) (string, error) {
	n, err := yamlenc.Encode(&config.AggregatedAPI{
		TypeMeta:   api.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: api.Name},
		Spec:       api.Spec,
	})
	if err != nil {
		return "", err
	}
	return provenance.Digest(n), nil
}

// stampObject marks a generated object with the config digest and aggapi's version.
func stampObject(n *yaml.RNode, configDigest string) error {
	if err := n.PipeE(yaml.SetAnnotation(provenance.ConfigDigestAnnotation, configDigest)); err != nil {
		return err
	}
	return n.PipeE(yaml.SetAnnotation(provenance.VersionAnnotation, version.String()))
}
