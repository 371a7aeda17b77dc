package pipeline

import (
	"bytes"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/fn/pki"
	"github.com/aggapi/aggapi/internal/testutil"
)

// TestKustomizePassesAggapiNow: the pinned kustomize hands its environment to an exec
// function, so AGGAPI_NOW set for `kustomize build` sets the render's clock (the
// serving certificate is issued at that time) and the note reaches the user's stderr.
func TestKustomizePassesAggapiNow(t *testing.T) {
	t.Parallel()
	k := testutil.Kustomize(t)
	dir := copyKustomizeExample(t, "kustomize")
	at := time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)
	cmd := testutil.Cmd{Dir: dir, Env: append(os.Environ(), "AGGAPI_NOW="+at.Format(time.RFC3339))}
	r := cmd.Run(t, k, "build", "--enable-alpha-plugins", "--enable-exec", ".")
	if r.Err != nil {
		t.Fatalf("kustomize build: %v\n%s", r.Err, r.Stderr)
	}
	if !strings.Contains(string(r.Stderr), "the clock is set to 2030-03-01T00:00:00Z by AGGAPI_NOW") {
		t.Errorf("kustomize's stderr does not carry the function's note:\n%s", r.Stderr)
	}
	checkIssuedAt(t, r.Stdout, at)
	if bytes.Contains(r.Stdout, []byte("AGGAPI_NOW")) {
		t.Errorf("the note leaked into the rendered objects")
	}
}

// TestKptPassesAggapiNow: kpt fn eval hands its environment to an exec function too;
// the clock note is one of the function's results, which kpt prints.
func TestKptPassesAggapiNow(t *testing.T) {
	t.Parallel()
	k := testutil.Kpt(t)
	pkg := testutil.CopyExample(t, "kpt")
	at := time.Date(2030, 3, 1, 0, 0, 0, 0, time.UTC)
	cmd := testutil.Cmd{Dir: pkg, Env: append(os.Environ(), "AGGAPI_NOW="+at.Format(time.RFC3339))}
	r := cmd.Run(t, k, "fn", "eval", ".", "--exec", aggapiBin, "--fn-config", "aggapi.yaml", "-o", "stdout")
	if r.Err != nil {
		t.Fatalf("kpt fn eval: %v\n%s", r.Err, r.Stderr)
	}
	if !strings.Contains(string(r.Stdout)+string(r.Stderr), "the clock is set to 2030-03-01T00:00:00Z by AGGAPI_NOW") {
		t.Errorf("kpt shows no note that the clock is set:\n%s", r.Stderr)
	}
	checkIssuedAt(t, r.Stdout, at)
}

// checkIssuedAt checks the serving certificate in a render was issued at at: it
// expires a year (the default validity) after it.
func checkIssuedAt(t *testing.T, out []byte, at time.Time) {
	t.Helper()
	var notAfter time.Time
	for _, n := range parseYAML(t, out) {
		if n.GetKind() != "Secret" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(n.GetDataMap()["tls.crt"])
		if err != nil {
			t.Fatal(err)
		}
		certs, err := pki.ParseCertsPEM(b)
		if err != nil {
			t.Fatal(err)
		}
		notAfter = certs[0].NotAfter
	}
	if d := notAfter.Sub(at); d < 8759*time.Hour || d > 8761*time.Hour {
		t.Errorf("the serving certificate expires %s, not a year after AGGAPI_NOW (%s)", notAfter, at)
	}
}
