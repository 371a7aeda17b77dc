package manifests

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// ServingSecret holds the serving certificate, its key and the CA that signed it.
func ServingSecret(api *config.AggregatedAPI, n Names, m SecretPEM) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta(api, n.Secret, api.Spec.Namespace),
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:              m.CertPEM,
			corev1.TLSPrivateKeyKey:        m.KeyPEM,
			corev1.ServiceAccountRootCAKey: m.CAPEM,
		},
	}
}
