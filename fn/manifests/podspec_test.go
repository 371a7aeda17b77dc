package manifests

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil"
)

// TestContainerResourceNames holds the mirror of the kube-apiserver's
// validateContainerResourceName (k8s.io/kubernetes v1.37.2, not linked) to the cases
// its rules decide.
func TestContainerResourceNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"cpu": true, "memory": true, "ephemeral-storage": true,
		"hugepages-2Mi": true, "hugepages-1Gi": true,
		"hugepages-huge":  true, // a name; its quantity is refused (no page size)
		"example.com/foo": true, "nvidia.com/gpu": true,
		"kubernetes.io/foo": true, "x.kubernetes.io/bar": true, // native: not extended, allowed
		"storage": false, "pods": false, "requests.cpu": false, "gpu": false,
		"requests.example.com/foo":               false, // the quota prefix
		"example.com/" + strings.Repeat("x", 63): true,
		"example.com/" + strings.Repeat("x", 64): false,
		"a/b/c":                                  false, "example.com/": false, "-x/y": false,
	} {
		if got := len(containerResourceNameErrors(name)) == 0; got != ok {
			t.Errorf("%q: accepted %v, want %v (%v)", name, got, ok, containerResourceNameErrors(name))
		}
	}
}

// TestCheckResources: request against limit as the kube-apiserver decides, per kind
// of resource.
func TestCheckResources(t *testing.T) {
	q := resource.MustParse
	for _, c := range []struct {
		name     corev1.ResourceName
		req, lim string
		ok       bool
	}{
		{"cpu", "1", "2", true},
		{"cpu", "2", "1", false},
		{"cpu", "1", "", true},
		{"cpu", "", "1", true},
		{"memory", "1Gi", "1024Mi", true},
		{"example.com/foo", "1", "1", true},
		{"example.com/foo", "1", "2", false}, // extended resources are not overcommitted
		{"example.com/foo", "1", "", false},
		{"example.com/foo", "", "1", true},
		{"example.com/foo", "", "500m", false}, // whole numbers
		{"kubernetes.io/foo", "1", "2", true},
		{"hugepages-2Mi", "4Mi", "4Mi", true},
		{"hugepages-2Mi", "2Mi", "4Mi", false},
		{"hugepages-2Mi", "", "3Mi", false},
		{"hugepages-1e999999999", "", "1", false}, // bounded: not parsed
		{"cpu", "-1", "", false},
	} {
		r := corev1.ResourceRequirements{Requests: corev1.ResourceList{"memory": q("1Mi")}, Limits: corev1.ResourceList{}}
		if c.name == "memory" {
			delete(r.Requests, "memory")
		}
		if c.req != "" {
			r.Requests[c.name] = q(c.req)
		}
		if c.lim != "" {
			r.Limits[c.name] = q(c.lim)
		}
		errs := checkResources(field.NewPath("r"), "c", r, PodSpecCheck{})
		if (len(errs) == 0) != c.ok {
			t.Errorf("%s request %q limit %q: %v, want ok=%v", c.name, c.req, c.lim, errs, c.ok)
		}
	}
}

// TestPodTemplatesKeepingTheHardening: changes a podTemplate may make to the server
// container and the pod without a word.
func TestPodTemplatesKeepingTheHardening(t *testing.T) {
	for _, tmpl := range []string{
		`{spec: {securityContext: {runAsUser: 1000}}}`,
		`{spec: {hostNetwork: false, dnsPolicy: ClusterFirst}}`,
		`{spec: {containers: [{name: apiserver, readinessProbe: {$patch: replace, httpGet: {path: /healthz, port: https, scheme: HTTPS}}}]}}`,
		`{spec: {containers: [{name: apiserver, livenessProbe: {httpGet: null, tcpSocket: {port: https}}}]}}`,
		`{spec: {containers: [{name: apiserver, securityContext: {readOnlyRootFilesystem: false, capabilities: {drop: [ALL, NET_RAW]}}}]}}`,
		`{spec: {volumes: [{name: tmp, emptyDir: null, configMap: {name: scratch}}]}}`,
		`{spec: {containers: [{name: apiserver, resources: {limits: {cpu: "2", memory: 1Gi}}}]}}`,
	} {
		api, errs := config.Load([]byte(podTemplateConfig(tmpl)))
		if len(errs) == 0 {
			errs = CheckPodTemplate(api)
		}
		if len(errs) > 0 {
			t.Errorf("%s: %v", tmpl, errs)
		}
	}
}

// TestPodTemplatesUndoingTheHardening: each is refused with its path.
func TestPodTemplatesUndoingTheHardening(t *testing.T) {
	for tmpl, want := range map[string]string{
		`{spec: {securityContext: null}}`:                                                                                 "spec.server.podTemplate.spec.securityContext",
		`{spec: {securityContext: {$retainKeys: [runAsUser], runAsUser: 1000}}}`:                                          "spec.server.podTemplate.spec.securityContext",
		`{spec: {containers: [{name: apiserver, securityContext: {capabilities: null}}]}}`:                                "spec.server.podTemplate.spec.containers[apiserver].securityContext.capabilities.drop",
		`{spec: {containers: [{name: apiserver, readinessProbe: {httpGet: null, exec: {command: [x]}}}]}}`:                "spec.server.podTemplate.spec.containers[apiserver].readinessProbe",
		`{spec: {containers: [{$patch: replace}, {name: apiserver, image: x}]}}`:                                          "spec.server.podTemplate.spec.containers[apiserver].securityContext",
		`{spec: {$retainKeys: [containers, volumes]}}`:                                                                    "spec.server.podTemplate.spec.securityContext",
		`{spec: {containers: [{name: apiserver, securityContext: {allowPrivilegeEscalation: false, privileged: true}}]}}`: "spec.server.podTemplate.spec.containers[apiserver].securityContext.privileged",
		`{spec: {volumes: [{name: tmp, emptyDir: null}]}}`:                                                                "spec.server.podTemplate.spec.volumes[tmp]",
		// spec.server.hostNetwork owns it: it also sets dnsPolicy and keeps the port off the kubelet's.
		`{spec: {hostNetwork: true, dnsPolicy: ClusterFirstWithHostNet}}`: "spec.server.podTemplate.spec.hostNetwork",
	} {
		api, errs := config.Load([]byte(podTemplateConfig(tmpl)))
		if len(errs) > 0 {
			t.Fatalf("%s: %v", tmpl, errs)
		}
		errs = CheckPodTemplate(api)
		found := false
		for _, e := range errs {
			found = found || e.Field == want
		}
		if !found {
			t.Errorf("%s: want an error at %s, got %v", tmpl, want, errs)
		}
		if _, err := Build(api, Material{}); err == nil {
			t.Errorf("%s: Build accepts what CheckPodTemplate refuses", tmpl)
		}
	}
}

// podTemplateConfig is the minimal config with tmpl as its spec.server.podTemplate.
func podTemplateConfig(tmpl string) string {
	return testutil.MinimalConfig("w") + "    podTemplate: " + tmpl + "\n"
}
