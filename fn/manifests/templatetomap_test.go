package manifests

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/aggapi/aggapi/internal/testutil/goldenconfig"
)

// TestTemplateToMapMatchesJSON holds templateToMap to encoding/json: for
// the pod template of every golden config, both give the same map (numbers compared
// as JSON), so the strategic merge sees what it would see with json.Marshal.
func TestTemplateToMapMatchesJSON(t *testing.T) {
	checked := 0
	for _, c := range goldenconfig.Valid(t) {
		p, api := c.Path, c.API
		m := Material{PodAnnotations: map[string]string{"a": "b"}}
		d, err := Deployment(api, api.ObjectNames(), m)
		if err != nil {
			continue
		}
		for _, tmpl := range []corev1.PodTemplateSpec{d.Spec.Template, {}} {
			ours, err := templateToMap(&tmpl)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			b, _ := json.Marshal(&tmpl)
			var want map[string]any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(ours)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Errorf("%s:\n got  %s\n want %s", p, got, wantJSON)
			}
			checked++
		}
	}
	if checked < 20 {
		t.Fatalf("only %d templates checked", checked)
	}
}
