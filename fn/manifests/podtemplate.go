package manifests

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/internal/yamlenc"
)

const servingCertVolume = "serving-cert"

var podTemplatePath = field.NewPath("spec", "server", "podTemplate")

// templateToMap turns a pod template into the JSON-shaped map strategic merge works
// on, through yamlenc (walking the values that are set): json.Marshal would first
// build encoders for PodTemplateSpec's whole type graph, most of a millisecond in every
// process that merges a podTemplate. TestTemplateToMapMatchesJSON holds the two to the
// same maps.
func templateToMap(t *corev1.PodTemplateSpec) (map[string]any, error) {
	n, err := yamlenc.Encode(t)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, n.Decode(&m)
}

// CheckPodTemplate reports what is wrong with the pod template the Deployment would
// get (generated from the config, spec.server.podTemplate merged onto it), each problem
// with its field path under spec.server.podTemplate or spec.server.resources: what the
// merge would break, what undoes the hardening, and what a kube-apiserver refuses
// (CheckPodSpec). The render calls it before issuing certificates.
func CheckPodTemplate(api *config.AggregatedAPI) field.ErrorList {
	d := generatedDeployment(api, api.ObjectNames(), Material{})
	_, errs := podTemplate(api, d.Spec.Template)
	return errs
}

// podTemplate is the Deployment's final pod template and what is wrong with it.
func podTemplate(api *config.AggregatedAPI, generated corev1.PodTemplateSpec) (corev1.PodTemplateSpec, field.ErrorList) {
	final := generated
	var errs, directiveErrs field.ErrorList
	var patchMap map[string]any
	if patch := api.Spec.Server.PodTemplatePatch(); patch != nil {
		final, errs = customizePodTemplate(api, generated, patch)
		_ = json.Unmarshal(patch, &patchMap) // customizePodTemplate reported a failure
		directiveErrs = checkDirectives(patchMap, api.Spec.Server.ContainerName)
	}
	server := api.Spec.Server.ContainerName
	check := PodSpecCheck{At: podTemplatePath, Server: server, ResourcesAt: serverResourcesAt(patchMap, server)}
	errs = append(errs, directiveErrs...)
	// A directive reported is the reason for what the template then lacks: say it once.
	for _, e := range CheckPodSpec(&final, check) {
		if slices.ContainsFunc(directiveErrs, func(d *field.Error) bool { return strings.HasPrefix(e.Field, d.Field) }) {
			continue
		}
		if strings.HasPrefix(e.Field, serverResourcesPath.String()) && defaultResources(api.Spec.Server.Resources) {
			e.Detail += fmt.Sprintf(" (without spec.server.resources the function requests cpu %s and memory %s: set spec.server.resources)", config.DefaultCPURequest, config.DefaultMemoryRequest)
		}
		errs = append(errs, e)
	}
	return final, errs
}

// defaultResources tells whether r is what Default gives a config without resources.
func defaultResources(r *config.Resources) bool {
	return r != nil && len(r.Limits) == 0 && maps.Equal(r.Requests, map[string]string{"cpu": config.DefaultCPURequest, "memory": config.DefaultMemoryRequest})
}

var serverResourcesPath = field.NewPath("spec", "server", "resources")

// serverResourcesAt locates the server container's (named containerName) requests and
// limits the podTemplate does not set: they come from spec.server.resources (or its
// defaults).
func serverResourcesAt(patchMap map[string]any, containerName string) func(string, string, corev1.ResourceName) *field.Path {
	return func(container, kind string, name corev1.ResourceName) *field.Path {
		if container != containerName {
			return nil
		}
		if server := patchContainer(patchMap, "containers", containerName); server != nil {
			resources, _ := server["resources"].(map[string]any)
			if list, ok := resources[kind].(map[string]any); ok {
				if _, set := list[string(name)]; set {
					return nil
				}
			}
		}
		return serverResourcesPath.Child(kind).Key(string(name))
	}
}

// patchContainer is the item of spec.<list> named name in a podTemplate patch, or nil.
func patchContainer(patchMap map[string]any, list, name string) map[string]any {
	spec, _ := patchMap["spec"].(map[string]any)
	items, _ := spec[list].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

// checkDirectives refuses the strategic-merge directives (and nulls) that would remove
// the hardening or the probes the function sets, naming why: the merge itself would
// do it without a word.
func checkDirectives(patchMap map[string]any, containerName string) field.ErrorList {
	var errs field.ErrorList
	sp := podTemplatePath.Child("spec")
	if spec, ok := patchMap["spec"].(map[string]any); ok {
		errs = append(errs, checkRemoval(sp.Child("securityContext"), spec, "securityContext", false,
			"the pod security context holds the hardening the function sets (runAsNonRoot, runAsUser, fsGroup, seccompProfile RuntimeDefault); set the fields to change instead")...)
	}
	if server := patchContainer(patchMap, "containers", containerName); server != nil {
		cp := sp.Child("containers").Key(containerName)
		errs = append(errs, checkRemoval(cp.Child("securityContext"), server, "securityContext", false,
			"the server container's security context holds the hardening the function sets (allowPrivilegeEscalation: false, readOnlyRootFilesystem, runAsNonRoot, capabilities drop ALL); set the fields to change instead")...)
		errs = append(errs, checkRemoval(cp.Child("readinessProbe"), server, "readinessProbe", true,
			"the HTTPS readiness probe keeps a ready server behind the APIService during a rollout; change its fields instead")...)
		errs = append(errs, checkRemoval(cp.Child("livenessProbe"), server, "livenessProbe", true,
			"the function sets the liveness probe; change its fields instead")...)
	}
	return errs
}

// checkRemoval refuses parent[key] set to null, or to a map carrying a directive
// that deletes it or its keys, or (unless replaceOK: the result is checked) replaces it.
func checkRemoval(p *field.Path, parent map[string]any, key string, replaceOK bool, why string) field.ErrorList {
	v, ok := parent[key]
	if !ok {
		return nil
	}
	if v == nil {
		return field.ErrorList{field.Forbidden(p, "null removes it: "+why)}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil // the config's strict decode refused it
	}
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(m)) {
		switch {
		case k == "$patch" && (m[k] == "delete" || m[k] == "replace" && !replaceOK):
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("`$patch: %v` removes what the function sets: %s", m[k], why)))
		case k == "$retainKeys" || strings.HasPrefix(k, "$deleteFromPrimitiveList/"):
			errs = append(errs, field.Forbidden(p, fmt.Sprintf("`%s` removes what the function sets: %s", k, why)))
		}
	}
	return errs
}

// customizePodTemplate merges the user's partial pod template onto the generated one
// with Kubernetes' strategic merge (kubectl patch semantics: containers, volumes and
// env merge by name), then checks the result still serves with the function's
// certificate: the server container, the serving-cert volume and mount, the TLS flags,
// the selector labels and a runnable security context.
func customizePodTemplate(api *config.AggregatedAPI, generated corev1.PodTemplateSpec, patch []byte) (corev1.PodTemplateSpec, field.ErrorList) {
	original, err := templateToMap(&generated)
	if err != nil {
		return generated, field.ErrorList{field.InternalError(podTemplatePath, err)}
	}
	var patchMap map[string]any
	if err := json.Unmarshal(patch, &patchMap); err != nil {
		return generated, field.ErrorList{field.Invalid(podTemplatePath, field.OmitValueType{}, err.Error())}
	}
	mergedMap, err := strategicpatch.StrategicMergeMapPatch(original, patchMap, corev1.PodTemplateSpec{})
	if err != nil {
		return generated, field.ErrorList{field.Invalid(podTemplatePath, field.OmitValueType{}, fmt.Sprintf("cannot be merged onto the generated pod template: %v", err))}
	}
	mergedJSON, err := json.Marshal(mergedMap)
	if err != nil {
		return generated, field.ErrorList{field.InternalError(podTemplatePath, err)}
	}
	var merged corev1.PodTemplateSpec
	// sigs.k8s.io/json, as the config's strict decode of the template: decoding a
	// type builds its field encoders first, and that package's are already built.
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(mergedJSON, &merged); err != nil {
		return generated, field.ErrorList{field.Invalid(podTemplatePath, field.OmitValueType{}, fmt.Sprintf("the merged pod template does not decode: %v", err))}
	}
	return merged, checkMergedTemplate(api, generated, merged)
}

func checkMergedTemplate(api *config.AggregatedAPI, generated, merged corev1.PodTemplateSpec) field.ErrorList {
	var errs field.ErrorList
	p := podTemplatePath
	for _, k := range slices.Sorted(maps.Keys(selector(api))) {
		if merged.Labels[k] != generated.Labels[k] {
			errs = append(errs, field.Forbidden(p.Child("metadata", "labels").Key(k), fmt.Sprintf("must stay %q: the Deployment and the Service select the pods by it", generated.Labels[k])))
		}
	}

	sp := p.Child("spec")
	if merged.Spec.HostNetwork != generated.Spec.HostNetwork {
		errs = append(errs, field.Forbidden(sp.Child("hostNetwork"), fmt.Sprintf(
			"must stay %t: set spec.server.hostNetwork instead, which also sets dnsPolicy ClusterFirstWithHostNet and keeps the server's port off the kubelet's", generated.Spec.HostNetwork)))
	}
	genVolume := findVolume(generated.Spec.Volumes, servingCertVolume)
	if v := findVolume(merged.Spec.Volumes, servingCertVolume); v == nil {
		errs = append(errs, field.Forbidden(sp.Child("volumes"), fmt.Sprintf("removes the volume %q: it holds the serving certificate the APIServices trust", servingCertVolume)))
	} else if !reflect.DeepEqual(v, genVolume) {
		errs = append(errs, field.Forbidden(sp.Child("volumes").Key(servingCertVolume), fmt.Sprintf("replaces the volume %q (Secret %s): it holds the serving certificate the APIServices trust; add volumes under other names", servingCertVolume, genVolume.Secret.SecretName)))
	}

	containerName := api.Spec.Server.ContainerName
	gen := findContainer(generated.Spec.Containers, containerName)
	c := findContainer(merged.Spec.Containers, containerName)
	cp := sp.Child("containers").Key(containerName)
	if c == nil {
		errs = append(errs, field.Forbidden(sp.Child("containers"), fmt.Sprintf("removes the server container %q; change it by giving a container of that name", containerName)))
	} else {
		genMount := gen.VolumeMounts[0]
		found := false
		for _, m := range c.VolumeMounts {
			if m.MountPath == genMount.MountPath {
				found = reflect.DeepEqual(m, genMount)
			}
		}
		if !found {
			errs = append(errs, field.Forbidden(cp.Child("volumeMounts"), fmt.Sprintf("removes or replaces the read-only mount of %q at %s, where the TLS flags point", servingCertVolume, genMount.MountPath)))
		}
		for _, arg := range serverFlags(api) {
			if !slices.Contains(c.Args, arg) {
				errs = append(errs, field.Forbidden(cp.Child("args"), fmt.Sprintf("drops %s: the server would not serve the certificate the APIServices trust; args replace the generated list, so add arguments with spec.server.args", arg)))
			}
		}
		if !slices.ContainsFunc(c.Ports, func(port corev1.ContainerPort) bool {
			return port.Name == httpsPortName && port.ContainerPort == api.Spec.Server.Port
		}) {
			errs = append(errs, field.Forbidden(cp.Child("ports"), fmt.Sprintf("removes the port %q (%d) the Service and the probes use; set spec.server.port to change it", httpsPortName, api.Spec.Server.Port)))
		}
	}
	errs = append(errs, checkNonRoot(sp, merged.Spec)...)
	return errs
}

// checkNonRoot rejects a container that would run as root while runAsNonRoot is true
// for it: the kubelet refuses to start such a container.
func checkNonRoot(sp *field.Path, spec corev1.PodSpec) field.ErrorList {
	var errs field.ErrorList
	pod := spec.SecurityContext
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	check := func(list string, containers []corev1.Container) {
		for _, c := range containers {
			user, userAt := pod.RunAsUser, sp.Child("securityContext", "runAsUser")
			nonRoot, nonRootAt := pod.RunAsNonRoot, sp.Child("securityContext", "runAsNonRoot")
			if sc := c.SecurityContext; sc != nil {
				if sc.RunAsUser != nil {
					user, userAt = sc.RunAsUser, sp.Child(list).Key(c.Name).Child("securityContext", "runAsUser")
				}
				if sc.RunAsNonRoot != nil {
					nonRoot, nonRootAt = sc.RunAsNonRoot, sp.Child(list).Key(c.Name).Child("securityContext", "runAsNonRoot")
				}
			}
			if user != nil && *user == 0 && nonRoot != nil && *nonRoot {
				errs = append(errs, field.Forbidden(userAt, fmt.Sprintf("container %q would run as root while %s is true: the kubelet refuses to start it; set runAsNonRoot: false there too if it must run as root", c.Name, nonRootAt)))
			}
		}
	}
	check("initContainers", spec.InitContainers)
	check("containers", spec.Containers)
	return errs
}

func findVolume(vs []corev1.Volume, name string) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == name {
			return &vs[i]
		}
	}
	return nil
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}
