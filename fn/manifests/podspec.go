package manifests

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// PodSpecCheck says where the pod template CheckPodSpec checks came from, so that its
// errors name the field to fix.
type PodSpecCheck struct {
	// At is the pod template's path; errors name fields under At.spec.
	At *field.Path
	// Server is the name of the container the function generates (and hardens).
	Server string
	// ResourcesAt, when set and not nil for a value, locates a container's resource
	// request or limit set outside the template (spec.server.resources).
	ResourcesAt func(container, kind string, name corev1.ResourceName) *field.Path
}

// CheckPodSpec reports what a kube-apiserver refuses in a Deployment's pod template
// (the rules of k8s.io/kubernetes/pkg/apis/core/validation that a podTemplate or
// spec.server.resources can break, mirrored without linking it), and what would undo
// the hardening of the server container: privileges, host namespaces, a removed
// security context or probe. t is the final template: generated, then merged.
func CheckPodSpec(t *corev1.PodTemplateSpec, c PodSpecCheck) field.ErrorList {
	sp := c.At.Child("spec")
	spec := &t.Spec
	var errs field.ErrorList

	if len(spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(sp.Child("ephemeralContainers"), "ephemeral containers are not allowed in a pod template"))
	}
	if spec.RestartPolicy != "" && spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(sp.Child("restartPolicy"), spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(sp.Child("activeDeadlineSeconds"), "a Deployment's pods run until replaced: the kube-apiserver refuses it"))
	}
	errs = append(errs, checkHostNamespaces(sp, spec)...)
	volumes, volErrs := checkVolumes(sp.Child("volumes"), spec.Volumes)
	errs = append(errs, volErrs...)

	names := map[string]bool{}
	for _, list := range []struct {
		name       string
		containers []corev1.Container
	}{{"containers", spec.Containers}, {"initContainers", spec.InitContainers}} {
		seen := map[string]int{}
		for _, ctr := range list.containers {
			seen[ctr.Name]++
		}
		for i := range list.containers {
			ctr := &list.containers[i]
			p := sp.Child(list.name).Key(ctr.Name)
			if ctr.Name == "" || seen[ctr.Name] > 1 {
				p = sp.Child(list.name).Index(i) // of the merged list
			}
			if ctr.Name == "" {
				errs = append(errs, field.Required(p.Child("name"), "every container needs a name"))
			} else if names[ctr.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), ctr.Name))
			} else {
				names[ctr.Name] = true
				for _, msg := range validation.IsDNS1123Label(ctr.Name) {
					errs = append(errs, field.Invalid(p.Child("name"), ctr.Name, msg))
				}
			}
			errs = append(errs, checkContainer(p, ctr, list.name == "initContainers", volumes, spec.TerminationGracePeriodSeconds, c)...)
			if spec.HostNetwork {
				for j, port := range ctr.Ports {
					if port.HostPort != 0 && port.HostPort != port.ContainerPort {
						errs = append(errs, field.Invalid(p.Child("ports").Index(j).Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
					}
				}
			}
		}
	}
	if ctr := findContainer(spec.Containers, c.Server); ctr != nil {
		errs = append(errs, checkServerHardening(sp.Child("containers").Key(c.Server), ctr)...)
	}
	return errs
}

// checkHostNamespaces refuses the node's PID and IPC namespaces and a pod security
// context that lost what the function sets.
func checkHostNamespaces(sp *field.Path, spec *corev1.PodSpec) field.ErrorList {
	var errs field.ErrorList
	if spec.HostPID {
		errs = append(errs, field.Forbidden(sp.Child("hostPID"), "the server runs hardened: podTemplate may not share the node's process namespace"))
	}
	if spec.HostIPC {
		errs = append(errs, field.Forbidden(sp.Child("hostIPC"), "the server runs hardened: podTemplate may not share the node's IPC namespace"))
	}
	scp := sp.Child("securityContext")
	sc := spec.SecurityContext
	if sc == nil {
		return append(errs, field.Forbidden(scp, "removes the pod security context the function sets (runAsNonRoot, runAsUser, fsGroup, seccompProfile RuntimeDefault); set the fields to change instead"))
	}
	if sc.RunAsNonRoot == nil {
		errs = append(errs, field.Forbidden(scp.Child("runAsNonRoot"), "removes runAsNonRoot, which the function sets; set it to false where a container must run as root"))
	}
	if sc.SeccompProfile == nil {
		errs = append(errs, field.Forbidden(scp.Child("seccompProfile"), "removes the RuntimeDefault seccomp profile the function sets"))
	}
	return errs
}

// checkServerHardening refuses a server container whose security context or probes a
// podTemplate removed ($patch, $retainKeys or null), which strategic merge does silently.
func checkServerHardening(p *field.Path, c *corev1.Container) field.ErrorList {
	var errs field.ErrorList
	if c.ReadinessProbe == nil {
		errs = append(errs, field.Forbidden(p.Child("readinessProbe"), "removes the HTTPS readiness probe: the rollout keeps a ready server behind the APIService by it"))
	} else if g := c.ReadinessProbe.HTTPGet; g == nil || g.Scheme != corev1.URISchemeHTTPS {
		errs = append(errs, field.Forbidden(p.Child("readinessProbe"), "must stay an HTTPS httpGet probe: the rollout keeps a ready server behind the APIService by it, and the APIService reaches the server over HTTPS"))
	}
	if c.LivenessProbe == nil {
		errs = append(errs, field.Forbidden(p.Child("livenessProbe"), "removes the liveness probe the function sets"))
	}
	scp := p.Child("securityContext")
	sc := c.SecurityContext
	if sc == nil {
		return append(errs, field.Forbidden(scp, "removes the security context the function sets (allowPrivilegeEscalation: false, readOnlyRootFilesystem, runAsNonRoot, capabilities drop ALL); set the fields to change instead"))
	}
	for _, f := range []struct {
		name string
		v    *bool
	}{{"allowPrivilegeEscalation", sc.AllowPrivilegeEscalation}, {"readOnlyRootFilesystem", sc.ReadOnlyRootFilesystem}, {"runAsNonRoot", sc.RunAsNonRoot}} {
		if f.v == nil {
			errs = append(errs, field.Forbidden(scp.Child(f.name), fmt.Sprintf("removes %s, which the function sets; set it to the value you need instead", f.name)))
		}
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		var drop []corev1.Capability
		if sc.Capabilities != nil {
			drop = sc.Capabilities.Drop
		}
		errs = append(errs, field.Invalid(scp.Child("capabilities", "drop"), drop, "must keep ALL, which the function drops (a list in podTemplate replaces the generated one)"))
	}
	return errs
}

// checkContainer applies the kube-apiserver's rules for one container of a pod
// template, and refuses privileges for any of them.
func checkContainer(p *field.Path, ctr *corev1.Container, init bool, volumes map[string]bool, grace *int64, c PodSpecCheck) field.ErrorList {
	var errs field.ErrorList
	if ctr.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), fmt.Sprintf("container %q has no image", ctr.Name)))
	}
	if sc := ctr.SecurityContext; sc != nil {
		why := "podTemplate may not grant privileges: the function runs the pod hardened"
		if ctr.Name == c.Server {
			why = "the function sets allowPrivilegeEscalation: false on the server container, which the kube-apiserver refuses together with privileges, and podTemplate may not undo the hardening"
		}
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Forbidden(p.Child("securityContext", "privileged"), why))
		}
		if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
			errs = append(errs, field.Invalid(p.Child("securityContext", "capabilities", "add"), sc.Capabilities.Add, why))
		}
	}

	errs = append(errs, checkPorts(p.Child("ports"), ctr.Ports)...)
	for i, ev := range ctr.Env {
		ep := p.Child("env").Index(i).Child("name")
		if ev.Name == "" {
			errs = append(errs, field.Required(ep, ""))
		} else {
			// Relaxed names: RelaxedEnvironmentVariableValidation is GA since v1.34.
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
				errs = append(errs, field.Invalid(ep, ev.Name, msg))
			}
		}
		if ev.ValueFrom != nil && ev.Value != "" {
			errs = append(errs, field.Invalid(p.Child("env").Index(i).Child("valueFrom"), ev.Name, "may not be specified when `value` is not empty (the merge kept both)"))
		}
	}
	mountPaths := map[string]bool{}
	for i, m := range ctr.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes[m.Name] {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
	}
	errs = append(errs, checkResources(p.Child("resources"), ctr.Name, ctr.Resources, c)...)

	sidecar := init && ctr.RestartPolicy != nil && *ctr.RestartPolicy == corev1.ContainerRestartPolicyAlways
	switch {
	case init && ctr.RestartPolicy != nil && !sidecar:
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *ctr.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
	case !init && ctr.RestartPolicy != nil:
		errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
	}
	probes := []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", ctr.LivenessProbe}, {"readinessProbe", ctr.ReadinessProbe}, {"startupProbe", ctr.StartupProbe}}
	if init && !sidecar {
		for _, pr := range probes {
			if pr.probe != nil {
				errs = append(errs, field.Forbidden(p.Child(pr.name), "may not be set for init containers without restartPolicy=Always"))
			}
		}
		if ctr.Lifecycle != nil {
			errs = append(errs, field.Forbidden(p.Child("lifecycle"), "may not be set for init containers without restartPolicy=Always"))
		}
		return errs
	}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		h := pr.probe.ProbeHandler
		errs = append(errs, checkHandler(p.Child(pr.name), map[string]bool{"exec": h.Exec != nil, "httpGet": h.HTTPGet != nil, "tcpSocket": h.TCPSocket != nil, "grpc": h.GRPC != nil})...)
		if pr.name != "readinessProbe" && pr.probe.SuccessThreshold > 1 {
			errs = append(errs, field.Invalid(p.Child(pr.name, "successThreshold"), pr.probe.SuccessThreshold, "must be 1"))
		}
	}
	if l := ctr.Lifecycle; l != nil {
		// A sleep may not outlast the grace period (30s when unset): the API server's rule.
		limit := int64(drainSeconds)
		if grace != nil {
			limit = *grace
		}
		for _, h := range []struct {
			name string
			h    *corev1.LifecycleHandler
		}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
			if h.h == nil {
				continue
			}
			errs = append(errs, checkHandler(p.Child("lifecycle", h.name), map[string]bool{"exec": h.h.Exec != nil, "httpGet": h.h.HTTPGet != nil, "tcpSocket": h.h.TCPSocket != nil, "sleep": h.h.Sleep != nil})...)
			if sl := h.h.Sleep; sl != nil && (sl.Seconds < 0 || sl.Seconds > limit) {
				errs = append(errs, field.Invalid(p.Child("lifecycle", h.name, "sleep", "seconds"), sl.Seconds,
					fmt.Sprintf("must be non-negative and at most terminationGracePeriodSeconds (%d)", limit)))
			}
		}
	}
	return errs
}

// checkHandler refuses a probe or lifecycle handler with other than one handler type:
// strategic merge keeps the generated httpGet beside an exec a podTemplate adds.
func checkHandler(p *field.Path, set map[string]bool) field.ErrorList {
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(set)) {
		if set[k] {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		return field.ErrorList{field.Required(p, "must specify a handler type")}
	case 1:
		return nil
	}
	return field.ErrorList{field.Forbidden(p, fmt.Sprintf("may not specify more than 1 handler type (has %s): strategic merge keeps the generated one; set the one not wanted to null", strings.Join(kinds, ", ")))}
}

var supportedProtocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

func checkPorts(p *field.Path, ports []corev1.ContainerPort) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) > 0 {
				for _, msg := range msgs {
					errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
				}
			} else if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(pp.Child("containerPort"), ""))
		}
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			if port.ContainerPort != 0 {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
		}
		if port.Protocol != "" && !slices.Contains(supportedProtocols, port.Protocol) {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, supportedProtocols))
		}
	}
	return errs
}

// checkVolumes returns the names of the volumes and what the kube-apiserver refuses in
// them: names, duplicates, and other than one source (strategic merge keeps the
// generated emptyDir beside a configMap a podTemplate gives a volume of the same name).
func checkVolumes(p *field.Path, vs []corev1.Volume) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, v := range vs {
		vp := p.Key(v.Name)
		if v.Name == "" {
			vp = p.Index(i)
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else if names[v.Name] {
			errs = append(errs, field.Duplicate(p.Index(i).Child("name"), v.Name))
		} else {
			for _, msg := range validation.IsDNS1123Label(v.Name) {
				errs = append(errs, field.Invalid(vp.Child("name"), v.Name, msg))
			}
		}
		names[v.Name] = true
		var sources []string
		src := reflect.ValueOf(v.VolumeSource)
		for j := range src.NumField() {
			if !src.Field(j).IsNil() {
				name, _, _ := strings.Cut(src.Type().Field(j).Tag.Get("json"), ",")
				sources = append(sources, name)
			}
		}
		switch len(sources) {
		case 0:
			errs = append(errs, field.Required(vp, "must specify a volume type"))
		case 1:
		default:
			errs = append(errs, field.Forbidden(vp, fmt.Sprintf("may not specify more than 1 volume type (has %s): strategic merge keeps the generated source; set it to null, or name the volume differently", strings.Join(sources, ", "))))
		}
	}
	return names, errs
}

// checkResources mirrors the kube-apiserver's validateResourceRequirements with
// validateContainerResourceName: resource names, non-negative (and for extended
// resources whole) quantities, requests at most the limits, requests equal to the
// limits for resources that cannot be overcommitted (extended resources, hugepages),
// hugepages in multiples of their page size and only beside cpu or memory.
func checkResources(p *field.Path, container string, r corev1.ResourceRequirements, c PodSpecCheck) field.ErrorList {
	var errs field.ErrorList
	at := func(kind string, name corev1.ResourceName) *field.Path {
		if c.ResourcesAt != nil {
			if q := c.ResourcesAt(container, kind, name); q != nil {
				return q
			}
		}
		return p.Child(kind).Key(string(name))
	}
	cpuOrMemory, hugePages := false, false
	for _, kind := range []string{"limits", "requests"} {
		list := r.Limits
		if kind == "requests" {
			list = r.Requests
		}
		for _, name := range slices.Sorted(maps.Keys(list)) {
			q := list[name]
			qp := at(kind, name)
			nameErrs := containerResourceNameErrors(string(name))
			for _, msg := range nameErrs {
				errs = append(errs, field.Invalid(qp, string(name), msg))
			}
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(qp, q.String(), "must be greater than or equal to 0"))
			}
			if isExtendedResourceName(string(name)) && q.MilliValue()%1000 != 0 {
				errs = append(errs, field.Invalid(qp, q.String(), "must be an integer"))
			}
			if isHugePages(string(name)) {
				hugePages = true
				if msg := hugePageValueError(string(name), q); msg != "" {
					errs = append(errs, field.Invalid(qp, q.String(), msg))
				}
			}
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				cpuOrMemory = true
			}
			if kind != "requests" || len(nameErrs) > 0 {
				continue
			}
			limit, ok := r.Limits[name]
			switch {
			case !ok && !overcommitAllowed(string(name)):
				errs = append(errs, field.Required(at("limits", name), fmt.Sprintf("%s cannot be overcommitted: give a limit equal to the request %s (or the limit alone)", name, q.String())))
			case !ok:
			case q.Cmp(limit) != 0 && !overcommitAllowed(string(name)):
				errs = append(errs, field.Invalid(qp, q.String(), fmt.Sprintf("must be equal to the %s limit of %s (%s): %s cannot be overcommitted", name, limit.String(), at("limits", name), name)))
			case q.Cmp(limit) > 0:
				errs = append(errs, field.Invalid(qp, q.String(), fmt.Sprintf("must be less than or equal to the %s limit of %s (%s)", name, limit.String(), at("limits", name))))
			}
		}
	}
	if hugePages && !cpuOrMemory {
		errs = append(errs, field.Forbidden(p, "hugepages require a cpu or memory request or limit"))
	}
	return errs
}

const (
	hugePagesPrefix       = "hugepages-"
	defaultNamespace      = "kubernetes.io/" // native resources live under *kubernetes.io/
	resourceRequestsQuota = "requests."
)

// pageSizeForm bounds a hugepages page size before it is parsed (resource.ParseQuantity
// computes 10^exponent): an integer, a fraction, a suffix or a short exponent. Compiled
// on first use: the counted repetitions make a 39 KB program every render would pay for
// at start-up, and only a config with hugepages needs it.
var pageSizeForm = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3}|[KMGTPE]i|[numkMGTPE])?$`)
})

// containerResourceNameErrors is the kube-apiserver's validateContainerResourceName:
// a qualified name that is cpu, memory, ephemeral-storage or hugepages-<size>
// unprefixed, or native (*kubernetes.io/...) or an extended resource when prefixed.
func containerResourceNameErrors(name string) []string {
	if msgs := validation.IsQualifiedName(name); len(msgs) > 0 {
		return msgs
	}
	if !strings.Contains(name, "/") {
		switch corev1.ResourceName(name) {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			return nil
		}
		if isHugePages(name) {
			return nil
		}
		return []string{"must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or an extended resource with a domain (example.com/gpu)"}
	}
	if !isNativeResource(name) && !isExtendedResourceName(name) {
		return []string{`doesn't follow extended resource name standard (a domain other than kubernetes.io, not starting "requests.")`}
	}
	return nil
}

func isHugePages(name string) bool { return strings.HasPrefix(name, hugePagesPrefix) }

func isNativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, defaultNamespace)
}

func isExtendedResourceName(name string) bool {
	if isNativeResource(name) || strings.HasPrefix(name, resourceRequestsQuota) {
		return false
	}
	return len(validation.IsQualifiedName(resourceRequestsQuota+name)) == 0
}

func overcommitAllowed(name string) bool { return isNativeResource(name) && !isHugePages(name) }

// hugePageValueError is the kube-apiserver's IsHugePageResourceValueDivisible: the
// quantity is a whole multiple of the page size the name gives.
func hugePageValueError(name string, q resource.Quantity) string {
	size := strings.TrimPrefix(name, hugePagesPrefix)
	var page resource.Quantity
	var err error
	if pageSizeForm().MatchString(size) {
		page, err = resource.ParseQuantity(size)
	}
	if !pageSizeForm().MatchString(size) || err != nil || page.Sign() <= 0 || page.MilliValue()%1000 != 0 {
		return fmt.Sprintf("%s does not name a page size such as hugepages-2Mi", name)
	}
	if q.Value()%page.Value() != 0 {
		return fmt.Sprintf("is not a positive integer multiple of %s", name)
	}
	return ""
}
