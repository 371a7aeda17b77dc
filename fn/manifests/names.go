package manifests

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/aggapi/aggapi/fn/config"
)

const (
	// OwnerLabel marks every object the function generates with the config's name;
	// objects without it pass through the function untouched.
	OwnerLabel = "aggapi.dev/owner"
	// CertHashAnnotation on the pod template holds the SHA-256 of the serving
	// certificate, so a new certificate rolls the pods.
	CertHashAnnotation = "aggapi.dev/serving-cert-sha256"
	// CABundleHashAnnotation does the same in provided mode, where only the CA is known.
	CABundleHashAnnotation = "aggapi.dev/ca-bundle-sha256"

	nameLabel      = "app.kubernetes.io/name"
	componentLabel = "app.kubernetes.io/component"
	managedByLabel = "app.kubernetes.io/managed-by"
	component      = "apiserver"
	managedBy      = "aggapi"

	certMountPath  = "/var/run/aggapi/serving-cert"
	containerName  = "apiserver"
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

func labels(api *config.AggregatedAPI) map[string]string {
	return map[string]string{
		OwnerLabel:     api.Name,
		nameLabel:      api.Name,
		managedByLabel: managedBy,
	}
}

func selector(api *config.AggregatedAPI) map[string]string {
	return map[string]string{nameLabel: api.Name, componentLabel: component}
}

func meta(api *config.AggregatedAPI, name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels(api)}
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
// the kube-aggregator start routing to the server.
func Build(api *config.AggregatedAPI, m Material) []Object {
	names := api.ObjectNames()
	objs := []Object{Namespace(api, names), ServiceAccount(api, names)}
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
	objs = append(objs, Service(api, names), Deployment(api, names, m))
	if api.Spec.Server.Replicas > 1 {
		objs = append(objs, PodDisruptionBudget(api, names))
	}
	if np := api.Spec.NetworkPolicy; np != nil && np.Enabled {
		objs = append(objs, NetworkPolicy(api, names))
	}
	for _, v := range api.Spec.Versions {
		objs = append(objs, APIService(api, v, m.CABundle))
	}
	return objs
}
