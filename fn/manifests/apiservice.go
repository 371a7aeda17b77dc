package manifests

import (
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
)

// APIService registers one version of the group with the kube-aggregator, trusting
// caBundle for the Service's serving certificate. It never skips TLS verification.
func APIService(api *config.AggregatedAPI, v config.Version, caBundle []byte) *apiregv1.APIService {
	return &apiregv1.APIService{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiregistration.k8s.io/v1", Kind: "APIService"},
		ObjectMeta: meta(api, api.APIServiceName(v.Name), ""),
		Spec: apiregv1.APIServiceSpec{
			Group:   api.Spec.Group,
			Version: v.Name,
			Service: &apiregv1.ServiceReference{
				Namespace: api.Spec.Namespace,
				Name:      api.Spec.Service.Name,
				Port:      ptr.To(api.Spec.Service.Port),
			},
			CABundle:             caBundle,
			GroupPriorityMinimum: api.Spec.GroupPriorityMinimum,
			VersionPriority:      v.VersionPriority,
		},
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
