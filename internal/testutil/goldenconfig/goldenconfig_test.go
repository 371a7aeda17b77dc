package goldenconfig

import (
	"path/filepath"
	"testing"
)

// TestValid: the basic case is in, a config Load refuses is not.
func TestValid(t *testing.T) {
	cases := map[string]bool{}
	for _, c := range Valid(t) {
		if c.API == nil {
			t.Errorf("%s: no config", c.Path)
		}
		cases[filepath.Base(filepath.Dir(c.Path))] = true
	}
	if !cases["basic"] || cases["err-bad-duration"] {
		t.Errorf("basic in: %v, err-bad-duration in: %v; want true, false", cases["basic"], cases["err-bad-duration"])
	}
}
