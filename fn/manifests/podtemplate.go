package manifests

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"

	"github.com/aggapi/aggapi/fn/config"
)

const servingCertVolume = "serving-cert"

var podTemplatePath = field.NewPath("spec", "server", "podTemplate")

// TemplateToMap turns a pod template into the JSON-shaped map strategic merge works on.
// fn/render sets it to yamlenc (walking the values that are set; yamlenc's tests build
// manifests, so this package cannot import it): json.Marshal would first build encoders
// for PodTemplateSpec's whole type graph, most of a millisecond in every process that
// merges a podTemplate. TestTemplateToMapMatchesJSON holds the two to the same maps.
var TemplateToMap = func(t *corev1.PodTemplateSpec) (map[string]any, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// CheckPodTemplate reports what merging spec.server.podTemplate would break, each
// problem with its field path; nil without a podTemplate. The render calls it before
// issuing certificates.
func CheckPodTemplate(api *config.AggregatedAPI) field.ErrorList {
	patch := api.Spec.Server.PodTemplatePatch()
	if patch == nil {
		return nil
	}
	d := generatedDeployment(api, api.ObjectNames(), Material{})
	_, errs := customizePodTemplate(api, d.Spec.Template, patch)
	return errs
}

// customizePodTemplate merges the user's partial pod template onto the generated one
// with Kubernetes' strategic merge (kubectl patch semantics: containers, volumes and
// env merge by name), then checks the result still serves with the function's
// certificate: the server container, the serving-cert volume and mount, the TLS flags,
// the selector labels and a runnable security context.
func customizePodTemplate(api *config.AggregatedAPI, generated corev1.PodTemplateSpec, patch []byte) (corev1.PodTemplateSpec, field.ErrorList) {
	original, err := TemplateToMap(&generated)
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
	genVolume := findVolume(generated.Spec.Volumes, servingCertVolume)
	if v := findVolume(merged.Spec.Volumes, servingCertVolume); v == nil {
		errs = append(errs, field.Forbidden(sp.Child("volumes"), fmt.Sprintf("removes the volume %q: it holds the serving certificate the APIServices trust", servingCertVolume)))
	} else if !reflect.DeepEqual(v, genVolume) {
		errs = append(errs, field.Forbidden(sp.Child("volumes").Key(servingCertVolume), fmt.Sprintf("replaces the volume %q (Secret %s): it holds the serving certificate the APIServices trust; add volumes under other names", servingCertVolume, genVolume.Secret.SecretName)))
	}

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
