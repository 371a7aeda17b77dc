// Package config holds the AggregatedAPI function config: its Go type, defaults,
// schema check and validation. It knows nothing of certificates or manifests.
//
// +kubebuilder:object:generate=false
// +groupName=aggapi.dev
// +versionName=v1alpha1
package config

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AggregatedAPI describes one extension API server served behind the kube-aggregator.
// The function turns it into every object the cluster needs.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=aggregatedapis,scope=Cluster
// +kubebuilder:storageversion
type AggregatedAPI struct {
	metav1.TypeMeta `json:",inline"`
	// Metadata names the config: a DNS-1123 label of at most 40 characters that
	// prefixes every generated object's name and marks those objects as ours.
	metav1.ObjectMeta `json:"metadata"`
	// Spec is what to serve and how.
	Spec AggregatedAPISpec `json:"spec"`
}

// AggregatedAPISpec is the desired extension API.
type AggregatedAPISpec struct {
	// Group is the API group served, a DNS-1123 subdomain such as wardle.example.com.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:MinLength=1
	Group string `json:"group"`

	// Versions of the group served; one APIService is emitted per version.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	Versions []Version `json:"versions"`

	// GroupPriorityMinimum orders this group among all groups in discovery (default 1000).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=20000
	// +optional
	GroupPriorityMinimum int32 `json:"groupPriorityMinimum,omitempty"`

	// Resources the API serves (plural names, optionally "plural/subresource").
	// They drive the view/edit ClusterRoles that aggregate into the built-in roles.
	// +kubebuilder:validation:MaxItems=256
	// +listType=set
	// +optional
	Resources []string `json:"resources,omitempty"`

	// Namespace the server runs in (default: metadata.name). The Namespace object is emitted
	// unless the input already holds one of that name.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Service in front of the server pods.
	// +optional
	Service Service `json:"service,omitempty"`

	// Server is the extension API server workload.
	Server Server `json:"server"`

	// Certificate is the serving certificate the function issues.
	// +optional
	Certificate Certificate `json:"certificate,omitempty"`
}

// Version is one API version of the group.
type Version struct {
	// Name of the version, a DNS-1035 label such as v1alpha1.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// VersionPriority orders versions within the group (default 15).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	VersionPriority int32 `json:"versionPriority,omitempty"`
}

// Service is the Service the APIServices point at.
type Service struct {
	// Name of the Service, a DNS-1035 label (default: metadata.name).
	// The serving certificate is issued for <name>.<namespace>.svc.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Name string `json:"name,omitempty"`
	// Port the Service exposes and the aggregator dials (default 443).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
}

// Server is the extension API server Deployment.
type Server struct {
	// Image of the extension API server.
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`
	// ImagePullPolicy of the container (default IfNotPresent).
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	ImagePullPolicy string `json:"imagePullPolicy,omitempty"`
	// Port the server listens on for HTTPS inside the pod (default 8443).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
	// Replicas of the server (default 1).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// Command overrides the image's entrypoint.
	// +optional
	Command []string `json:"command,omitempty"`
	// Args passed to the server after the flags the function sets (see flags).
	// +optional
	Args []string `json:"args,omitempty"`
	// Flags names the server's command-line flags for the port and the certificate files;
	// an empty string leaves that flag out.
	// +optional
	Flags *ServerFlags `json:"flags,omitempty"`
	// Resources of the container (default requests cpu 100m, memory 128Mi).
	// +optional
	Resources *Resources `json:"resources,omitempty"`
	// ExtraRules are added to the ClusterRole the server itself runs with.
	// +optional
	ExtraRules []PolicyRule `json:"extraRules,omitempty"`
}

// ServerFlags are the flag names k8s.io/apiserver based servers take.
type ServerFlags struct {
	// SecurePort flag (default --secure-port).
	// +optional
	SecurePort *string `json:"securePort,omitempty"`
	// TLSCertFile flag (default --tls-cert-file).
	// +optional
	TLSCertFile *string `json:"tlsCertFile,omitempty"`
	// TLSPrivateKeyFile flag (default --tls-private-key-file).
	// +optional
	TLSPrivateKeyFile *string `json:"tlsPrivateKeyFile,omitempty"`
}

// Resources are container resource requests and limits as quantity strings.
type Resources struct {
	// +optional
	Requests map[string]string `json:"requests,omitempty"`
	// +optional
	Limits map[string]string `json:"limits,omitempty"`
}

// PolicyRule is an RBAC rule, as in rbac.authorization.k8s.io/v1.
type PolicyRule struct {
	// +kubebuilder:validation:MinItems=1
	Verbs []string `json:"verbs"`
	// +optional
	APIGroups []string `json:"apiGroups,omitempty"`
	// +optional
	Resources []string `json:"resources,omitempty"`
	// +optional
	ResourceNames []string `json:"resourceNames,omitempty"`
	// +optional
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
}

// Certificate is the serving certificate policy.
type Certificate struct {
	// Validity is the serving certificate's lifetime (default 8760h).
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +optional
	Validity string `json:"validity,omitempty"`
	// RenewBefore: a re-render issues a new certificate once the current one expires
	// within this duration (default 720h, less than validity).
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +optional
	RenewBefore string `json:"renewBefore,omitempty"`
	// KeyAlgorithm of the serving key (default ECDSA-P256). RSA-4096 is slow to generate.
	// +kubebuilder:validation:Enum=ECDSA-P256;ECDSA-P384;RSA-2048;RSA-3072;RSA-4096
	// +optional
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
}
