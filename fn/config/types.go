package config

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

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
//
// The API groups are given either as spec.groups, or for one group with the shorthand
// spec.group, spec.versions, spec.groupPriorityMinimum, spec.resources and spec.readOnly;
// not both.
type AggregatedAPISpec struct {
	// Group is the API group served, a DNS-1123 subdomain such as wardle.example.com
	// (one-group shorthand of spec.groups).
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:MinLength=1
	// +optional
	Group string `json:"group,omitempty"`

	// Versions of the group served; one APIService is emitted per version.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=map
	// +listMapKey=name
	// +optional
	Versions []Version `json:"versions,omitempty"`

	// GroupPriorityMinimum orders this group among all groups in discovery (default 1000).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=20000
	// +optional
	GroupPriorityMinimum int32 `json:"groupPriorityMinimum,omitempty"`

	// Resources the API serves (plural names, optionally "plural/subresource", or "*"
	// for every resource of the group). They drive the view/edit ClusterRoles that
	// aggregate into the built-in roles.
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=127
	// +listType=set
	// +optional
	Resources []string `json:"resources,omitempty"`

	// ReadOnly: the resources are only read (get, list, watch); the edit role gets
	// nothing for them.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`

	// Groups served by the one server: one APIService per group and version. Use it
	// instead of the one-group shorthand (group, versions, ...).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=group
	// +optional
	Groups []APIGroup `json:"groups,omitempty"`

	// Namespace the server runs in (default: metadata.name).
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// CreateNamespace emits the Namespace object (default true). It is never emitted for
	// kube-system, kube-public, kube-node-lease and default, nor when the input already
	// holds a Namespace of that name.
	// +optional
	CreateNamespace *bool `json:"createNamespace,omitempty"`

	// Names overrides the names of generated objects, e.g. to adopt the objects of an
	// existing installation.
	// +optional
	Names *ObjectNames `json:"names,omitempty"`

	// CommonLabels are added to every generated object (and the pod template).
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	CommonLabels map[string]string `json:"commonLabels,omitempty"`

	// CommonAnnotations are added to every generated object (and the pod template).
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	CommonAnnotations map[string]string `json:"commonAnnotations,omitempty"`

	// ServiceAccount the server runs as.
	// +optional
	ServiceAccount ServiceAccount `json:"serviceAccount,omitempty"`

	// Service in front of the server pods.
	// +optional
	Service Service `json:"service,omitempty"`

	// Server is the extension API server workload.
	Server Server `json:"server"`

	// Certificate is the serving certificate the function issues.
	// +optional
	Certificate Certificate `json:"certificate,omitempty"`

	// NetworkPolicy restricts the server pods' traffic (opt-in).
	// +optional
	NetworkPolicy *NetworkPolicy `json:"networkPolicy,omitempty"`
}

// APIGroup is one API group the server serves.
type APIGroup struct {
	// Group is the API group, a DNS-1123 subdomain such as custom.metrics.k8s.io.
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

	// Resources of the group (plural names, optionally "plural/subresource", or "*").
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=127
	// +listType=set
	// +optional
	Resources []string `json:"resources,omitempty"`

	// ReadOnly: the resources are only read; the edit role gets nothing for them.
	// +optional
	ReadOnly bool `json:"readOnly,omitempty"`
}

// ObjectNames override the names of the generated objects. Each defaults to one
// derived from metadata.name.
type ObjectNames struct {
	// ServiceAccount of the server (default <name>-apiserver).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// Secret holding the serving certificate (default <name>-serving-cert).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Secret string `json:"secret,omitempty"`
	// Deployment of the server (default <name>-apiserver).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Deployment string `json:"deployment,omitempty"`
	// Service in front of the pods (default metadata.name); the same as spec.service.name.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Service string `json:"service,omitempty"`
	// ClusterRole of what the server itself reads (default <name>-apiserver).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClusterRole string `json:"clusterRole,omitempty"`
	// ClusterRoleBinding granting that role (default: the clusterRole name).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClusterRoleBinding string `json:"clusterRoleBinding,omitempty"`
	// AuthDelegator is the ClusterRoleBinding to system:auth-delegator (default <name>-auth-delegator).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AuthDelegator string `json:"authDelegator,omitempty"`
	// AuthReader is the RoleBinding in kube-system to
	// extension-apiserver-authentication-reader (default <name>-auth-reader).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AuthReader string `json:"authReader,omitempty"`
	// ViewRole is the ClusterRole aggregated into view, edit and admin (default <name>-view).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ViewRole string `json:"viewRole,omitempty"`
	// EditRole is the ClusterRole aggregated into edit and admin (default <name>-edit).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	EditRole string `json:"editRole,omitempty"`
	// PodDisruptionBudget of the server (default: the deployment name).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PodDisruptionBudget string `json:"podDisruptionBudget,omitempty"`
	// NetworkPolicy of the server (default: the deployment name).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	NetworkPolicy string `json:"networkPolicy,omitempty"`
}

// ServiceAccount is the server's identity.
type ServiceAccount struct {
	// Annotations of the ServiceAccount, e.g. a cloud workload identity.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
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
	// CreateAPIService emits this version's APIService (default true). false leaves it to
	// another provider that owns it; the server still serves the version.
	// +optional
	CreateAPIService *bool `json:"createAPIService,omitempty"`
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
	// Annotations of the Service.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Labels of the Service, added to the function's own.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// Server is the extension API server Deployment.
type Server struct {
	// Image of the extension API server.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Image string `json:"image"`
	// ContainerName is the server container's name (default apiserver); keep an existing
	// installation's name so `kubectl logs -c`, VPA policies and dashboards still find it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	ContainerName string `json:"containerName,omitempty"`
	// ImagePullPolicy of the container (default IfNotPresent).
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +optional
	ImagePullPolicy string `json:"imagePullPolicy,omitempty"`
	// Port the server listens on for HTTPS inside the pod (default 10250: GKE private
	// clusters admit the control plane to the nodes on 443 and 10250 only, which is why
	// metrics-server and cert-manager's webhook listen there too).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
	// HostNetwork runs the pods in the node's network namespace (with dnsPolicy
	// ClusterFirstWithHostNet), for clusters whose control plane cannot reach pod IPs
	// (EKS with a Calico or Cilium overlay). It needs port set to a port free on every
	// node, not one of the kubelet's or kube-proxy's; a NetworkPolicy does not apply to
	// such pods, and Pod Security baseline forbids them.
	// +optional
	HostNetwork bool `json:"hostNetwork,omitempty"`
	// Metrics are the server's own Prometheus metrics: k8s.io/apiserver servers serve
	// /metrics on the secure port.
	// +optional
	Metrics *ServerMetrics `json:"metrics,omitempty"`
	// Replicas of the server (default 1).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	Replicas int32 `json:"replicas,omitempty"`
	// Command overrides the image's entrypoint.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=4096
	// +optional
	Command []string `json:"command,omitempty"`
	// Args passed to the server after the flags the function sets (see flags).
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=4096
	// +optional
	Args []string `json:"args,omitempty"`
	// Flags names the server's command-line flags for the port and the certificate files;
	// an empty string leaves that flag out.
	// +optional
	Flags *ServerFlags `json:"flags,omitempty"`
	// TLS is the server's TLS policy (minimum version, cipher suites), passed with the
	// flags named in flags.tlsMinVersion and flags.tlsCipherSuites.
	// +optional
	TLS *ServerTLS `json:"tls,omitempty"`
	// Resources of the container (default requests cpu 100m, memory 128Mi).
	// +optional
	Resources *Resources `json:"resources,omitempty"`
	// ExtraRules are added to the ClusterRole the server itself runs with.
	// +kubebuilder:validation:MaxItems=64
	// +optional
	ExtraRules []PolicyRule `json:"extraRules,omitempty"`
	// BaseRules: Default gives the server's ClusterRole the rules a k8s.io/apiserver
	// server reads (namespaces, admission webhooks and policies, flow control) before
	// extraRules; None gives it extraRules alone, for servers that read none of these
	// (metrics-server). The auth-delegator and auth-reader bindings stay either way.
	// +kubebuilder:validation:Enum=Default;None
	// +optional
	BaseRules string `json:"baseRules,omitempty"`
	// SelectorLabels select the server's pods: the Deployment's selector, the Service's,
	// the PodDisruptionBudget's and the NetworkPolicy's; they are always on the pod
	// template too. Default: app.kubernetes.io/name (metadata.name) and
	// app.kubernetes.io/component (apiserver). A Deployment's selector cannot change,
	// so keep an existing installation's to update its Deployment in place.
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	SelectorLabels map[string]string `json:"selectorLabels,omitempty"`
	// PriorityClassName of the pods. An unavailable aggregated API makes discovery
	// partial cluster-wide, so a high priority class is worth considering.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// ShutdownDelay is how long a pod told to stop keeps serving before the server gets
	// SIGTERM (a preStop sleep on the server container, default 5s), so the Service and
	// the aggregator drop its endpoint first and a rollout loses no request; the grace
	// period is this plus 30s. "0s" renders no preStop hook.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +optional
	ShutdownDelay string `json:"shutdownDelay,omitempty"`
	// PodTemplate is a partial PodTemplateSpec (labels, annotations, tolerations,
	// nodeSelector, affinity, volumes, extra containers, changes to the server container
	// under its containerName ...) merged onto the generated pod template with
	// Kubernetes' strategic merge, as kubectl patch does: containers, volumes and env
	// merge by name.
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	PodTemplate *runtime.RawExtension `json:"podTemplate,omitempty"`
	// PodDisruptionBudget of the server: emitted when set, and by default (maxUnavailable
	// 1) with more than one replica; a budget that never allows a disruption is refused.
	// +optional
	PodDisruptionBudget *PodDisruptionBudget `json:"podDisruptionBudget,omitempty"`
	// RevisionHistoryLimit is how many old ReplicaSets the Deployment keeps for
	// rollbacks (default: unset, Kubernetes keeps 10).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// PodDisruptionBudget sets one of minAvailable and maxUnavailable, each a number of pods
// or a percentage of the replicas such as "50%" (rounded up, as Kubernetes does).
type PodDisruptionBudget struct {
	// MinAvailable pods through a voluntary disruption; it must stay below replicas.
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Schemaless
	// +optional
	MinAvailable *runtime.RawExtension `json:"minAvailable,omitempty"`
	// MaxUnavailable pods through a voluntary disruption; at least 1 (or a percentage
	// that gives at least one pod).
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:Schemaless
	// +optional
	MaxUnavailable *runtime.RawExtension `json:"maxUnavailable,omitempty"`
}

// NetworkPolicy is an opt-in NetworkPolicy for the server pods.
type NetworkPolicy struct {
	// Enabled emits the NetworkPolicy.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// APIServerCIDRs are where the kube-apiserver connects from and listens: the control
	// plane's addresses (it cannot be selected by labels and often runs on the host
	// network). Never the nodes' CIDRs where the control plane arrives through
	// konnectivity or an overlay tunnel (GKE, AKS): use allowKonnectivityAgents there.
	// Empty admits any source to the server's port, and allows egress to any address on
	// apiServerPorts.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	// +optional
	APIServerCIDRs []string `json:"apiServerCIDRs,omitempty"`
	// AllowKonnectivityAgents admits the konnectivity agent pods in kube-system to the
	// server's port: where the control plane reaches pods through konnectivity (GKE,
	// AKS), the aggregator's connections arrive from those pods, not from the control
	// plane's address.
	// +optional
	AllowKonnectivityAgents bool `json:"allowKonnectivityAgents,omitempty"`
	// APIServerPorts the server may connect to for delegated authn/authz (default 443, 6443).
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=65535
	// +optional
	APIServerPorts []int32 `json:"apiServerPorts,omitempty"`
	// ExtraIngress rules (networking.k8s.io/v1 NetworkPolicyIngressRule) are appended
	// to the generated ones.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	ExtraIngress []runtime.RawExtension `json:"extraIngress,omitempty"`
	// ExtraEgress rules (networking.k8s.io/v1 NetworkPolicyEgressRule) are appended to
	// the generated ones, e.g. to the kubelets on 10250 or to Prometheus.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	ExtraEgress []runtime.RawExtension `json:"extraEgress,omitempty"`
}

// ServerFlags are the flag names k8s.io/apiserver based servers take.
type ServerFlags struct {
	// SecurePort flag (default --secure-port).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	SecurePort *string `json:"securePort,omitempty"`
	// TLSCertFile flag (default --tls-cert-file).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	TLSCertFile *string `json:"tlsCertFile,omitempty"`
	// TLSPrivateKeyFile flag (default --tls-private-key-file).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	TLSPrivateKeyFile *string `json:"tlsPrivateKeyFile,omitempty"`
	// TLSMinVersion flag, passed spec.server.tls.minVersion (default --tls-min-version).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	TLSMinVersion *string `json:"tlsMinVersion,omitempty"`
	// TLSCipherSuites flag, passed spec.server.tls.cipherSuites joined by commas
	// (default --tls-cipher-suites).
	// +kubebuilder:validation:MaxLength=128
	// +optional
	TLSCipherSuites *string `json:"tlsCipherSuites,omitempty"`
}

// ServerMetrics is how Prometheus scrapes the server.
type ServerMetrics struct {
	// Port is a separate metrics port the server listens on (plain HTTP), for servers
	// that serve metrics apart from the API: it becomes a container port, a Service
	// port and, with a NetworkPolicy, an ingress rule, all named metrics. Unset: the
	// secure port serves /metrics over HTTPS.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
	// ServiceMonitor emits a Prometheus Operator ServiceMonitor (monitoring.coreos.com/v1).
	// +optional
	ServiceMonitor *ServiceMonitor `json:"serviceMonitor,omitempty"`
}

// ServiceMonitor configures the emitted ServiceMonitor.
type ServiceMonitor struct {
	// Enabled emits the ServiceMonitor.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// Interval between scrapes, a Prometheus duration such as 30s or 1m (default:
	// Prometheus' scrape interval).
	// +kubebuilder:validation:Pattern=`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	Interval string `json:"interval,omitempty"`
}

// ServerTLS is the server's TLS policy, for compliance scans: k8s.io/apiserver servers
// take it as --tls-min-version and --tls-cipher-suites.
type ServerTLS struct {
	// MinVersion is the lowest TLS version the server accepts (default: the server's
	// own, TLS 1.2 for k8s.io/apiserver).
	// +kubebuilder:validation:Enum=VersionTLS12;VersionTLS13
	// +optional
	MinVersion string `json:"minVersion,omitempty"`
	// CipherSuites the server offers for TLS 1.2, by their IANA names as Go's
	// crypto/tls names them (tls.CipherSuiteName), such as
	// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256. Insecure suites are refused, and so is
	// any suite with minVersion VersionTLS13 (TLS 1.3 suites are not configurable in Go).
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	// +listType=set
	// +optional
	CipherSuites []string `json:"cipherSuites,omitempty"`
}

// Resources are container resource requests and limits as quantity strings.
type Resources struct {
	// Requests by resource name (cpu, memory, ephemeral-storage, ...); each value a
	// quantity such as 100m or 128Mi, at most 64 characters.
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	Requests map[string]string `json:"requests,omitempty"`
	// Limits by resource name, as requests.
	// +kubebuilder:validation:MaxProperties=16
	// +optional
	Limits map[string]string `json:"limits,omitempty"`
}

// PolicyRule is an RBAC rule, as in rbac.authorization.k8s.io/v1.
type PolicyRule struct {
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=63
	Verbs []string `json:"verbs"`
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +optional
	APIGroups []string `json:"apiGroups,omitempty"`
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:items:MaxLength=253
	// +optional
	Resources []string `json:"resources,omitempty"`
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	// +optional
	ResourceNames []string `json:"resourceNames,omitempty"`
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=1024
	// +optional
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
}

// Certificate is where the serving certificate comes from and how long it lives.
type Certificate struct {
	// Mode: generate (default) issues a CA and serving certificate at render time and
	// reuses them on re-render; provided uses a CA and TLS Secret managed elsewhere;
	// cert-manager emits cert-manager Issuers and Certificates and lets cainjector fill
	// the caBundle; openshift lets OpenShift's service-ca operator do both.
	// +kubebuilder:validation:Enum=generate;provided;cert-manager;openshift
	// +optional
	Mode string `json:"mode,omitempty"`
	// Validity is the serving certificate's lifetime (default 8760h).
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Validity string `json:"validity,omitempty"`
	// RenewBefore: a re-render issues a new certificate once the current one expires
	// within this duration (default 720h, less than validity). In provided mode, a
	// warning is given when the CA expires within it.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	RenewBefore string `json:"renewBefore,omitempty"`
	// Overlap (generate mode): after a renewal the caBundle trusts the new and the previous
	// CA until this long after the new certificate's NotBefore (default 24h), so pods
	// still serving the old certificate stay trusted while the Deployment rolls.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	Overlap string `json:"overlap,omitempty"`
	// KeyAlgorithm of the serving key (default ECDSA-P256). RSA-4096 is slow to generate.
	// +kubebuilder:validation:Enum=ECDSA-P256;ECDSA-P384;RSA-2048;RSA-3072;RSA-4096;Ed25519
	// +optional
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
	// SecretFile (kpt, mode generate) is the package file the serving Secret is written
	// to, such as secrets/wardle-serving-cert.yaml, so it can be encrypted (SOPS
	// path_regex) or kept out of Git on its own. Default: kpt's own file name.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	SecretFile string `json:"secretFile,omitempty"`
	// Provided configures mode provided.
	// +optional
	Provided *ProvidedCertificate `json:"provided,omitempty"`
	// CertManager configures mode cert-manager.
	// +optional
	CertManager *CertManagerCertificate `json:"certManager,omitempty"`
}

// ProvidedCertificate is a CA and a TLS Secret the user manages elsewhere (sealed-secrets,
// external-secrets, SOPS). The function emits no Secret and no key material.
type ProvidedCertificate struct {
	// SecretName of the kubernetes.io/tls Secret in spec.namespace that the pods mount.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretName string `json:"secretName"`
	// CABundle is the PEM of the CA certificate(s) that signed the serving certificate.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	CABundle string `json:"caBundle,omitempty"`
	// CAFile is a path to that PEM, relative to the function's working directory (the
	// kustomization's directory under kustomize). Set caBundle or caFile, not both.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	CAFile string `json:"caFile,omitempty"`
}

// CertManagerCertificate configures mode cert-manager.
type CertManagerCertificate struct {
	// IssuerRef names an existing Issuer or ClusterIssuer; without it the function emits
	// a self-signed Issuer, a CA Certificate and a CA Issuer of its own.
	// +optional
	IssuerRef *IssuerRef `json:"issuerRef,omitempty"`
	// CADuration is the lifetime of the emitted CA Certificate (default 87600h); it must
	// be longer than validity. The CA keeps its key on renewal, so certificates signed by
	// the previous CA certificate still verify.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:MaxLength=64
	// +optional
	CADuration string `json:"caDuration,omitempty"`
}

// IssuerRef is a cert-manager issuer reference.
type IssuerRef struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Kind is Issuer (default) or ClusterIssuer.
	// +kubebuilder:validation:Enum=Issuer;ClusterIssuer
	// +optional
	Kind string `json:"kind,omitempty"`
	// Group of the issuer (default cert-manager.io).
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Group string `json:"group,omitempty"`
}

// The certificate modes (the schema's enum of certificate.mode; TestEnumsMatchGo ties them).
const (
	ModeGenerate    = "generate"
	ModeProvided    = "provided"
	ModeCertManager = "cert-manager"
	ModeOpenShift   = "openshift"
)

// The base rules of the server's ClusterRole (the schema's enum of server.baseRules).
const (
	BaseRulesDefault = "Default"
	BaseRulesNone    = "None"
)

// The kinds of a cert-manager issuerRef (the schema's enum of issuerRef.kind).
const (
	IssuerKind        = "Issuer"
	ClusterIssuerKind = "ClusterIssuer"
)
