package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envWarnings is an environment with AGGAPI_WARNINGS set to v and the real clock at now.
func envWarnings(v string, now time.Time) Env {
	return envOf(map[string]string{WarningsEnvVar: v}, now)
}

// TestAggapiWarningsErrorFailsARenderThatWarns: with AGGAPI_WARNINGS=error a render
// that warns (a previous Deployment edited after the render) exits 1, keeps the warning
// on stderr, says why it failed, and writes the input back unchanged; without it, or
// with warn, the same render passes; a render without warnings passes either way; a
// mistyped value is refused before anything is read.
func TestAggapiWarningsErrorFailsARenderThatWarns(t *testing.T) {
	t.Parallel()
	edited := goldenInput(t, filepath.Join("..", "..", "testdata", "edited-deployment"))
	clean := goldenInput(t, filepath.Join("..", "..", "testdata", "basic"))
	for _, c := range []struct {
		name, value string
		in          []byte
		code        int
	}{
		{"edited, unset", "", edited, 0},
		{"edited, warn", "warn", edited, 0},
		{"edited, error", "error", edited, 1},
		{"clean, error", "error", clean, 0},
		{"mistyped", "errors", clean, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(envWarnings(c.value, goldenNow), nil, bytes.NewReader(c.in), &out, &errOut)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, errOut.String())
			}
			switch c.name {
			case "edited, error":
				for _, want := range []string{"aggapi: warning: Deployment", "aggapi: error: AGGAPI_WARNINGS=error: the render has 1 warning(s), which fail it"} {
					if !strings.Contains(errOut.String(), want) {
						t.Errorf("stderr does not say %q:\n%s", want, errOut.String())
					}
				}
				if !strings.Contains(out.String(), "severity: error") || !strings.Contains(out.String(), "AGGAPI_WARNINGS=error") {
					t.Errorf("the results do not carry the error:\n%s", out.String())
				}
				// The items are the input's: the previous Deployment, edit and all.
				if got, want := itemsOf(t, out.Bytes()), itemsOf(t, c.in); !bytes.Equal(got, want) {
					t.Errorf("a render failed by its warnings wrote other items than its input:\n%s", lineDiff(string(want), string(got)))
				}
			case "mistyped":
				if out.Len() != 0 || !strings.Contains(errOut.String(), `AGGAPI_WARNINGS="errors": want error`) {
					t.Errorf("stdout %d bytes, stderr:\n%s", out.Len(), errOut.String())
				}
			case "edited, unset", "edited, warn":
				if !strings.Contains(errOut.String(), "aggapi: warning: Deployment") {
					t.Errorf("no warning on stderr:\n%s", errOut.String())
				}
			}
		})
	}
}
