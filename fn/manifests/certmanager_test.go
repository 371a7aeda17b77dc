package manifests

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/aggapi/aggapi/fn/config"
)

// TestCertManagerDurationsSurviveMetav1RoundTrip: cert-manager's types hold duration
// and renewBefore as metav1.Duration, so whatever decodes and re-encodes a Certificate
// writes them back in that type's form; the rendered form must already be it, or a
// GitOps tool sees the object drift from Git after every apply.
func TestCertManagerDurationsSurviveMetav1RoundTrip(t *testing.T) {
	for _, c := range []config.Certificate{
		{Mode: config.ModeCertManager},
		{Mode: config.ModeCertManager, Validity: "2160h", RenewBefore: "90m", CertManager: &config.CertManagerCertificate{CADuration: "17520h"}},
		{Mode: config.ModeCertManager, Validity: "1.5h", RenewBefore: "300s", CertManager: &config.CertManagerCertificate{CADuration: "100h30m"}},
	} {
		api := &config.AggregatedAPI{}
		api.Name = "x"
		api.Spec.Group, api.Spec.Versions = "x.example.com", []config.Version{{Name: "v1"}}
		api.Spec.Server.Image = "x"
		api.Spec.Certificate = c
		api.Default()
		if errs := api.Validate(); len(errs) > 0 {
			t.Fatalf("%+v: %v", c, errs.ToAggregate())
		}
		for _, o := range CertManagerObjects(api, api.ObjectNames()) {
			cert, ok := o.(*Certificate)
			if !ok {
				continue
			}
			for field, v := range map[string]string{"duration": cert.Spec.Duration, "renewBefore": cert.Spec.RenewBefore} {
				if v == "" {
					continue
				}
				var d metav1.Duration
				if err := json.Unmarshal([]byte(`"`+v+`"`), &d); err != nil {
					t.Fatalf("Certificate %s spec.%s %q: %v", cert.Name, field, v, err)
				}
				back, _ := json.Marshal(d)
				if string(back) != `"`+v+`"` {
					t.Errorf("Certificate %s spec.%s is %q; cert-manager stores it as %s", cert.Name, field, v, back)
				}
			}
		}
	}
}
