package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/aggapi/aggapi/fn/config"
	"github.com/aggapi/aggapi/internal/testutil"
)

// digestBases are minimal configs of each shape whose defaults differ: the property
// below spells out every default of each in turn.
var digestBases = map[string]string{
	"generate": `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: wardle}
spec:
  group: wardle.example.com
  versions: [{name: v1alpha1}, {name: v1beta1}]
  server: {image: "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2"}
`,
	"groups and a NetworkPolicy": `apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: metrics}
spec:
  groups:
  - group: custom.metrics.k8s.io
    versions: [{name: v1beta2}]
  - group: external.metrics.k8s.io
    versions: [{name: v1beta1}]
  networkPolicy: {enabled: true, apiServerCIDRs: [10.0.0.0/24]}
  server: {image: "registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0"}
`,
	"cert-manager with an issuer": testutil.MinimalConfig("wardle") + "  certificate: {mode: cert-manager, certManager: {issuerRef: {name: my-ca}}}\n",
	"cert-manager, own CA":        testutil.MinimalConfig("wardle") + "  certificate: {mode: cert-manager, certManager: {}}\n",
}

// namesField maps each spec.names key to the derived name it overrides; a key
// missing here fails the test, so a new name is covered when it is added.
var namesField = map[string]string{
	"serviceAccount":      "ServiceAccount",
	"secret":              "Secret",
	"deployment":          "Deployment",
	"service":             "Service",
	"clusterRole":         "ServerRole",
	"clusterRoleBinding":  "ServerRoleBinding",
	"authDelegator":       "AuthDelegator",
	"authReader":          "AuthReader",
	"viewRole":            "ViewRole",
	"editRole":            "EditRole",
	"podDisruptionBudget": "PodDisruptionBudget",
	"networkPolicy":       "NetworkPolicy",
}

// TestDigestIgnoresSpelledOutDefaults: for each base config, every default (each leaf
// that Default fills, plus createNamespace, a disabled networkPolicy and every name of
// spec.names at its derived value) is spelled out in turn, and then all at once; the
// config digest must not move. A non-default value must move it (the check can fail).
func TestDigestIgnoresSpelledOutDefaults(t *testing.T) {
	for name, doc := range digestBases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := toMap(t, []byte(doc))
			api := load(t, raw)
			base := digestOf(t, api)

			defaulted := map[string]any{}
			b, err := json.Marshal(api.Spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &defaulted); err != nil {
				t.Fatal(err)
			}
			spelled := map[string]any{} // path → value, every default found
			leaves(defaulted, nil, func(path []string, v any) {
				if _, set := lookup(raw["spec"], path); !set {
					spelled[strings.Join(path, ".")] = v
				}
			})
			// Default sets these as a whole: one request spelled out alone leaves the
			// other unset, which is a different config, not a spelled-out default.
			for _, whole := range []string{"server.resources"} {
				v, _ := lookup(defaulted, strings.Split(whole, "."))
				if _, set := lookup(raw["spec"], strings.Split(whole, ".")); set {
					continue
				}
				for p := range spelled {
					if strings.HasPrefix(p, whole+".") {
						delete(spelled, p)
					}
				}
				spelled[whole] = v
			}
			if _, set := lookup(raw["spec"], []string{"createNamespace"}); !set {
				spelled["createNamespace"] = true
			}
			if _, set := lookup(raw["spec"], []string{"networkPolicy"}); !set {
				spelled["networkPolicy.enabled"] = false
			}
			// Off or empty, these render nothing.
			spelled["server.hostNetwork"] = false
			spelled["server.tls"] = map[string]any{}
			spelled["server.metrics.serviceMonitor.enabled"] = false
			spelled["networkPolicy.allowKonnectivityAgents"] = false
			// Derived when unset: spelled out at the derived value, they render the same.
			spelled["server.selectorLabels"] = map[string]any{"app.kubernetes.io/name": api.Name, "app.kubernetes.io/component": "apiserver"}
			if _, set := lookup(raw["spec"], []string{"versions", "0"}); set {
				spelled["versions.0.createAPIService"] = true
			}
			if _, set := lookup(raw["spec"], []string{"groups", "1", "versions", "0"}); set {
				spelled["groups.1.versions.0.createAPIService"] = true
			}
			names := reflect.ValueOf(api.ObjectNames())
			for _, f := range reflect.VisibleFields(reflect.TypeFor[config.ObjectNames]()) {
				key := strings.Split(f.Tag.Get("json"), ",")[0]
				field, ok := namesField[key]
				if !ok {
					t.Fatalf("spec.names.%s has no entry in namesField", key)
				}
				spelled["names."+key] = names.FieldByName(field).String()
			}
			if len(spelled) < 10 {
				t.Fatalf("only %d defaults found: the walk is broken", len(spelled))
			}

			paths := make([]string, 0, len(spelled))
			for p := range spelled {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			all := clone(t, raw)
			for _, p := range paths {
				one := clone(t, raw)
				set(one["spec"].(map[string]any), strings.Split(p, "."), spelled[p])
				set(all["spec"].(map[string]any), strings.Split(p, "."), spelled[p])
				if got := digestOf(t, load(t, one)); got != base {
					t.Errorf("spelling out the default spec.%s: %v moved the config digest", p, spelled[p])
				}
			}
			if got := digestOf(t, load(t, all)); got != base {
				t.Errorf("spelling out all %d defaults at once moved the config digest", len(paths))
			}

			changed := clone(t, raw)
			set(changed["spec"].(map[string]any), []string{"names", "deployment"}, "not-the-default")
			if digestOf(t, load(t, changed)) == base {
				t.Error("a non-default spec.names.deployment did not move the digest")
			}
		})
	}
}

func toMap(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := sigsyaml.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func clone(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func load(t *testing.T, m map[string]any) *config.AggregatedAPI {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	api, errs := config.LoadJSON(b)
	if len(errs) > 0 {
		t.Fatalf("%v\n%s", errs, b)
	}
	return api
}

func digestOf(t *testing.T, api *config.AggregatedAPI) string {
	t.Helper()
	d, err := ConfigDigest(api)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// leaves calls f for every scalar or list-of-scalars value under v, with its path of
// keys; a list of objects is walked by index ("0", "1", ...).
func leaves(v any, path []string, f func([]string, any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			leaves(x, append(append([]string{}, path...), k), f)
		}
	case []any:
		if len(v) > 0 {
			if _, obj := v[0].(map[string]any); obj {
				for i, x := range v {
					leaves(x, append(append([]string{}, path...), fmt.Sprint(i)), f)
				}
				return
			}
		}
		f(path, v)
	default:
		f(path, v)
	}
}

func lookup(v any, path []string) (any, bool) {
	for _, k := range path {
		switch c := v.(type) {
		case map[string]any:
			x, ok := c[k]
			if !ok {
				return nil, false
			}
			v = x
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// set writes value at path, making the maps on the way; list indexes must exist.
func set(m map[string]any, path []string, value any) {
	var cur any = m
	for i, k := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[k] = value
				return
			}
			next, ok := c[k]
			if !ok {
				next = map[string]any{}
				c[k] = next
			}
			cur = next
		case []any:
			var j int
			fmt.Sscan(k, &j)
			if last {
				c[j] = value
				return
			}
			cur = c[j]
		}
	}
}
