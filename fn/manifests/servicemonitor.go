package manifests

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
)

// The monitoring.coreos.com/v1 ServiceMonitor with just the fields we set, as
// prometheus-operator's CRD (example/prometheus-operator-crd) spells them: importing
// prometheus-operator would pull its whole API tree into the function.

// ServiceMonitor is a Prometheus Operator ServiceMonitor.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

// ServiceMonitorSpec selects the Service and says how to scrape its pods.
type ServiceMonitorSpec struct {
	Selector  metav1.LabelSelector     `json:"selector"`
	Endpoints []ServiceMonitorEndpoint `json:"endpoints"`
}

// ServiceMonitorEndpoint is one scraped port of the Service.
type ServiceMonitorEndpoint struct {
	Port            string            `json:"port"`
	Scheme          string            `json:"scheme"`
	Path            string            `json:"path"`
	Interval        string            `json:"interval,omitempty"`
	BearerTokenFile string            `json:"bearerTokenFile,omitempty"`
	TLSConfig       *MonitorTLSConfig `json:"tlsConfig,omitempty"`
}

// MonitorTLSConfig verifies the scraped server: the CA from a Secret, and the name the
// serving certificate is issued for (Prometheus dials pod IPs, which it does not hold).
type MonitorTLSConfig struct {
	CA         MonitorSecretOrConfigMap `json:"ca"`
	ServerName string                   `json:"serverName"`
}

// MonitorSecretOrConfigMap is prometheus-operator's SecretOrConfigMap, here always a Secret key.
type MonitorSecretOrConfigMap struct {
	Secret *corev1.SecretKeySelector `json:"secret"`
}

// DeepCopyObject makes ServiceMonitor a runtime.Object; it is built once and never shared.
func (s *ServiceMonitor) DeepCopyObject() runtime.Object { c := *s; return &c }

// serviceAccountTokenFile is where Prometheus reads its own ServiceAccount token.
const serviceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token" //nolint:gosec // G101: a path in Prometheus' pod, not a credential

// metricsPortName names the separate metrics port of spec.server.metrics.port.
const metricsPortName = "metrics"

// ServiceMonitorObject scrapes the server's /metrics. On the secure port it is HTTPS
// verified against the CA in the serving Secret's ca.crt (modes generate and
// cert-manager; Validate refuses the others) for <service>.<namespace>.svc, with
// Prometheus' ServiceAccount token as bearer token, which a k8s.io/apiserver server
// authorizes by a delegated SubjectAccessReview of get on the non-resource URL /metrics.
// Prometheus Operator documents bearerTokenFile for this (the kube-apiserver's and
// kubelets' ServiceMonitors use it); the token only goes to a server whose certificate
// verifies. A separate metrics port is scraped over plain HTTP.
func ServiceMonitorObject(api *config.AggregatedAPI, n Names) *ServiceMonitor {
	m := api.Spec.Server.Metrics
	ep := ServiceMonitorEndpoint{Port: metricsPortName, Scheme: "http", Path: "/metrics", Interval: m.ServiceMonitor.Interval}
	if m.Port == 0 {
		ep.Port, ep.Scheme = httpsPortName, "https"
		ep.BearerTokenFile = serviceAccountTokenFile
		ep.TLSConfig = &MonitorTLSConfig{
			CA: MonitorSecretOrConfigMap{Secret: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: n.Secret}, Key: corev1.ServiceAccountRootCAKey,
			}},
			ServerName: api.ServingDNSNames()[0],
		}
	}
	return &ServiceMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "ServiceMonitor"},
		ObjectMeta: meta(api, n.ServiceMonitor, api.Spec.Namespace),
		Spec: ServiceMonitorSpec{
			// The owner label is on the one Service of this config in its namespace.
			Selector:  metav1.LabelSelector{MatchLabels: map[string]string{keys.OwnerLabel: api.Name}},
			Endpoints: []ServiceMonitorEndpoint{ep},
		},
	}
}

// metricsPort is spec.server.metrics.port, 0 when the secure port serves /metrics.
func metricsPort(api *config.AggregatedAPI) int32 {
	if m := api.Spec.Server.Metrics; m != nil {
		return m.Port
	}
	return 0
}
