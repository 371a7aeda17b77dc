package render

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/internal/yamlenc"
	"github.com/aggapi/aggapi/fn/provenance"
)

// ConfigDigest is the digest of a defaulted config: its apiVersion, kind, name and
// canonical spec (config.Canonical), in canonical form, so formatting, comments,
// spelled-out defaults and the tools' annotations do not change it.
func ConfigDigest(api *config.AggregatedAPI) (string, error) {
	n, err := yamlenc.Encode(&config.AggregatedAPI{
		TypeMeta:   api.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: api.Name},
		Spec:       api.Canonical(),
	})
	if err != nil {
		return "", err
	}
	return provenance.Digest(n), nil
}
