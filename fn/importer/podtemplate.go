package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/fn/manifests"
)

// baseRules are the rules aggapi's server ClusterRole holds without extraRules.
func baseRules() []rbacv1.PolicyRule {
	api := &config.AggregatedAPI{}
	api.Name = "base"
	api.Spec.Server.Image = "base"
	api.Default()
	return manifests.ServerClusterRole(api, api.ObjectNames()).Rules
}

// generatedTemplate is the pod template aggapi renders for api (defaulted and valid),
// before any podTemplate.
func generatedTemplate(api *config.AggregatedAPI) (corev1.PodTemplateSpec, error) {
	d, err := manifests.Deployment(api, api.ObjectNames(), manifests.Material{})
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	return d.Spec.Template, nil
}

// podTemplate is the strategic-merge patch that turns the generated pod template into
// the installation's, less what the function owns (the server's image, args, port and
// serving certificate, which the config's own fields carry) and less every removal:
// what aggapi adds (hardening, probes' settings, its volumes) stays, and the report says so.
func (d *draft) podTemplate(in *installation, gen corev1.PodTemplateSpec) (map[string]any, error) {
	up := *in.deployment.v.Spec.Template.DeepCopy()
	up.Name, up.Namespace, up.GenerateName = "", "", "" // a pod template's name means nothing
	ups := &up.Spec
	if a := ups.Affinity; a != nil && a.NodeAffinity == nil && a.PodAffinity == nil && a.PodAntiAffinity == nil {
		ups.Affinity = nil
	}
	server := &ups.Containers[in.container]
	gi := slices.IndexFunc(gen.Spec.Containers, func(c corev1.Container) bool { return len(c.Ports) > 0 })
	if gi < 0 {
		return nil, fmt.Errorf("the generated pod template has no server container")
	}
	g := gen.Spec.Containers[gi]
	upName := server.Name

	// What the config's fields carry: the same on both sides.
	server.Name, server.Image, server.ImagePullPolicy = g.Name, g.Image, g.ImagePullPolicy
	server.Command, server.Args, server.Resources = g.Command, g.Args, g.Resources
	oldPort := in.containerPort.Name
	for i := range server.Ports {
		if server.Ports[i].ContainerPort == in.containerPort.ContainerPort {
			server.Ports[i] = g.Ports[0]
		}
	}
	if !slices.ContainsFunc(server.Ports, func(p corev1.ContainerPort) bool { return p.Name == g.Ports[0].Name }) {
		server.Ports = append([]corev1.ContainerPort{g.Ports[0]}, server.Ports...)
	}
	if oldPort != "" && oldPort != g.Ports[0].Name {
		d.note(in.deployment.ref(), "spec.template.spec.containers["+upName+"].ports", fmt.Sprintf("the port named %q is named %q (the Service's targetPort is the port number)", oldPort, g.Ports[0].Name))
		for _, p := range []*corev1.Probe{server.ReadinessProbe, server.LivenessProbe, server.StartupProbe} {
			renamePort(p, oldPort, g.Ports[0].Name)
		}
	}

	// The serving certificate: the function mounts its own Secret; a Secret mounted
	// where the dropped TLS file flags pointed is no longer used.
	certDirs := map[string]bool{}
	for _, f := range d.tlsFiles {
		certDirs[path.Dir(f)] = true
	}
	dropVolume := map[string]bool{}
	var kept []corev1.VolumeMount
	for _, m := range server.VolumeMounts {
		if certDirs[path.Clean(m.MountPath)] {
			dropVolume[m.Name] = true
			continue
		}
		kept = append(kept, m)
	}
	server.VolumeMounts = kept
	// An emptyDir at /tmp is the function's own tmp volume.
	genVolume := func(mount string) *corev1.VolumeMount {
		i := slices.IndexFunc(g.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == mount })
		if i < 0 {
			return nil
		}
		return &g.VolumeMounts[i]
	}
	rename := map[string]string{}
	for i := range server.VolumeMounts {
		m := &server.VolumeMounts[i]
		gm := genVolume(m.MountPath)
		if gm == nil || gm.Name == m.Name || !isEmptyDir(ups.Volumes, m.Name) {
			continue
		}
		rename[m.Name] = gm.Name
	}
	for from, to := range rename {
		d.note(in.deployment.ref(), "spec.template.spec.volumes["+from+"]", fmt.Sprintf("the emptyDir is the render's own %q volume (mounted at the same path)", to))
		for ci := range ups.Containers {
			for mi := range ups.Containers[ci].VolumeMounts {
				if m := &ups.Containers[ci].VolumeMounts[mi]; m.Name == from {
					m.Name = to
				}
			}
		}
	}
	var volumes []corev1.Volume
	for _, v := range ups.Volumes {
		if dropVolume[v.Name] {
			what := "volume"
			if v.Secret != nil {
				what = "Secret " + v.Secret.SecretName
			}
			d.note(in.deployment.ref(), "spec.template.spec.volumes["+v.Name+"]", fmt.Sprintf("%s held the serving certificate (%s): the pods mount the render's serving Secret instead", what, strings.Join(d.dropped, " ")))
			continue
		}
		if to, ok := rename[v.Name]; ok {
			v.Name = to
		}
		volumes = append(volumes, v)
	}
	ups.Volumes = volumes
	in.droppedVolumes = dropVolume
	for _, m := range g.VolumeMounts {
		if !slices.ContainsFunc(server.VolumeMounts, func(x corev1.VolumeMount) bool { return x.MountPath == m.MountPath }) {
			server.VolumeMounts = append(server.VolumeMounts, m)
		}
	}
	for _, v := range gen.Spec.Volumes {
		if !slices.ContainsFunc(ups.Volumes, func(x corev1.Volume) bool { return x.Name == v.Name }) {
			ups.Volumes = append(ups.Volumes, v)
		}
	}
	// The ServiceAccount, priority class and host networking are config fields.
	ups.HostNetwork, ups.DNSPolicy = gen.Spec.HostNetwork, gen.Spec.DNSPolicy
	ups.ServiceAccountName, ups.DeprecatedServiceAccount = gen.Spec.ServiceAccountName, ""
	ups.PriorityClassName = gen.Spec.PriorityClassName

	genJSON, err := json.Marshal(gen)
	if err != nil {
		return nil, err
	}
	upJSON, err := json.Marshal(up)
	if err != nil {
		return nil, err
	}
	raw, err := strategicpatch.CreateTwoWayMergePatch(genJSON, upJSON, corev1.PodTemplateSpec{})
	if err != nil {
		return nil, fmt.Errorf("%s: comparing the pod template with aggapi's: %w", in.deployment.where(), err)
	}
	var patch map[string]any
	if err := json.Unmarshal(raw, &patch); err != nil {
		return nil, err
	}
	patch, _ = additions(patch).(map[string]any)
	selector := d.api.SelectorLabels()
	if meta, ok := patch["metadata"].(map[string]any); ok {
		if l, ok := meta["labels"].(map[string]any); ok {
			maps.DeleteFunc(l, func(k string, v any) bool {
				s, _ := v.(string)
				// The function's own labels keep its values.
				return selector[k] == s || d.api.Spec.CommonLabels[k] == s || slices.Contains(config.ReservedLabels, k)
			})
			if len(l) == 0 {
				delete(meta, "labels")
			}
		}
		if len(meta) == 0 {
			delete(patch, "metadata")
		}
	}
	// The patch names the server container by the name the config keeps.
	if spec, ok := patch["spec"].(map[string]any); ok {
		if cs, ok := spec["containers"].([]any); ok {
			for _, c := range cs {
				if m, ok := c.(map[string]any); ok && m["name"] == g.Name {
					m["name"] = upName
				}
			}
		}
	}
	if len(patch) == 0 {
		return nil, nil
	}
	return patch, nil
}

func renamePort(p *corev1.Probe, from, to string) {
	if p == nil {
		return
	}
	if h := p.HTTPGet; h != nil && h.Port.Type == intstr.String && h.Port.StrVal == from {
		h.Port = intstr.FromString(to)
	}
	if t := p.TCPSocket; t != nil && t.Port.Type == intstr.String && t.Port.StrVal == from {
		t.Port = intstr.FromString(to)
	}
}

func isEmptyDir(volumes []corev1.Volume, name string) bool {
	return slices.ContainsFunc(volumes, func(v corev1.Volume) bool { return v.Name == name && v.EmptyDir != nil })
}

// additions is a strategic-merge patch without its removals: nulls, $patch: delete
// items, and the ordering, retain-keys and primitive-list deletion directives.
func additions(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return x // {} sets an empty object, such as emptyDir: {}
		}
		out := map[string]any{}
		for k, val := range x {
			if val == nil || strings.HasPrefix(k, "$") {
				continue
			}
			if a := additions(val); a != nil {
				out[k] = a
			}
		}
		if len(out) == 0 {
			return nil
		}
		// A list item left with only its merge key changes nothing.
		if len(out) == 1 && len(x) > 1 {
			for _, key := range []string{"name", "mountPath", "containerPort", "devicePath", "ip"} {
				if _, ok := out[key]; ok {
					return nil
				}
			}
		}
		return out
	case []any:
		var out []any
		for _, it := range x {
			if m, ok := it.(map[string]any); ok && m["$patch"] == "delete" {
				continue
			}
			if a := additions(it); a != nil {
				out = append(out, a)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}
