package manifests

import (
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/keys"
)

const (
	managedBy = "aggapi"

	certMountPath  = "/var/run/aggapi/serving-cert"
	httpsPortName  = "https"
	authReaderRole = "extension-apiserver-authentication-reader"
	authDelegator  = "system:auth-delegator"
	kubeSystem     = "kube-system"
)

// Object is a typed Kubernetes object with metadata.
type Object interface {
	runtime.Object
	metav1.Object
}

// Names are the names of the generated objects, derived by config's ObjectNames.
type Names = config.Names

// labels are spec.commonLabels and the function's own labels.
func labels(api *config.AggregatedAPI) map[string]string {
	l := make(map[string]string, len(api.Spec.CommonLabels)+3)
	maps.Copy(l, api.Spec.CommonLabels)
	l[keys.OwnerLabel] = api.Name
	l[keys.NameLabel] = api.Name
	l[keys.ManagedByLabel] = managedBy
	return l
}

// annotations are spec.commonAnnotations plus extra, nil when there are none.
func annotations(api *config.AggregatedAPI, extra ...map[string]string) map[string]string {
	n := len(api.Spec.CommonAnnotations)
	for _, m := range extra {
		n += len(m)
	}
	if n == 0 {
		return nil
	}
	a := make(map[string]string, n)
	maps.Copy(a, api.Spec.CommonAnnotations)
	for _, m := range extra {
		maps.Copy(a, m)
	}
	return a
}

// selector selects the server's pods: spec.server.selectorLabels or their default.
func selector(api *config.AggregatedAPI) map[string]string {
	return api.SelectorLabels()
}

func meta(api *config.AggregatedAPI, name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels(api), Annotations: annotations(api)}
}

// Material is the certificate PEM the objects carry.
type Material struct {
	// CABundle is what the APIServices trust (one or more CA certificates); empty
	// when cert-manager's cainjector or OpenShift's service-ca fills it in the cluster.
	CABundle []byte
	// Secret is the serving Secret's PEM; nil when the Secret is not ours to emit.
	Secret *SecretPEM
	// PodAnnotations go on the pod template, so a new certificate rolls the pods.
	PodAnnotations map[string]string
}

// SecretPEM fills the serving Secret.
type SecretPEM struct {
	CertPEM []byte
	KeyPEM  []byte
	CAPEM   []byte
}

// Build returns every object of the aggregated API, in a fixed order: namespace,
// identity, certificates, RBAC, network, workload, then the APIServices, which make
// the kube-aggregator start routing to the server. It fails only when
// spec.server.podTemplate cannot be merged (CheckPodTemplate says why first).
func Build(api *config.AggregatedAPI, m Material) ([]Object, error) {
	names := api.ObjectNames()
	var objs []Object
	if api.EmitsNamespace() {
		objs = append(objs, Namespace(api, names))
	}
	objs = append(objs, ServiceAccount(api, names))
	if m.Secret != nil {
		objs = append(objs, ServingSecret(api, names, *m.Secret))
	}
	if api.Spec.Certificate.Mode == config.ModeCertManager {
		objs = append(objs, CertManagerObjects(api, names)...)
	}
	objs = append(objs,
		ServerClusterRole(api, names),
		ServerClusterRoleBinding(api, names),
		AuthDelegatorBinding(api, names),
		AuthReaderBinding(api, names),
	)
	objs = append(objs, UserRoles(api, names)...)
	deployment, err := Deployment(api, names, m)
	if err != nil {
		return nil, err
	}
	objs = append(objs, Service(api, names), deployment)
	if api.Spec.Server.Replicas > 1 || api.Spec.Server.PodDisruptionBudget != nil {
		objs = append(objs, PodDisruptionBudget(api, names))
	}
	if np := api.Spec.NetworkPolicy; np != nil && np.Enabled {
		objs = append(objs, NetworkPolicy(api, names))
	}
	if m := api.Spec.Server.Metrics; m != nil && m.ServiceMonitor != nil && m.ServiceMonitor.Enabled {
		objs = append(objs, ServiceMonitorObject(api, names))
	}
	for _, g := range api.APIGroups() {
		for _, v := range g.Versions {
			if v.EmitsAPIService() {
				objs = append(objs, APIService(api, g, v, m.CABundle))
			}
		}
	}
	return objs, nil
}
