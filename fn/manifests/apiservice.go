package manifests

import (
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
)

// APIService registers one version of the group with the kube-aggregator, trusting
// caBundle for the Service's serving certificate, or asking cert-manager's cainjector
// or OpenShift's service-ca to fill it in. It never skips TLS verification.
func APIService(api *config.AggregatedAPI, g config.APIGroup, v config.Version, caBundle []byte) *apiregv1.APIService {
	n := api.ObjectNames()
	m := meta(api, config.APIServiceName(g.Group, v.Name), "")
	m.Annotations = annotations(api, map[string]string{
		// Apply the backend first and delete it last: an APIService without a ready
		// backend turns discovery partial for the whole cluster (and blocks namespace
		// deletion). kpt live apply reads depends-on; Argo CD syncs waves in order and
		// prunes in reverse.
		keys.DependsOnAnnotation: "apps/namespaces/" + api.Spec.Namespace + "/Deployment/" + n.Deployment,
		keys.SyncWaveAnnotation:  "1",
	})
	switch api.Spec.Certificate.Mode {
	case config.ModeCertManager:
		m.Annotations[keys.CertManagerInjectAnnotation] = api.Spec.Namespace + "/" + n.ServingCertificate
	case config.ModeOpenShift:
		m.Annotations[keys.OpenShiftInjectAnnotation] = "true"
	}
	return &apiregv1.APIService{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiregistration.k8s.io/v1", Kind: "APIService"},
		ObjectMeta: m,
		Spec: apiregv1.APIServiceSpec{
			Group:   g.Group,
			Version: v.Name,
			Service: &apiregv1.ServiceReference{
				Namespace: api.Spec.Namespace,
				Name:      n.Service,
				Port:      ptr.To(api.Spec.Service.Port),
			},
			CABundle:             caBundle,
			GroupPriorityMinimum: g.GroupPriorityMinimum,
			VersionPriority:      v.VersionPriority,
		},
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
