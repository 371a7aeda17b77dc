package config

import (
	"os"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

func TestLoadDefaults(t *testing.T) {
	api, errs := Load([]byte(testutil.MinimalConfig("metrics")))
	if len(errs) > 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	s := api.Spec
	checks := map[string][2]any{
		"namespace":            {s.Namespace, "metrics"},
		"service.name":         {s.Service.Name, "metrics"},
		"service.port":         {s.Service.Port, int32(443)},
		"groupPriorityMinimum": {s.GroupPriorityMinimum, int32(1000)},
		"versionPriority":      {s.Versions[0].VersionPriority, int32(15)},
		"server.port":          {s.Server.Port, int32(10250)},
		"server.replicas":      {s.Server.Replicas, int32(1)},
		"server.flags.tlsCert": {*s.Server.Flags.TLSCertFile, "--tls-cert-file"},
		"server.flags.tlsMin":  {*s.Server.Flags.TLSMinVersion, "--tls-min-version"},
		"server.flags.suites":  {*s.Server.Flags.TLSCipherSuites, "--tls-cipher-suites"},
		"server.hostNetwork":   {s.Server.HostNetwork, false},
		"validity":             {s.Certificate.Validity, "8760h"},
		"renewBefore":          {s.Certificate.RenewBefore, "720h"},
		"keyAlgorithm":         {s.Certificate.KeyAlgorithm, "ECDSA-P256"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s defaulted to %v, want %v", name, c[0], c[1])
		}
	}
	if got := api.ServingDNSNames()[0]; got != "metrics.metrics.svc" {
		t.Errorf("serving name %q", got)
	}
}

func TestExamplesAreValid(t *testing.T) {
	for _, path := range []string{"../../examples/kustomize/aggapi.yaml", "../../examples/kpt/aggapi.yaml", "../../testdata/basic/config.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := Load(b); len(errs) > 0 {
			t.Errorf("%s: %v", path, errs)
		}
	}
}

func TestValidateReportsEveryFieldPath(t *testing.T) {
	_, errs := Load([]byte(`
apiVersion: aggapi.dev/v1alpha1
kind: AggregatedAPI
metadata: {name: x}
spec:
  group: "-bad-"
  versions: [{name: v1, versionPriority: 1001}, {name: v1}, {name: 2v}]
  groupPriorityMinimum: -1
  namespace: Bad
  service: {name: svc.x, port: 65536}
  server:
    image: "a b"
    replicas: 101
    flags: {tlsCertFile: "tls-cert"}
    resources: {requests: {cpu: lots}}
    extraRules: [{verbs: [get]}]
  certificate: {validity: 30m, renewBefore: 0s}
  unknownThing: 1
`))
	want := []string{
		"spec.group", "spec.versions[0].versionPriority", "spec.versions[1].name", "spec.versions[2].name",
		"spec.groupPriorityMinimum", "spec.namespace", "spec.service.name", "spec.service.port",
		"spec.server.image", "spec.server.replicas", "spec.server.flags.tlsCertFile",
		"spec.server.resources.requests[cpu]", "spec.server.extraRules[0].resources",
		"spec.certificate.validity", "spec.certificate.renewBefore", "spec.unknownThing",
	}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Field] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no error for %s; got:\n%s", w, errs.ToAggregate())
		}
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), "v1.-bad-") {
			t.Errorf("an invalid group is reported again through the APIService names: %v", e)
		}
	}
}

// TestRejectedValuesAreNotReportedAgain: a value the schema rejects is dropped and
// defaulted before Validate runs; Validate's findings about the stand-in, or about
// anything under a rejected object, are not reported, so each problem shows once and
// only about what the user wrote.
func TestRejectedValuesAreNotReportedAgain(t *testing.T) {
	for _, c := range []struct {
		spec     string
		rejected string
	}{
		// Dropped and defaulted to 720h, which is not below the 2h validity.
		{"group: g.example.com\n  versions: [{name: v1}]\n  server: {image: x}\n  certificate: {validity: 2h, renewBefore: soon}", "spec.certificate.renewBefore"},
		// Dropped: Validate would find no image under it.
		{"group: g.example.com\n  versions: [{name: v1}]\n  server: []", "spec.server"},
		// Dropped to null: Validate would find no name in it.
		{"group: g.example.com\n  versions: [v1]\n  server: {image: x}", "spec.versions[0]"},
		// Dropped: Validate would find metadata.name missing.
		{"group: g.example.com\n  versions: [{name: v1}]\n  server: {image: x}", "metadata"},
	} {
		metadata := "metadata: {name: x}"
		if c.rejected == "metadata" {
			metadata = "metadata: x"
		}
		_, errs := Load([]byte("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\n" + metadata + "\nspec:\n  " + c.spec + "\n"))
		n := 0
		for _, e := range errs {
			if isAtOrUnder(e.Field, c.rejected) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: want one error at or under it; got:\n%s", c.rejected, errs.ToAggregate())
		}
	}
}

// TestResourceNames: what RBAC rules name, and nothing else.
func TestResourceNames(t *testing.T) {
	for r, want := range map[string]bool{
		"flunders": true, "flunders/status": true, "*": true, "pods/*": true, "*/scale": true, "a-b2": true, "x": true,
		"": false, "Flunders": false, "-a": false, "a-": false, "a/": false, "/a": false, "a/b/c": false, "a b": false, "a_b": false, "**": false,
	} {
		if got := isResourceName(r); got != want {
			t.Errorf("isResourceName(%q) = %v, want %v", r, got, want)
		}
	}
}
