package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/aggapi/aggapi/fn/internal/yamlenc"
	"github.com/aggapi/aggapi/fn/manifests"
)

func init() { manifests.TemplateToMap = templateToMap }

// templateToMap encodes a pod template with yamlenc and decodes the YAML node into the
// map strategic merge works on.
func templateToMap(t *corev1.PodTemplateSpec) (map[string]any, error) {
	n, err := yamlenc.Encode(t)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, n.Decode(&m)
}
