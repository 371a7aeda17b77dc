package verify

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/render"
	"github.com/aggapi/aggapi/internal/testutil"
)

var t0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func rendered(t *testing.T) []*yaml.RNode {
	t.Helper()
	b := testutil.ReadFile(t, "../../testdata/basic/config.yaml")
	out := render.Process(nil, yaml.MustParse(string(b)), t0)
	if out.Failed {
		t.Fatal(out.Results)
	}
	return out.Items
}

func without(items []*yaml.RNode, kind, name string) []*yaml.RNode {
	var out []*yaml.RNode
	for _, it := range items {
		if it.GetKind() != kind || it.GetName() != name {
			out = append(out, it)
		}
	}
	return out
}

func set(t *testing.T, items []*yaml.RNode, kind, name, value string, path ...string) []*yaml.RNode {
	t.Helper()
	for _, it := range items {
		if it.GetKind() == kind && it.GetName() == name {
			if err := it.PipeE(yaml.LookupCreate(yaml.ScalarNode, path...), yaml.FieldSetter{StringValue: value}); err != nil {
				t.Fatal(err)
			}
			return items
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

func TestCleanRenderPasses(t *testing.T) {
	r := Manifests(rendered(t), Options{Now: t0, WarnWithin: 720 * time.Hour})
	if r.APIServices != 2 || len(r.Findings) != 0 {
		t.Fatalf("a clean render: %d APIServices, findings %v", r.APIServices, r.Findings)
	}
}

func TestFindsWhatBreaksAggregation(t *testing.T) {
	otherCA := base64.StdEncoding.EncodeToString([]byte(strings.TrimSpace(pemOf(t, rendered(t), "ca.crt"))))
	cases := map[string]struct {
		mutate   func([]*yaml.RNode) []*yaml.RNode
		now      time.Time
		severity Severity
		want     string
	}{
		"no Service":        {func(i []*yaml.RNode) []*yaml.RNode { return without(i, "Service", "api") }, t0, Error, "ServiceNotFound"},
		"no Deployment":     {func(i []*yaml.RNode) []*yaml.RNode { return without(i, "Deployment", "wardle-apiserver") }, t0, Error, "MissingEndpoints"},
		"no auth-delegator": {func(i []*yaml.RNode) []*yaml.RNode { return without(i, "ClusterRoleBinding", "wardle-auth-delegator") }, t0, Error, "system:auth-delegator"},
		"no auth-reader":    {func(i []*yaml.RNode) []*yaml.RNode { return without(i, "RoleBinding", "wardle-auth-reader") }, t0, Error, "extension-apiserver-authentication-reader"},
		"insecureSkipTLSVerify": {func(i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "APIService", "v1alpha1.wardle.example.com", "true", "spec", "insecureSkipTLSVerify")
		}, t0, Error, "insecureSkipTLSVerify"},
		"caBundle of another render": {func(i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "APIService", "v1alpha1.wardle.example.com", otherCA, "spec", "caBundle")
		}, t0, Error, "FailedDiscoveryCheck"},
		"no caBundle": {func(i []*yaml.RNode) []*yaml.RNode {
			for _, it := range i {
				if it.GetName() == "v1alpha1.wardle.example.com" {
					if err := it.PipeE(yaml.Lookup("spec"), yaml.Clear("caBundle")); err != nil {
						t.Fatal(err)
					}
				}
			}
			return i
		}, t0, Error, "unknown authority"},
		"wrong APIService port": {func(i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "APIService", "v1alpha1.wardle.example.com", "8443", "spec", "service", "port")
		}, t0, Error, "has no port 8443"},
		"wrong name": {func(i []*yaml.RNode) []*yaml.RNode {
			return set(t, i, "APIService", "v1alpha1.wardle.example.com", "v2", "spec", "version")
		}, t0, Error, "<version>.<group>"},
		"expiring": {func(i []*yaml.RNode) []*yaml.RNode { return i }, t0.Add(8100 * time.Hour), Warning, "re-render to renew"},
		"expired":  {func(i []*yaml.RNode) []*yaml.RNode { return i }, t0.Add(9000 * time.Hour), Error, "expired"},
		"nothing":  {func(i []*yaml.RNode) []*yaml.RNode { return nil }, t0, Error, "no APIService found"},
		// Every version with createAPIService: false: the server is there, nothing trusts it here.
		"servers only": {func(i []*yaml.RNode) []*yaml.RNode {
			return slices.DeleteFunc(i, func(n *yaml.RNode) bool { return n.GetKind() == "APIService" })
		}, t0, Warning, "no APIService found, only servers"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := Manifests(c.mutate(rendered(t)), Options{Now: c.now, WarnWithin: 720 * time.Hour})
			if c.severity == Warning && r.Errors() > 0 {
				t.Errorf("errors beside the warning: %v", r.Findings)
			}
			for _, f := range r.Findings {
				if f.Severity == c.severity && strings.Contains(f.Message, c.want) {
					return
				}
			}
			t.Errorf("no %s finding containing %q; got %v", c.severity, c.want, r.Findings)
		})
	}
}

func pemOf(t *testing.T, items []*yaml.RNode, key string) string {
	for _, it := range items {
		if it.GetKind() == "Secret" {
			b, err := base64.StdEncoding.DecodeString(it.GetDataMap()[key])
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatal("no Secret")
	return ""
}
