package verify

import (
	"strings"
	"testing"
)

// TestStampsReportEdits: an object changed after the render is an edit naming the
// object, at the severity asked, with the fields given; an unchanged render has none,
// and nothing is checked without CheckEdits (a deploy layer's build on stdin).
func TestStampsReportEdits(t *testing.T) {
	items := set(t, rendered(t), "Deployment", "wardle-apiserver", "3", "spec", "replicas")
	edits := func(checkEdits bool, sev Severity) []Finding {
		s := Stamps{CheckEdits: checkEdits}
		for _, n := range items {
			s.Add(n)
		}
		return s.Edits(sev, func(e Edited) []string {
			if e.Owner != "wardle" {
				t.Errorf("owner %q", e.Owner)
			}
			return []string{"spec.replicas"}
		})
	}
	got := edits(true, Error)
	if len(got) != 1 || got[0].Severity != Error || got[0].Object != "Deployment wardle/wardle-apiserver" ||
		!strings.Contains(got[0].Message, "no longer matches its aggapi.dev/rendered-digest (changed: spec.replicas)") {
		t.Errorf("edits: %v", got)
	}
	if got := edits(true, Warning); len(got) != 1 || got[0].Severity != Warning {
		t.Errorf("as warnings: %v", got)
	}
	if got := edits(false, Error); len(got) != 0 {
		t.Errorf("without CheckEdits: %v", got)
	}
	// A SOPS-encrypted Secret is not an edit: its digest is of the plaintext.
	enc := set(t, rendered(t), "Secret", "wardle-serving-cert", "ENC[AES256_GCM,data:abc=,iv:00,tag:00,type:str]", "data", "tls.key")
	var encStamps Stamps
	encStamps.CheckEdits = true
	for _, n := range enc {
		encStamps.Add(n)
	}
	if got := encStamps.Edited(); len(got) != 0 {
		t.Errorf("an encrypted Secret is an edit: %v", got)
	}
	var clean Stamps
	clean.CheckEdits = true
	for _, n := range rendered(t) {
		clean.Add(n)
	}
	if got := clean.Edited(); len(got) != 0 {
		t.Errorf("a clean render has edits: %v", got)
	}
}
