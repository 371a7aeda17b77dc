package render

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/aggapi/aggapi/fn/manifests"
)

func init() { manifests.TemplateToMap = templateToMap }

// templateToMap encodes a pod template with the render's encoder (walking the values
// that are set) and decodes the YAML node into the map strategic merge works on.
func templateToMap(t *corev1.PodTemplateSpec) (map[string]any, error) {
	n, err := encodeObject(t)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, n.Decode(&m)
}
