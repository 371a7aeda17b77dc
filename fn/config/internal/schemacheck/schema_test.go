package schemacheck

import (
	"testing"

	"github.com/aggapi/aggapi/config/crd"
)

// TestPatternsCompileOnUse: decoding the schema compiles no regexp; checking a value does.
func TestPatternsCompileOnUse(t *testing.T) {
	s, err := Parse(crd.AggregatedAPISchema)
	if err != nil {
		t.Fatal(err)
	}
	cert := s.Properties["spec"].Properties["certificate"]
	if cert.Properties["validity"].compiled.re != nil {
		t.Fatal("a pattern was compiled before any value needed it")
	}
	errs := s.Validate(map[string]any{"spec": map[string]any{"certificate": map[string]any{"validity": "soon"}}})
	if cert.Properties["validity"].compiled.re == nil || cert.Properties["overlap"].compiled.re != nil {
		t.Fatal("the pattern checked is not the one compiled")
	}
	if len(errs) == 0 {
		t.Fatal("a bad duration passed the pattern")
	}
}
