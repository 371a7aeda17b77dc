package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"path"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
)

// nonRootUID is the distroless "nonroot" user; k8s.io/apiserver servers need no root.
const nonRootUID = 65532

// Namespace is the namespace the server runs in.
func Namespace(api *config.AggregatedAPI, n Names) *corev1.Namespace {
	return &corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: meta(api, n.Namespace, ""),
	}
}

// ServiceAccount is the identity the server authenticates to the kube-apiserver with.
func ServiceAccount(api *config.AggregatedAPI, n Names) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: meta(api, n.ServiceAccount, api.Spec.Namespace),
	}
}

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

// Service fronts the server pods on spec.service.port; its targetPort is the container port.
// In openshift mode the service-ca operator issues the serving Secret for it.
func Service(api *config.AggregatedAPI, n Names) *corev1.Service {
	m := meta(api, n.Service, api.Spec.Namespace)
	if api.Spec.Certificate.Mode == config.ModeOpenShift {
		m.Annotations = map[string]string{OpenShiftServingCertAnnotation: n.Secret}
	}
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: m,
		Spec: corev1.ServiceSpec{
			Selector: selector(api),
			Ports: []corev1.ServicePort{{
				Name:       httpsPortName,
				Protocol:   corev1.ProtocolTCP,
				Port:       api.Spec.Service.Port,
				TargetPort: intstr.FromInt32(api.Spec.Server.Port),
			}},
		},
	}
}

// ServerArgs are the flags the function passes before spec.server.args: the port and
// the certificate files mounted from the serving Secret.
func ServerArgs(api *config.AggregatedAPI) []string {
	var args []string
	f := api.Spec.Server.Flags
	add := func(flag *string, value string) {
		if flag != nil && *flag != "" {
			args = append(args, *flag+"="+value)
		}
	}
	add(f.SecurePort, itoa(api.Spec.Server.Port))
	add(f.TLSCertFile, path.Join(certMountPath, corev1.TLSCertKey))
	add(f.TLSPrivateKeyFile, path.Join(certMountPath, corev1.TLSPrivateKeyKey))
	return append(args, api.Spec.Server.Args...)
}

// HashAnnotation is a pod template annotation holding the SHA-256 of data.
func HashAnnotation(key string, data []byte) map[string]string {
	sum := sha256.Sum256(data)
	return map[string]string{key: hex.EncodeToString(sum[:])}
}

// Deployment runs the server with the serving Secret mounted read-only, HTTPS probes,
// a restricted security context and a rollout that keeps a ready pod at all times.
func Deployment(api *config.AggregatedAPI, n Names, m Material) *appsv1.Deployment {
	sv := api.Spec.Server
	probe := func(path string, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: path, Port: intstr.FromString(httpsPortName), Scheme: corev1.URISchemeHTTPS,
			}},
			PeriodSeconds:    10,
			TimeoutSeconds:   5,
			FailureThreshold: failures,
		}
	}
	container := corev1.Container{
		Name:            containerName,
		Image:           sv.Image,
		ImagePullPolicy: corev1.PullPolicy(sv.ImagePullPolicy),
		Command:         sv.Command,
		Args:            ServerArgs(api),
		Ports:           []corev1.ContainerPort{{Name: httpsPortName, ContainerPort: sv.Port, Protocol: corev1.ProtocolTCP}},
		ReadinessProbe:  probe("/readyz", 3),
		LivenessProbe:   probe("/livez", 6),
		Resources:       resources(sv.Resources),
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			RunAsNonRoot:             ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "serving-cert", MountPath: certMountPath, ReadOnly: true},
			{Name: "tmp", MountPath: "/tmp"},
		},
	}
	podLabels := maps.Clone(labels(api))
	maps.Copy(podLabels, selector(api))
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(api, n.Deployment, api.Spec.Namespace),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(sv.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: selector(api)},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				// Surge first: a ready server stays behind the APIService during a rollout.
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr.To(intstr.FromInt32(0)),
					MaxSurge:       ptr.To(intstr.FromInt32(1)),
				},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      podLabels,
					Annotations: m.PodAnnotations,
				},
				Spec: corev1.PodSpec{
					ServiceAccountName:        n.ServiceAccount,
					PriorityClassName:         sv.PriorityClassName,
					TopologySpreadConstraints: spread(api),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](nonRootUID),
						RunAsGroup:     ptr.To[int64](nonRootUID),
						FSGroup:        ptr.To[int64](nonRootUID),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{container},
					Volumes: []corev1.Volume{
						{Name: "serving-cert", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: n.Secret, DefaultMode: ptr.To[int32](0o440),
						}}},
						{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
}

func resources(r *config.Resources) corev1.ResourceRequirements {
	var out corev1.ResourceRequirements
	if r == nil {
		return out
	}
	list := func(m map[string]string) corev1.ResourceList {
		if len(m) == 0 {
			return nil
		}
		l := corev1.ResourceList{}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			l[corev1.ResourceName(k)] = resource.MustParse(m[k]) // validated by config
		}
		return l
	}
	out.Requests = list(r.Requests)
	out.Limits = list(r.Limits)
	return out
}

// spread places replicas on different nodes where it can, so one node going away does
// not take the whole aggregated API with it.
func spread(api *config.AggregatedAPI) []corev1.TopologySpreadConstraint {
	if api.Spec.Server.Replicas < 2 {
		return nil
	}
	return []corev1.TopologySpreadConstraint{{
		MaxSkew:           1,
		TopologyKey:       "kubernetes.io/hostname",
		WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector:     &metav1.LabelSelector{MatchLabels: selector(api)},
	}}
}

// PodDisruptionBudget keeps all but one replica through voluntary disruptions (node
// drains); emitted only with more than one replica, where it cannot block a drain.
func PodDisruptionBudget(api *config.AggregatedAPI, n Names) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(api, n.PodDisruptionBudget, api.Spec.Namespace),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: selector(api)},
		},
	}
}

// NetworkPolicy admits the kube-apiserver to the server's port and lets the server
// reach the kube-apiserver (delegated authn/authz, informers) and DNS; nothing else.
func NetworkPolicy(api *config.AggregatedAPI, n Names) *networkingv1.NetworkPolicy {
	np := api.Spec.NetworkPolicy
	var peers []networkingv1.NetworkPolicyPeer
	for _, cidr := range np.APIServerCIDRs {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p int32, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: proto, Port: ptr.To(intstr.FromInt32(p))}
	}
	var apiPorts []networkingv1.NetworkPolicyPort
	for _, p := range np.APIServerPorts {
		apiPorts = append(apiPorts, port(p, &tcp))
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(api, n.NetworkPolicy, api.Spec.Namespace),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector(api)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  peers,
				Ports: []networkingv1.NetworkPolicyPort{port(api.Spec.Server.Port, &tcp)},
			}},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: peers, Ports: apiPorts},
				{Ports: []networkingv1.NetworkPolicyPort{port(53, &udp), port(53, &tcp)}},
			},
		},
	}
}
