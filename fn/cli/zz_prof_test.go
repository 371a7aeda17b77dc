package cli

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestZZProf(t *testing.T) {
	b, err := os.ReadFile("/tmp/i10r/gen/10k.yaml")
	if err != nil {
		t.Skip()
	}
	code := Function(bytes.NewReader(b), io.Discard, os.Stderr)
	t.Log(code)
}
