package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

func loadServer(t *testing.T, server string) (*AggregatedAPI, error) {
	t.Helper()
	doc := testutil.MinimalConfig("wardle") + server
	api, errs := Load([]byte(doc))
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return api, nil
}

// TestCanonicalFoldsWorkloadDefaults: each workload field spelled out at its default
// gives the canonical spec of the config without it (so a render is not stale for
// it), and a value that renders differently does not.
func TestCanonicalFoldsWorkloadDefaults(t *testing.T) {
	for _, c := range []struct {
		base, spelled string
		same          bool
	}{
		{"", "    containerName: apiserver\n", true},
		{"", "    containerName: metrics-server\n", false},
		{"", "    baseRules: Default\n", true},
		{"", "    baseRules: None\n", false},
		{"", "    selectorLabels: {app.kubernetes.io/name: wardle, app.kubernetes.io/component: apiserver}\n", true},
		{"", "    selectorLabels: {app.kubernetes.io/name: wardle}\n", false},
		{"    replicas: 3\n", "    podDisruptionBudget: {maxUnavailable: 1}\n", true},
		{"    replicas: 3\n", "    podDisruptionBudget: {maxUnavailable: 2}\n", false},
		{"    replicas: 3\n", "    podDisruptionBudget: {minAvailable: 2}\n", false},
		// With one replica no budget is emitted unless it is set.
		{"", "    podDisruptionBudget: {maxUnavailable: 1}\n", false},
	} {
		base, err := loadServer(t, c.base)
		if err != nil {
			t.Fatal(err)
		}
		spelled, err := loadServer(t, c.base+c.spelled)
		if err != nil {
			t.Fatalf("%s: %v", c.spelled, err)
		}
		if got := reflect.DeepEqual(base.Canonical(), spelled.Canonical()); got != c.same {
			t.Errorf("%q over %q: canonical spec the same: %v, want %v", c.spelled, c.base, got, c.same)
		}
	}
	api, err := loadServer(t, "")
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	api.Spec.Versions = []Version{{Name: "v1", CreateAPIService: &yes}, {Name: "v2", CreateAPIService: &no}}
	s := api.Canonical()
	if s.Versions[0].CreateAPIService != nil || s.Versions[1].CreateAPIService == nil {
		t.Errorf("createAPIService: true must fold to unset and false stay: %+v", s.Versions)
	}
	if api.Spec.Versions[0].CreateAPIService == nil {
		t.Error("Canonical changed the config's own versions")
	}
}

// TestDisruptionBudgetAllowsADrain: what the disruption controller would compute with
// every replica ready (percentages rounded up) decides; a budget that leaves no pod to
// evict is refused, naming the field and the replicas.
func TestDisruptionBudgetAllowsADrain(t *testing.T) {
	for _, c := range []struct {
		replicas, budget string
		refused          string // "" when valid
	}{
		{"2", "maxUnavailable: 1", ""},
		{"2", "minAvailable: 1", ""},
		{"2", "minAvailable: 2", "minAvailable: Invalid value: \"2\": with 2 replica(s) this budget allows no disruption"},
		{"2", `minAvailable: "50%"`, ""},
		{"2", `minAvailable: "51%"`, "allows no disruption"}, // 1.02 rounds up to 2
		{"3", `maxUnavailable: "10%"`, ""},                   // 0.3 rounds up to 1
		{"3", `maxUnavailable: "0%"`, "allows no disruption"},
		{"3", "maxUnavailable: 0", "allows no disruption"},
		{"1", "maxUnavailable: 1", ""},
		{"1", "minAvailable: 0", ""},
		{"1", "minAvailable: 1", "with 1 replica(s) this budget allows no disruption"},
		{"3", "minAvailable: 5", "allows no disruption"},
		{"3", "minAvailable: -1", "must not be negative"},
		{"3", `minAvailable: "100%"`, "allows no disruption"},
		{"3", `minAvailable: "101%"`, "must not be more than 100%"},
		{"3", `maxUnavailable: "1"`, `a string must be a percentage such as "50%"`},
		{"3", "maxUnavailable: 1.5", "must be a whole number of pods or a percentage"},
		{"3", "maxUnavailable: [1]", "must be a whole number of pods or a percentage"},
		{"3", "minAvailable: 1, maxUnavailable: 1", "set minAvailable or maxUnavailable, not both"},
		{"3", "minAvailable: null", ""},
	} {
		_, err := loadServer(t, "    replicas: "+c.replicas+"\n    podDisruptionBudget: {"+c.budget+"}\n")
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("replicas %s, %s: %v", c.replicas, c.budget, err)
		case c.refused != "" && err == nil:
			t.Errorf("replicas %s, %s: accepted, want %q", c.replicas, c.budget, c.refused)
		case c.refused != "" && !strings.Contains(err.Error(), c.refused):
			t.Errorf("replicas %s, %s: %v, want %q", c.replicas, c.budget, err, c.refused)
		case err != nil && !strings.Contains(err.Error(), "spec.server.podDisruptionBudget."):
			t.Errorf("replicas %s, %s: %v names no field", c.replicas, c.budget, err)
		}
	}
}
