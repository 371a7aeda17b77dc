package render

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// otherProvidersAPIService is KEDA's APIService for the external metrics API.
const otherProvidersAPIService = `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.external.metrics.k8s.io
spec:
  group: external.metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service: {name: keda-operator-metrics-apiserver, namespace: keda, port: 443}
`

// TestAnotherProvidersAPIServiceStays: a version with createAPIService: false renders
// beside another provider's APIService for it, which passes through unchanged, across
// re-renders; without it the render is refused, saying to set it.
func TestAnotherProvidersAPIServiceStays(t *testing.T) {
	config := func(create string) *yaml.RNode {
		return yaml.MustParse(`apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: adapter}
spec:
  groups:
  - group: custom.metrics.k8s.io
    versions: [{name: v1beta2}]
  - group: external.metrics.k8s.io
    versions: [{name: v1beta1` + create + `}]
  server: {image: registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0}
`)
	}
	theirs := yaml.MustParse(otherProvidersAPIService)
	before := theirs.MustString()
	out := render(t, []*yaml.RNode{theirs}, config(", createAPIService: false"), t0)
	again := render(t, out.Items, config(", createAPIService: false"), t0)
	for _, o := range []Output{out, again} {
		var names []string
		for _, it := range o.Items {
			if it.GetKind() == "APIService" {
				names = append(names, it.GetName())
			}
		}
		if strings.Join(names, " ") != "v1beta1.external.metrics.k8s.io v1beta2.custom.metrics.k8s.io" {
			t.Errorf("APIServices %v, want the other provider's and ours", names)
		}
		if got := find(o.Items, "APIService", "v1beta1.external.metrics.k8s.io").MustString(); got != before {
			t.Errorf("the other provider's APIService changed:\n%s", got)
		}
	}

	refused := Process([]*yaml.RNode{yaml.MustParse(otherProvidersAPIService)}, config(""), t0)
	if !refused.Failed || !strings.Contains(messages(refused), "set createAPIService: false") {
		t.Errorf("registering a version another provider's APIService holds: %s", messages(refused))
	}
}
