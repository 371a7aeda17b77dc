package verify

import (
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/fn/render"
	"github.com/aggapi/aggapi/internal/testutil"
)

// renderAt renders testdata/basic at now over the previous items.
func renderAt(t *testing.T, previous []*yaml.RNode, now time.Time) []*yaml.RNode {
	t.Helper()
	b := testutil.ReadFile(t, "../../testdata/basic/config.yaml")
	var in []*yaml.RNode
	for _, n := range previous {
		in = append(in, n.Copy())
	}
	out := render.Process(in, yaml.MustParse(string(b)), now)
	if out.Failed {
		t.Fatal(out.Results)
	}
	return out.Items
}

func scheduleAt(t *testing.T, items []*yaml.RNode, now time.Time, timings map[string]Timing) Schedule {
	t.Helper()
	r := Manifests(items, Options{Now: now, WarnWithin: time.Hour, Timings: timings, DefaultTiming: Timing{RenewBefore: 720 * time.Hour, Overlap: 24 * time.Hour, From: "default"}})
	if r.Errors() > 0 || len(r.Schedules) != 1 {
		t.Fatalf("at %s: %d schedule(s), findings %v", now, len(r.Schedules), r.Findings)
	}
	return r.Schedules[0]
}

func bundleOf(t *testing.T, items []*yaml.RNode) []*x509.Certificate {
	t.Helper()
	for _, n := range items {
		if n.GetKind() == "APIService" {
			b, _ := base64.StdEncoding.DecodeString(str(n, "spec", "caBundle"))
			certs, err := pki.ParseCertsPEM(b)
			if err != nil {
				t.Fatal(err)
			}
			return certs
		}
	}
	t.Fatal("no APIService")
	return nil
}

func same(a, b []*yaml.RNode) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].MustString() != b[i].MustString() {
			return false
		}
	}
	return true
}

// TestScheduleSaysWhenARenderChangesTheOutput steps a render through a certificate's
// life and holds verify's schedule to what the renderer does: a render one second
// before RenewalFrom changes nothing and one at it renews; after the renewal a render
// one second before a previous CA's LeavesAt keeps it and one at it drops it; Due says
// so at each of those instants, and nothing else.
func TestScheduleSaysWhenARenderChangesTheOutput(t *testing.T) {
	timings := map[string]Timing{"wardle": {RenewBefore: 720 * time.Hour, Overlap: 24 * time.Hour, From: "config"}}
	first := renderAt(t, nil, t0)
	s := scheduleAt(t, first, t0, timings)
	if s.Config != "wardle" || s.Secret != "wardle/wardle-serving-cert" || s.DatesFrom != "tls.crt" || len(s.APIServices) != 2 {
		t.Errorf("schedule names %+v", s)
	}
	if want := t0.Add(8760 * time.Hour); !s.NotAfter.Equal(want) || !s.RenewalFrom.Equal(want.Add(-720*time.Hour)) || len(s.PreviousCAs) != 0 || len(s.Due) != 0 {
		t.Fatalf("fresh render: %+v", s)
	}

	before := s.RenewalFrom.Add(-time.Second)
	if got := scheduleAt(t, first, before, timings); len(got.Due) != 0 {
		t.Errorf("due a second before RenewalFrom: %v", got.Due)
	}
	if !same(renderAt(t, first, before), first) {
		t.Errorf("a render a second before RenewalFrom changed the output, and verify did not say so")
	}
	if got := scheduleAt(t, first, s.RenewalFrom, timings); strings.Join(got.Due, ",") != DueRenewal {
		t.Errorf("at RenewalFrom: due %v, want renewal", got.Due)
	}
	renewed := renderAt(t, first, s.RenewalFrom)
	if same(renewed, first) || len(bundleOf(t, renewed)) != 2 {
		t.Fatalf("the render at RenewalFrom did not renew")
	}

	r := scheduleAt(t, renewed, s.RenewalFrom, timings)
	if len(r.Due) != 0 || len(r.PreviousCAs) != 1 || !r.NotBefore.After(s.NotBefore) {
		t.Fatalf("after the renewal: %+v", r)
	}
	leaves := r.PreviousCAs[0].LeavesAt
	if want := r.NotBefore.Add(24 * time.Hour); !leaves.Equal(want) || r.PreviousCAs[0].CommonName != bundleOf(t, first)[0].Subject.CommonName {
		t.Errorf("the previous CA leaves at %s, want %s (overlap after NotBefore)", leaves, want)
	}
	if !same(renderAt(t, renewed, leaves.Add(-time.Second)), renewed) {
		t.Errorf("a render a second before the overlap end changed the output")
	}
	if got := scheduleAt(t, renewed, leaves.Add(-time.Second), timings); len(got.Due) != 0 {
		t.Errorf("due a second before the overlap end: %v", got.Due)
	}
	if got := scheduleAt(t, renewed, leaves, timings); strings.Join(got.Due, ",") != DueOverlapEnd {
		t.Errorf("at the overlap end: due %v, want overlap-end", got.Due)
	}
	stable := renderAt(t, renewed, leaves)
	if len(bundleOf(t, stable)) != 1 || len(scheduleAt(t, stable, leaves, timings).Due) != 0 {
		t.Errorf("the render at the overlap end did not drop the previous CA, or verify still calls it due")
	}
	if !same(renderAt(t, stable, leaves.Add(time.Hour)), stable) {
		t.Errorf("the render after the overlap end is not stable")
	}
}

// TestScheduleTimingAndSources: the config's renewBefore moves RenewalFrom, a config
// not given takes the defaults and says so, and a SOPS-encrypted Secret leaves the
// dates to the caBundle's current CA, which aggapi issues with the same dates.
func TestScheduleTimingAndSources(t *testing.T) {
	items := rendered(t)
	plain := scheduleAt(t, items, t0, nil)
	if plain.Timing.From != "default" || plain.Timing.RenewBefore != 720*time.Hour {
		t.Errorf("without a config: %+v", plain.Timing)
	}
	own := scheduleAt(t, items, t0, map[string]Timing{"wardle": {RenewBefore: 48 * time.Hour, Overlap: time.Hour, From: "config"}})
	if !own.RenewalFrom.Equal(own.NotAfter.Add(-48*time.Hour)) || own.Timing.From != "config" {
		t.Errorf("with the config's renewBefore 48h: %+v", own)
	}
	encrypted := set(t, items, "Secret", secretName(t, items), "ENC[AES256_GCM,data:abc=,iv:00,tag:00,type:str]", "data", "tls.crt")
	e := scheduleAt(t, encrypted, t0, nil)
	if e.DatesFrom != "caBundle" || !e.NotAfter.Equal(plain.NotAfter) || !e.NotBefore.Equal(plain.NotBefore) {
		t.Errorf("an encrypted Secret: dates from %s %s..%s, want caBundle %s..%s", e.DatesFrom, e.NotBefore, e.NotAfter, plain.NotBefore, plain.NotAfter)
	}
}

// TestCANamePrefixIsTheRenderers: verify knows aggapi's CAs by the renderer's naming.
func TestCANamePrefixIsTheRenderers(t *testing.T) {
	if cn := bundleOf(t, rendered(t))[0].Subject.CommonName; !strings.HasPrefix(cn, caNamePrefix) {
		t.Errorf("the renderer names its CA %q; verify looks for %q", cn, caNamePrefix)
	}
}

// TestScheduleOnlyForAggapisCA: a caBundle of another CA (mode provided) is the
// user's to renew: no schedule.
func TestScheduleOnlyForAggapisCA(t *testing.T) {
	b := testutil.ReadFile(t, "../../testdata/basic/config.yaml")
	ca, err := pki.NewCertificateAuthority("my own CA", pki.KeyAlgorithm("ECDSA-P256"), t0, t0.Add(8760*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "    keyAlgorithm: ECDSA-P256\n", "    mode: provided\n    provided:\n      secretName: mine\n      caBundle: |\n"+indent(string(pki.EncodeCertPEM(ca.Cert)), "        "), 1)
	out := render.Process(nil, yaml.MustParse(cfg), t0)
	if out.Failed {
		t.Fatal(out.Results)
	}
	if r := Manifests(out.Items, Options{Now: t0}); len(r.Schedules) != 0 {
		t.Errorf("a provided CA has a schedule: %+v", r.Schedules)
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{720 * time.Hour: "720h", 90 * time.Minute: "1h30m", 0: "0s", 5 * time.Minute: "5m", 90 * time.Second: "1m30s"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%s) = %q, want %q", d, got, want)
		}
	}
}
