package verify

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil"
)

// TestPodTemplateFindings: a config valid on its own whose pod template render refuses
// (requests above limits) is an error of `verify --config`, reported with the config.
func TestPodTemplateFindings(t *testing.T) {
	api, errs := config.Load([]byte(testutil.MinimalConfig("wardle") + "    resources: {requests: {cpu: '2'}, limits: {cpu: '1'}}\n"))
	if len(errs) > 0 {
		t.Fatalf("the config is valid on its own: %v", errs)
	}
	findings := PodTemplateFindings(api, "aggapi.yaml")
	if len(findings) == 0 {
		t.Fatal("requests above limits: no finding")
	}
	for _, f := range findings {
		if f.Severity != Error || f.Object != "AggregatedAPI wardle (aggapi.yaml)" || !strings.Contains(f.Message, "spec.server.resources") {
			t.Errorf("finding %s", f)
		}
	}
	stale := Stale([]*yaml.RNode{}, []Config{{Name: "wardle", Source: "aggapi.yaml", PodTemplate: findings}})
	if len(stale) != len(findings)+1 || stale[0] != findings[0] {
		t.Errorf("Stale does not report the pod template findings first: %v", stale)
	}

	api, _ = config.Load([]byte(testutil.MinimalConfig("wardle")))
	if f := PodTemplateFindings(api, "aggapi.yaml"); len(f) != 0 {
		t.Errorf("the minimal config: %v", f)
	}
}
