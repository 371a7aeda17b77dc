package manifests

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// ServiceAccount is the identity the server authenticates to the kube-apiserver with.
func ServiceAccount(api *config.AggregatedAPI, n Names) *corev1.ServiceAccount {
	m := meta(api, n.ServiceAccount, api.Spec.Namespace)
	m.Annotations = annotations(api, api.Spec.ServiceAccount.Annotations)
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: m,
	}
}
