package manifests

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
)

// Service fronts the server pods on spec.service.port; its targetPort is the container
// port. A separate metrics port (spec.server.metrics.port) is a second port, named metrics.
// In openshift mode the service-ca operator issues the serving Secret for it.
func Service(api *config.AggregatedAPI, n Names) *corev1.Service {
	m := meta(api, n.Service, api.Spec.Namespace)
	maps.Copy(m.Labels, api.Spec.Service.Labels) // validated: never one of the function's labels
	m.Annotations = annotations(api, api.Spec.Service.Annotations)
	if api.Spec.Certificate.Mode == config.ModeOpenShift {
		m.Annotations = annotations(api, api.Spec.Service.Annotations, map[string]string{keys.OpenShiftServingCertAnnotation: n.Secret})
	}
	ports := []corev1.ServicePort{{
		Name:       httpsPortName,
		Protocol:   corev1.ProtocolTCP,
		Port:       api.Spec.Service.Port,
		TargetPort: intstr.FromInt32(api.Spec.Server.Port),
	}}
	if mp := metricsPort(api); mp != 0 {
		ports = append(ports, corev1.ServicePort{Name: metricsPortName, Protocol: corev1.ProtocolTCP, Port: mp, TargetPort: intstr.FromInt32(mp)})
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			Selector: selector(api),
			Ports:    ports,
		},
	}
}
