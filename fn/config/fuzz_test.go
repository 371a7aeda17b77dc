package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: whatever a person typed, Load returns a valid config or field errors, and
// never panics; a config it accepts validates again after a round trip.
func FuzzLoad(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/*/config.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: aggapi.dev/v1alpha1\nkind: AggregatedAPI\nmetadata: {name: a}\nspec: {group: a.b, versions: [{name: v1}], server: {image: i}}\n"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		api, errs := Load(doc)
		if api == nil && len(errs) == 0 {
			t.Fatal("neither a config nor an error")
		}
		if api == nil {
			for _, e := range errs {
				if e.Error() == "" {
					t.Fatal("an error without a message")
				}
			}
			return
		}
		if errs := api.Validate(); len(errs) > 0 {
			t.Fatalf("an accepted config does not validate: %v", errs)
		}
		again, err := api.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := LoadJSON(again); len(errs) > 0 {
			t.Fatalf("an accepted config does not load again: %v", errs)
		}
	})
}
