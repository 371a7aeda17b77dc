package verify

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func secretName(t *testing.T, items []*yaml.RNode) string {
	t.Helper()
	for _, it := range items {
		if it.GetKind() == "Secret" {
			return it.GetName()
		}
	}
	t.Fatal("no Secret")
	return ""
}

// TestOneFindingPerProblem: each defect gives exactly one finding on each APIService it
// affects, and nothing is silently read as something else (a port that is not a number
// was read as port 0).
func TestOneFindingPerProblem(t *testing.T) {
	const api = "v1alpha1.wardle.example.com"
	cases := map[string]struct {
		mutate func(t *testing.T, i []*yaml.RNode) []*yaml.RNode
		want   []string // the findings of APIService v1alpha1, in order
	}{
		"port not a number": {func(t *testing.T, i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "APIService", api, "https", "spec", "service", "port")
		}, []string{`spec.service.port "https" is not a port number (1-65535)`}},
		"port out of range": {func(t *testing.T, i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "APIService", api, "70000", "spec", "service", "port")
		}, []string{`spec.service.port "70000" is not a port number (1-65535)`}},
		"tls.crt not base64": {func(t *testing.T, i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "Secret", secretName(t, i), "not base64!", "data", "tls.crt")
		}, []string{"tls.crt is not base64"}},
		"tls.key not base64": {func(t *testing.T, i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "Secret", secretName(t, i), "not base64!", "data", "tls.key")
		}, []string{"tls.key is not base64"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := Manifests(c.mutate(t, rendered(t)), Options{Now: t0, WarnWithin: 720 * time.Hour})
			var got []string
			for _, f := range r.Findings {
				if f.Object == "APIService "+api {
					got = append(got, f.Message)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("findings %q, want %q", got, c.want)
			}
			for i := range got {
				if !strings.Contains(got[i], c.want[i]) {
					t.Errorf("finding %q, want %q", got[i], c.want[i])
				}
			}
		})
	}
}

// TestSharedChecksReportOnEveryAPIService: checks that several APIServices share (the
// Secret behind one Service) run once, and their findings appear on each APIService.
func TestSharedChecksReportOnEveryAPIService(t *testing.T) {
	items := rendered(t)
	items = set(t, items, "Secret", secretName(t, items), "not base64!", "data", "tls.crt")
	r := Manifests(items, Options{Now: t0, WarnWithin: 720 * time.Hour})
	on := map[string]int{}
	for _, f := range r.Findings {
		if strings.Contains(f.Message, "tls.crt is not base64") {
			on[f.Object]++
		}
	}
	if r.APIServices != 2 || len(on) != 2 || on["APIService v1alpha1.wardle.example.com"] != 1 || on["APIService v1beta1.wardle.example.com"] != 1 {
		t.Errorf("findings by APIService %v, want one on each of 2", on)
	}
}

// TestMalformedShapesDoNotPanic: annotations or data that are lists (kyaml's
// GetAnnotations and GetDataMap panic on them) are read as absent.
func TestMalformedShapesDoNotPanic(t *testing.T) {
	items := rendered(t)
	for _, it := range items {
		switch it.GetKind() {
		case "APIService":
			if err := it.PipeE(yaml.Lookup("metadata"), yaml.SetField("annotations", yaml.MustParse("[a]"))); err != nil {
				t.Fatal(err)
			}
		case "Secret":
			if err := it.PipeE(yaml.SetField("data", yaml.MustParse("[a]"))); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := Manifests(items, Options{Now: t0, WarnWithin: time.Hour})
	if r.APIServices != 2 || len(r.Findings) == 0 {
		t.Errorf("%d APIServices, findings %v; want 2, and the Secret without a certificate noted", r.APIServices, r.Findings)
	}
}
