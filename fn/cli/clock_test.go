package cli

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envWith is an environment whose AGGAPI_NOW is now and whose real clock is realNow.
func envWith(now string, realNow time.Time) Env {
	return envOf(map[string]string{"AGGAPI_NOW": now}, realNow)
}

// envOf is an environment holding only vars, whose real clock says now.
func envOf(vars map[string]string, now time.Time) Env {
	return Env{Getenv: func(k string) string { return vars[k] }, Now: func() time.Time { return now }}
}

// TestAggapiNowSetsTheRendersClock: with AGGAPI_NOW the certificate is issued at that
// time, not at the real one, and the render says so on stderr and in its results.
func TestAggapiNowSetsTheRendersClock(t *testing.T) {
	t.Parallel()
	stdin := goldenInput(t, filepath.Join("..", "..", "testdata", "basic"))
	real := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	want := time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)
	var out, errOut bytes.Buffer
	if code := Run(envWith("2027-11-01T00:00:00Z", real), nil, bytes.NewReader(stdin), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	note := "the clock is set to 2027-11-01T00:00:00Z by AGGAPI_NOW"
	if !strings.Contains(errOut.String(), "aggapi: note: "+note) {
		t.Errorf("stderr does not say the clock is set:\n%s", errOut.String())
	}
	if !strings.Contains(out.String(), note) {
		t.Errorf("the results do not say the clock is set")
	}
	leaf := servingCert(t, out.Bytes())
	if got := leaf.NotAfter.Sub(want); got < 8759*time.Hour || got > 8761*time.Hour {
		t.Errorf("NotAfter %s is not a year after AGGAPI_NOW %s", leaf.NotAfter, want)
	}

	// Without it: the real clock, and not a word about the clock.
	out.Reset()
	errOut.Reset()
	if code := Run(envWith("", real), nil, bytes.NewReader(stdin), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if strings.Contains(errOut.String()+out.String(), "AGGAPI_NOW") {
		t.Errorf("a render on the real clock mentions AGGAPI_NOW")
	}
	if leaf := servingCert(t, out.Bytes()); leaf.NotAfter.Sub(real) > 8761*time.Hour || leaf.NotAfter.Sub(real) < 8759*time.Hour {
		t.Errorf("NotAfter %s is not a year after the real clock %s", leaf.NotAfter, real)
	}
}

// TestMalformedAggapiNowIsRefused: every command that decides by dates stops before it
// does anything, naming the variable and its value; the function writes no output.
func TestMalformedAggapiNowIsRefused(t *testing.T) {
	t.Parallel()
	stdin := goldenInput(t, filepath.Join("..", "..", "testdata", "basic"))
	for _, c := range []struct {
		args []string
		code int
	}{
		{nil, 1},
		{[]string{"verify", "-"}, 2},
		{[]string{"aggregation-layer", "--dir", t.TempDir()}, 2},
	} {
		var out, errOut bytes.Buffer
		code := Run(envWith("2027-11-01", time.Now()), c.args, bytes.NewReader(stdin), &out, &errOut)
		if code != c.code || out.Len() != 0 || !strings.Contains(errOut.String(), `AGGAPI_NOW="2027-11-01" is not an RFC 3339 time`) {
			t.Errorf("%v: exit %d (want %d), stdout %d bytes, stderr:\n%s", c.args, code, c.code, out.Len(), errOut.String())
		}
	}
}

// TestAggapiNowSetsVerifysClock: a render checked a year and a half later has expired.
func TestAggapiNowSetsVerifysClock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rendered := renderTo(t, dir, verifyConfig)
	for _, c := range []struct {
		now  string
		code int
	}{{"", 0}, {"2028-06-01T00:00:00Z", 1}} {
		var out, errOut bytes.Buffer
		code := Run(envWith(c.now, goldenNow), []string{"verify", rendered}, strings.NewReader(""), &out, &errOut)
		if code != c.code {
			t.Errorf("AGGAPI_NOW=%q: exit %d, want %d\n%s%s", c.now, code, c.code, out.String(), errOut.String())
		}
		if c.now != "" && !strings.Contains(errOut.String(), "aggapi verify: note: the clock is set to "+c.now) {
			t.Errorf("AGGAPI_NOW=%q: stderr does not say so:\n%s", c.now, errOut.String())
		}
	}
}
