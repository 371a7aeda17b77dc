package manifests

import (
	"strings"
	"testing"

	"github.com/aggapi/aggapi/fn/config"
)

// TestOddPodTemplates: whatever the strategic-merge patch language allows, the render
// either merges or says why not — never a panic, never an error without a field path.
func TestOddPodTemplates(t *testing.T) {
	for _, tmpl := range []string{
		`{spec: null}`,
		`{metadata: null, spec: {}}`,
		`{spec: {containers: null}}`,
		`{spec: {containers: []}}`,
		`{spec: {volumes: null, containers: [{name: apiserver, volumeMounts: null}]}}`,
		`{spec: {containers: [{name: apiserver, $patch: replace}]}}`,
		`{spec: {$patch: replace}}`,
		`{$patch: delete}`,
		`{spec: {containers: [{$patch: delete}]}}`,
		`{spec: {containers: [{name: apiserver, args: null}]}}`,
		`{spec: {containers: [{name: apiserver, ports: [{containerPort: 8443, $patch: delete}]}]}}`,
		`{spec: {$setElementOrder/containers: [{name: sidecar}, {name: apiserver}], containers: [{name: sidecar, image: x}]}}`,
		`{spec: {$retainKeys: [containers], containers: [{name: apiserver}]}}`,
		`{spec: {securityContext: {runAsNonRoot: false, runAsUser: 0}}}`,
		`{spec: {initContainers: [{name: x, image: busybox, securityContext: {runAsUser: 0}}]}}`,
		`{metadata: {labels: {app.kubernetes.io/component: other}}}`,
		`{spec: {containers: [{name: apiserver, volumeMounts: [{name: serving-cert, mountPath: /var/run/aggapi/serving-cert, $patch: delete}]}]}}`,
	} {
		api, errs := config.Load([]byte(podTemplateConfig(tmpl)))
		if len(errs) == 0 {
			errs = CheckPodTemplate(api)
			if _, err := Build(api, Material{}); (err != nil) != (len(errs) > 0) {
				t.Errorf("%s: Build says %v, CheckPodTemplate %v", tmpl, err, errs)
			}
		}
		for _, e := range errs {
			if !strings.HasPrefix(e.Field, "spec.server.podTemplate") {
				t.Errorf("%s: an error outside the podTemplate: %v", tmpl, e)
			}
		}
		t.Logf("%s: %v", tmpl, errs)
	}
}
