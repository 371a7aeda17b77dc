package manifests

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// Namespace is the namespace the server runs in.
func Namespace(api *config.AggregatedAPI, n Names) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: meta(api, n.Namespace, ""),
	}
}
