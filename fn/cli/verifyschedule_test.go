package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aggapi/aggapi/internal/testutil"
)

// verifyAt runs `aggapi verify` with AGGAPI_NOW at now and stdin.
func verifyAtNow(t *testing.T, now time.Time, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(envWith(now.Format(time.RFC3339), goldenNow), append([]string{"verify"}, args...), strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestVerifyRenewalDueIsExit3: with --config, a render inside renewBefore is exit 3
// ("a render is due"), not 1; a stale render stays 1 on any day; without --config the
// schedule is printed (with the default renewBefore, said so) and the exit is 0.
func TestVerifyRenewalDueIsExit3(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rendered := renderTo(t, dir, verifyConfig)
	cfg := filepath.Join(dir, "aggapi.yaml")
	testutil.WriteFile(t, cfg, []byte(verifyConfig))
	notAfter := goldenNow.Add(8760 * time.Hour).Format(time.RFC3339)
	renewal := goldenNow.Add((8760 - 720) * time.Hour)

	out, stderr, code := verifyAtNow(t, goldenNow.Add(24*time.Hour), "", "--config", cfg, rendered)
	if code != 0 {
		t.Fatalf("a fresh render: exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		"certificate of AggregatedAPI wardle (Secret wardle/wardle-serving-cert; APIService v1alpha1.wardle.example.com):",
		"  expires:         " + notAfter + "\n",
		"  renewed from:    " + renewal.Format(time.RFC3339) + " (renewBefore 720h, the config's)",
		"  previous CA:     none in the caBundle",
		"not due: a re-render changes nothing",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the schedule lacks %q:\n%s", want, out)
		}
	}

	out, stderr, code = verifyAtNow(t, renewal, "", "--config", cfg, rendered)
	if code != 3 || !strings.Contains(out, "due: renewal") || !strings.Contains(out, "a render is due (renewal or overlap end): re-render and commit (exit 3)") {
		t.Errorf("inside renewBefore with --config: exit %d, want 3\n%s%s", code, out, stderr)
	}
	out, _, code = verifyAtNow(t, renewal, "", rendered)
	if code != 0 || !strings.Contains(out, "due: renewal") || !strings.Contains(out, "(renewBefore 720h, the default; --config reads the config's)") {
		t.Errorf("inside renewBefore without --config: exit %d, want 0\n%s", code, out)
	}

	stale := filepath.Join(dir, "stale.yaml")
	testutil.WriteFile(t, stale, []byte(strings.Replace(verifyConfig, "replicas: 1", "replicas: 2", 1)))
	for _, at := range []time.Time{goldenNow, renewal} {
		if out, _, code := verifyAtNow(t, at, "", "--config", stale, rendered); code != 1 || !strings.Contains(out, "the render is stale") {
			t.Errorf("a stale render at %s: exit %d, want 1\n%s", at, code, out)
		}
	}
}

// TestVerifyEditsInRenderedFiles: a hand edit in a rendered directory is an error
// naming the object and, with --config, the changed fields; the same objects in a file
// or on stdin (a deploy layer's build, patched on purpose) pass; --edits error, warn
// and off say otherwise.
func TestVerifyEditsInRenderedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rendered := renderTo(t, dir, verifyConfig) // dir/rendered.yaml
	cfg := filepath.Join(t.TempDir(), "aggapi.yaml")
	testutil.WriteFile(t, cfg, []byte(verifyConfig))
	testutil.ReplaceOnce(t, rendered, "replicas: 1", "replicas: 4")
	edited, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	const object = "error: Deployment wardle/wardle-apiserver: changed after aggapi rendered it: it no longer matches its aggapi.dev/rendered-digest"
	out, _, code := verifyAtNow(t, goldenNow, "", "--config", cfg, dir)
	if code != 1 || !strings.Contains(out, object+" (changed: spec.replicas)") {
		t.Errorf("an edit in a directory with --config: exit %d\n%s", code, out)
	}
	out, _, code = verifyAtNow(t, goldenNow, "", dir)
	if code != 1 || !strings.Contains(out, object+" (verify names the changed fields") {
		t.Errorf("an edit in a directory without --config: exit %d\n%s", code, out)
	}
	for name, c := range map[string]struct {
		stdin string
		args  []string
	}{
		"a file":   {"", []string{"--config", cfg, rendered}},
		"stdin":    {string(edited), []string{"--config", cfg}},
		"stdin, -": {string(edited), []string{"-"}},
	} {
		if out, _, code := verifyAtNow(t, goldenNow, c.stdin, c.args...); code != 0 || strings.Contains(out, "changed after") {
			t.Errorf("the same objects in %s: exit %d\n%s", name, code, out)
		}
	}
	if out, _, code := verifyAtNow(t, goldenNow, "", "--edits", "warn", dir); code != 0 || !strings.Contains(out, "warning: Deployment wardle/wardle-apiserver: changed after") {
		t.Errorf("--edits warn: exit %d\n%s", code, out)
	}
	if out, _, code := verifyAtNow(t, goldenNow, "", "--edits", "off", dir); code != 0 || strings.Contains(out, "changed after") {
		t.Errorf("--edits off: exit %d\n%s", code, out)
	}
	if out, _, code := verifyAtNow(t, goldenNow, string(edited), "--edits", "error"); code != 1 || !strings.Contains(out, "changed after") {
		t.Errorf("--edits error on stdin: exit %d\n%s", code, out)
	}
	if out, _, code := verifyAtNow(t, goldenNow, "", "--edits", "error", rendered); code != 1 || !strings.Contains(out, "changed after") {
		t.Errorf("--edits error on a file: exit %d\n%s", code, out)
	}
	if _, stderr, code := verifyAtNow(t, goldenNow, "", "--edits", "fatal", rendered); code != 2 || !strings.Contains(stderr, `--edits "fatal": want error, warn or off`) {
		t.Errorf("--edits fatal: exit %d\n%s", code, stderr)
	}
}

// TestVerifyJSONShape: -o json prints one object whose keys and value types are those
// of the example in docs/cli.md, at every level, on a render whose caBundle holds a
// previous CA; and the values say what the text says.
func TestVerifyJSONShape(t *testing.T) {
	t.Parallel()
	var doc string
	for _, b := range testutil.DocBlocks(t, filepath.Join("..", "..")) {
		if b.File == "docs/cli.md" && b.Lang == "text" && strings.HasPrefix(b.Body, "{") && strings.Contains(b.Body, `"certificates"`) {
			doc = b.Body
		}
	}
	if doc == "" {
		t.Fatal("docs/cli.md shows no -o json example (a text block starting with { with \"certificates\")")
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(doc), &want); err != nil {
		t.Fatalf("the docs/cli.md example is not JSON: %v", err)
	}

	// A render, then a renewal: its caBundle holds the previous CA.
	in := testutil.ResourceList("", verifyConfig)
	first, stderr, code := runFunction(t, []byte(in), goldenNow)
	if code != 0 {
		t.Fatal(stderr)
	}
	renewedAt := goldenNow.Add((8760 - 700) * time.Hour)
	renewed, stderr, code := runFunction(t, first, renewedAt) // its output is the next input

	if code != 0 {
		t.Fatal(stderr)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "rendered.yaml")
	testutil.WriteFile(t, path, itemsAsDocuments(t, renewed))
	cfg := filepath.Join(dir, "aggapi.yaml")
	testutil.WriteFile(t, cfg, []byte(verifyConfig))

	out, stderr, code := verifyAtNow(t, renewedAt.Add(25*time.Hour), "", "-o", "json", "--config", cfg, path)
	if code != 3 {
		t.Fatalf("after the overlap: exit %d, want 3\n%s%s", code, out, stderr)
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&got); err != nil || dec.More() {
		t.Fatalf("-o json is not one JSON object: %v\n%s", err, out)
	}
	if diff := shapeDiff("", want, got); diff != "" {
		t.Errorf("-o json is not shaped as docs/cli.md shows: %s\n%s", diff, out)
	}
	cert := got["certificates"].([]any)[0].(map[string]any)
	if got["exitCode"] != float64(3) || got["renewalDue"] != true || got["clock"] != "AGGAPI_NOW" ||
		cert["timingFrom"] != "config" || cert["renewBefore"] != "720h" || cert["overlap"] != "24h" ||
		!reflect.DeepEqual(cert["due"], []any{"overlap-end"}) || len(cert["previousCAs"].([]any)) != 1 {
		t.Errorf("-o json values:\n%s", out)
	}
}

// shapeDiff compares the keys and JSON types of two decoded values: objects key by
// key, arrays by their first element (an empty array matches any).
func shapeDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": not an object"
		}
		var keys []string
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return path + "." + k + ": not in the docs"
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if _, ok := g[k]; !ok {
				return path + "." + k + ": missing"
			}
			if d := shapeDiff(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return path + ": not an array"
		}
		if len(w) > 0 && len(g) > 0 {
			return shapeDiff(path+"[0]", w[0], g[0])
		}
	default:
		if reflect.TypeOf(want) != reflect.TypeOf(got) {
			return path + ": a " + reflect.TypeOf(got).String() + ", the docs show a " + reflect.TypeOf(want).String()
		}
	}
	return ""
}
