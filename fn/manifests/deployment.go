package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"path"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/aggapi/aggapi/fn/config"
)

// nonRootUID is the distroless "nonroot" user; k8s.io/apiserver servers need no root.
const nonRootUID = 65532

// drainSeconds is what the server gets after SIGTERM: Kubernetes' default grace period.
const drainSeconds = 30

// ServerArgs are the flags the function passes before spec.server.args: the port, the
// certificate files mounted from the serving Secret and the TLS policy.
func ServerArgs(api *config.AggregatedAPI) []string {
	return append(serverFlags(api), api.Spec.Server.Args...)
}

// serverFlags are the port, certificate and TLS policy flags the function sets.
func serverFlags(api *config.AggregatedAPI) []string {
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
	if t := api.Spec.Server.TLS; t != nil {
		if t.MinVersion != "" {
			add(f.TLSMinVersion, t.MinVersion)
		}
		if len(t.CipherSuites) > 0 {
			add(f.TLSCipherSuites, strings.Join(t.CipherSuites, ","))
		}
	}
	return args
}

// HashAnnotation is a pod template annotation holding the SHA-256 of data.
func HashAnnotation(key string, data []byte) map[string]string {
	sum := sha256.Sum256(data)
	return map[string]string{key: hex.EncodeToString(sum[:])}
}

// Deployment runs the server with the serving Secret mounted read-only, HTTPS probes,
// a restricted security context and a rollout that keeps a ready pod at all times;
// spec.server.podTemplate is merged onto its pod template.
func Deployment(api *config.AggregatedAPI, n Names, m Material) (*appsv1.Deployment, error) {
	d := generatedDeployment(api, n, m)
	template, errs := podTemplate(api, d.Spec.Template)
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	d.Spec.Template = template
	return d, nil
}

func generatedDeployment(api *config.AggregatedAPI, n Names, m Material) *appsv1.Deployment {
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
		Name:            sv.ContainerName,
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
	var grace *int64
	if delay := sv.ShutdownDelaySeconds(); delay > 0 {
		// The old pod keeps serving while kube-proxy and the aggregator drop its endpoint;
		// the server then has the usual 30s to drain after SIGTERM.
		container.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: delay}}}
		grace = ptr.To(delay + drainSeconds)
	}
	if mp := metricsPort(api); mp != 0 {
		container.Ports = append(container.Ports, corev1.ContainerPort{Name: metricsPortName, ContainerPort: mp, Protocol: corev1.ProtocolTCP})
	}
	podLabels := maps.Clone(labels(api))
	maps.Copy(podLabels, selector(api))
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(api, n.Deployment, api.Spec.Namespace),
		Spec: appsv1.DeploymentSpec{
			Replicas:             ptr.To(sv.Replicas),
			RevisionHistoryLimit: sv.RevisionHistoryLimit,
			Selector:             &metav1.LabelSelector{MatchLabels: selector(api)},
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
					Annotations: annotations(api, m.PodAnnotations),
				},
				Spec: corev1.PodSpec{
					ServiceAccountName:            n.ServiceAccount,
					TerminationGracePeriodSeconds: grace,
					PriorityClassName:             sv.PriorityClassName,
					HostNetwork:                   sv.HostNetwork,
					DNSPolicy:                     dnsPolicy(sv.HostNetwork),
					TopologySpreadConstraints:     spread(api),
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

// dnsPolicy keeps cluster DNS for a host-network pod, which would otherwise get the
// node's resolver and not resolve Services; other pods keep the default.
func dnsPolicy(hostNetwork bool) corev1.DNSPolicy {
	if hostNetwork {
		return corev1.DNSClusterFirstWithHostNet
	}
	return ""
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
