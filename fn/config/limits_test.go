package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/aggapi/aggapi/internal/testutil"
)

// basicConfig is testdata/basic's config, the base the tests below change.
func basicConfig(t testing.TB) string {
	t.Helper()
	return string(testutil.ReadFile(t, "../../testdata/basic/config.yaml"))
}

// withServer adds lines (indented under spec.server) to the basic config.
func withServer(t testing.TB, lines string) string {
	return strings.Replace(basicConfig(t), "    replicas: 1\n", "    replicas: 1\n"+lines, 1)
}

// errorText is every error of a Load, one a line.
func errorText(errs field.ErrorList) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

func TestQuantities(t *testing.T) {
	for _, q := range []string{"100m", "128Mi", "1", "0", "1.5", "+2", "1e3", "1E3", "7Ei", "9223372036854775807", "1n", "0.000000001", "500u", "2k", ".5", "1."} {
		if msg := checkQuantity(q); msg != "" {
			t.Errorf("%q: %s", q, msg)
		}
	}
	for q, want := range map[string]string{
		"1e-999999999":        "must be a quantity such as",
		"1e999999999":         "must be a quantity such as",
		"1" + zeros(1e6):      "at most 64 characters",
		"-1":                  "must not be negative",
		"-0.5Gi":              "must not be negative",
		"123456789Ei":         "is too large",
		"8Ei":                 "is too large",
		"9223372036854775808": "is too large",
		"1e999":               "is too large",
		"1e-999":              "is finer than 1n",
		"0.0000000001":        "is finer than 1n",
		"1.0000000001":        "is finer than 1n",
		"":                    "must be a quantity",
		" 1":                  "must be a quantity",
		"1 ":                  "must be a quantity",
		"1Ki2":                "must be a quantity",
		"1ki":                 "must be a quantity",
		"0x10":                "must be a quantity",
	} {
		if msg := checkQuantity(q); !strings.Contains(msg, want) {
			t.Errorf("%.20q: got %q, want %q", q, msg, want)
		}
	}
}

func zeros(n int) string { return strings.Repeat("0", n) }

func TestQuantityErrorsNameTheField(t *testing.T) {
	_, errs := Load([]byte(withServer(t, "    resources:\n      requests: {cpu: '1e-999999999', memory: '-1', 'bad name!': '1'}\n      limits: {memory: 123456789Ei}\n")))
	got := errorText(errs)
	for _, want := range []string{
		`spec.server.resources.requests[cpu]: Invalid value: "1e-999999999": must be a quantity such as 100m or 128Mi`,
		`spec.server.resources.requests[memory]: Invalid value: "-1": must not be negative`,
		`spec.server.resources.requests[bad name!]: Invalid value: "bad name!": a resource name`,
		`spec.server.resources.limits[memory]: Invalid value: "123456789Ei": is too large`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestImageMustBePrintableASCII(t *testing.T) {
	for _, bad := range []string{"\r", "\v", "\u00a0", "\u2028", "\u2029", "\x00", "\t", " ", "\n", "\u200b", "\ufeff", "é"} {
		image := "registry.k8s.io/sample" + bad + "apiserver:1.0"
		_, errs := Load([]byte(strings.Replace(basicConfig(t), "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2", jsonString(image), 1)))
		want := fmt.Sprintf("must not contain whitespace or control characters: %U at byte 22", []rune(bad)[0])
		if got := errorText(errs); !strings.Contains(got, "spec.server.image: Invalid value: ") || !strings.Contains(got, want) {
			t.Errorf("%q: got %q, want %q", bad, got, want)
		}
	}
}

func TestBadImageRune(t *testing.T) {
	if i, r := badImageRune("a\x7fb"); i != 1 || r != 0x7f {
		t.Errorf("DEL: %d %U", i, r)
	}
	if i, _ := badImageRune("registry.k8s.io/a/b:1.0@sha256:0123"); i != -1 {
		t.Errorf("a plain reference refused at %d", i)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTypeErrorsShowTheValue(t *testing.T) {
	for config, want := range map[string]string{
		strings.Replace(basicConfig(t), "port: 443}", `port: "443"}`, 1):           `spec.service.port: Invalid value: "443": must be an integer`,
		strings.Replace(basicConfig(t), "    port: 8443", "    port: 8443.5", 1):   `spec.server.port: Invalid value: 8443.5: must be an integer`,
		strings.Replace(basicConfig(t), "    replicas: 1", "    replicas: [1]", 1): `spec.server.replicas: Invalid value: [1]: must be an integer`,
		strings.Replace(basicConfig(t), "    port: 8443", "    port: 3e9", 1):      `spec.server.port: Invalid value: 3e+09: should be less than or equal to 65535`,
	} {
		_, errs := Load([]byte(config))
		got := errorText(errs)
		if !strings.Contains(got, want) {
			t.Errorf("got:\n%s\nwant %q", got, want)
		}
		if strings.Contains(got, "[]") || strings.Contains(got, "Checked value") {
			t.Errorf("an error without its path:\n%s", got)
		}
	}
}

func TestDurationErrorsGiveAnExample(t *testing.T) {
	for given, want := range map[string]string{
		"1y":           `spec.certificate.validity: Invalid value: "1y": must be a duration; use h, m, s: 8760h (there are no days or years: 1y is 8760h)`,
		"365d":         `spec.certificate.validity: Invalid value: "365d": must be a duration; use h, m, s: 8760h (there are no days or years: 365d is 8760h)`,
		"1 h":          `spec.certificate.validity: Invalid value: "1 h": must be a duration; use h, m, s: 8760h`,
		"1week":        `spec.certificate.validity: Invalid value: "1week": must be a duration; use h, m, s: 8760h`,
		"99999999999h": `spec.certificate.validity: Invalid value: "99999999999h": must be a duration of at most 2562047h`,
	} {
		_, errs := Load([]byte(strings.Replace(basicConfig(t), "validity: 8760h", "validity: "+given, 1)))
		if got := errorText(errs); !strings.Contains(got, want) {
			t.Errorf("%s: got:\n%s\nwant %q", given, got, want)
		}
	}
}

func TestUnknownFieldsSuggestAKnownOne(t *testing.T) {
	for unknown, want := range map[string]string{
		"spec.server.replcas":        "spec.server.replicas",
		"spec.replicas":              "spec.server.replicas",
		"spec.versions[3].nmae":      "spec.versions[3].name",
		"spec.certificate.validty":   "spec.certificate.validity",
		"metadata.nmae":              "metadata.name",
		"spec.server.imagePullPolcy": "spec.server.imagePullPolicy",
		"spec.caBundle":              "spec.certificate.provided.caBundle",
		"spec.zzzzzzzz":              "",
		"status":                     "",
	} {
		if got := suggestField(unknown); got != want {
			t.Errorf("%s: suggested %q, want %q", unknown, got, want)
		}
	}
}

func TestErrorValuesAreCapped(t *testing.T) {
	huge := strings.Repeat("x", 8<<20)
	for name, config := range map[string]string{
		"image":    strings.Replace(basicConfig(t), "registry.k8s.io/e2e-test-images/sample-apiserver:1.29.2", huge[:300<<10], 1),
		"group":    strings.Replace(basicConfig(t), "group: wardle.example.com", "group: "+huge[:300<<10], 1),
		"key":      withServer(t, "    "+huge[:300<<10]+": 1\n"),
		"kind":     strings.Replace(basicConfig(t), "kind: AggregatedAPI", "kind: "+huge[:300<<10], 1),
		"oversize": strings.Replace(basicConfig(t), "kind: AggregatedAPI", "kind: "+huge, 1),
	} {
		_, errs := Load([]byte(config))
		if len(errs) == 0 {
			t.Fatalf("%s: no error", name)
		}
		for _, e := range errs {
			if n := len(e.Error()); n > 2048 {
				t.Errorf("%s: a message of %d bytes: %.300s", name, n, e.Error())
			}
		}
	}
}

func TestErrorCountIsCapped(t *testing.T) {
	var names []string
	for i := range 200 {
		names = append(names, fmt.Sprintf("Bad%d", i))
	}
	_, errs := Load([]byte(strings.Replace(basicConfig(t), "[flunders, fischers]", "["+strings.Join(names, ", ")+"]", 1)))
	if len(errs) != maxErrors+1 || !strings.Contains(errs[maxErrors].Error(), "and 100 more errors") {
		t.Errorf("%d errors, the last %v", len(errs), errs[len(errs)-1])
	}
}

// TestConfigLimits: each hostile shape is refused with a message saying which limit.
func TestConfigLimits(t *testing.T) {
	base := basicConfig(t)
	var keys, deep, bomb strings.Builder
	keys.WriteString("  junk:\n")
	for i := range 150_000 {
		fmt.Fprintf(&keys, "    k%d: 1\n", i)
	}
	deep.WriteString("  junk: ")
	deep.WriteString(strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n")
	bomb.WriteString("  junk:\n    a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&bomb, "    a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	for name, c := range map[string]struct{ config, want string }{
		"150,000 keys in one mapping": {strings.Replace(base, "spec:\n", "spec:\n"+keys.String(), 1), "more than 50000 keys, values and list items"},
		"a long list":                 {withServer(t, "    args: ["+strings.TrimSuffix(strings.Repeat("a, ", 200_000), ", ")+"]\n"), "more than 50000 keys, values and list items"},
		"a megabyte of text":          {withServer(t, "    args: ["+strings.TrimSuffix(strings.Repeat(strings.Repeat("a", 4000)+", ", 300), ", ")+"]\n"), "more than 1048576 bytes"},
		"nesting":                     {strings.Replace(base, "spec:\n", "spec:\n"+deep.String(), 1), "nested more than 64 levels deep"},
		"alias expansion":             {strings.Replace(base, "spec:\n", "spec:\n"+bomb.String(), 1), "more than 50000 keys, values and list items"},
		"an alias inside its anchor":  {strings.Replace(base, "spec:\n", "spec:\n  junk: &loop {a: *loop}\n", 1), ""},
		"a duplicate key":             {withServer(t, "    replicas: 2\n"), "spec.server.replicas: Invalid value: given twice in one mapping"},
		"a document over 4 MiB":       {base + "#" + strings.Repeat(" ", 4<<20) + "\n", "at most 4194304 are read"},
	} {
		t.Run(name, func(t *testing.T) {
			_, errs := Load([]byte(c.config))
			if len(errs) == 0 {
				t.Fatal("accepted")
			}
			if got := errorText(errs); !strings.Contains(got, c.want) {
				t.Errorf("got:\n%.500s\nwant %q", got, c.want)
			}
		})
	}
}

// TestNodeJSONMatchesYAMLv3 holds the bounded reader to yaml.v3's own decoding (into a
// map, then encoding/json) on every testdata config and on YAML's awkward corners.
func TestNodeJSONMatchesYAMLv3(t *testing.T) {
	docs := []string{
		"a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: 0x10\ng: 0o17\nh: 1_000\ni: -.5\nj: 2001-12-14\nk: !!str 12\nl: !!binary aGVsbG8=\n",
		"a: &x {b: 1, c: [1, 2]}\nd: *x\ne: {<<: *x, b: 2}\nf: {<<: [{g: 1}, {g: 2, h: 3}], h: 4}\n",
		"1: one\ntrue: yes\n~: null-key\n1.5: float\n",
		"a: [yes, no, on, off, Y, n]\nb: 'multi\n  line'\nc: |\n  block\n",
		"a: 9223372036854775807\nb: 18446744073709551615\nc: 1e400\n",
		"a: .inf\n",
		"a: [b, [c, [d, {e: f}]]]\n",
	}
	paths, _ := filepath.Glob("../../testdata/*/config.yaml")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			docs = append(docs, string(b))
		}
	}
	for _, doc := range docs {
		compareWithYAMLv3(t, []byte(doc))
	}
}

// compareWithYAMLv3 fails when nodeJSON and yaml.v3 + encoding/json disagree on a
// document both accept, or when nodeJSON accepts what yaml.v3 refuses other than for
// duplicate keys, which nodeJSON reports too but in its own words.
func compareWithYAMLv3(t testing.TB, doc []byte) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return
	}
	got, errs := nodeJSON(&n)
	var generic map[string]any
	decodeErr := n.Decode(&generic)
	var want []byte
	if decodeErr == nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(generic); err != nil {
			decodeErr = err
		}
		want = buf.Bytes()
	}
	switch {
	case decodeErr == nil && generic == nil:
		if len(errs) == 0 {
			t.Errorf("%q: not a mapping, yet accepted", doc)
		}
	case decodeErr == nil && len(errs) == 0:
		if !bytes.Equal(got, want) {
			t.Errorf("%q:\nnodeJSON: %s\nyaml.v3:  %s", doc, got, want)
		}
	case decodeErr == nil && len(errs) > 0:
		if text := errorText(errs); !strings.Contains(text, "too large") && !strings.Contains(text, "nested more than") && !strings.Contains(text, "not null") {
			t.Errorf("%q: yaml.v3 reads it, nodeJSON says %v", doc, errs)
		}
	}
}
