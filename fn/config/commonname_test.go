package config

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommonName(t *testing.T) {
	short := strings.Repeat("a", 64)
	if got := CommonName(short); got != short {
		t.Errorf("a 64-byte name changed: %q", got)
	}
	long := strings.Repeat("a", 100)
	got := CommonName(long)
	if len(got) != 64 || !strings.HasPrefix(got, strings.Repeat("a", 55)+"-") {
		t.Errorf("CommonName(100 bytes) = %q (%d bytes)", got, len(got))
	}
	if other := CommonName(strings.Repeat("a", 99) + "b"); other == got {
		t.Errorf("two names shorten to the same %q", got)
	}
	if got := CommonName(strings.Repeat("é", 40)); len(got) > 64 || !utf8.ValidString(got) {
		t.Errorf("multi-byte name shortened to %q (%d bytes)", got, len(got))
	}
}
