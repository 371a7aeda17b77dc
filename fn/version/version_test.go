package version

import "testing"

// A test binary carries no version: what the goldens stamp must not depend on the
// commit they were written at.
func TestStringInTests(t *testing.T) {
	if got := String(); got != Devel {
		t.Errorf("String() = %q in a test binary, want %q", got, Devel)
	}
}
