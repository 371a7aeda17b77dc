package doctor

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCausesDocumented holds the cause table of docs/cli.md to the doctor: one row per
// cause id, none for an id the doctor does not have, and every row names a test that
// exists — a function in fn/doctor or test/e2e, and each subtest a name that file runs
// (a quoted name, or a cause id its table of cases uses).
func TestCausesDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "### Causes")
	if start < 0 {
		t.Fatal("docs/cli.md has no ### Causes section")
	}
	section := doc[start:]
	if end := strings.Index(section[4:], "\n## "); end >= 0 {
		section = section[:end+4]
	}
	sources := map[string]string{}
	for _, glob := range []string{"*_test.go", filepath.Join("..", "..", "test", "e2e", "*_test.go")} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sources[f] = string(b)
		}
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|(.*)\\|\\s*$")
	testName := regexp.MustCompile("`(Test[A-Za-z0-9_]+)((?:/[A-Za-z0-9_-]+)*)`")
	var documented []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		id := m[1]
		documented = append(documented, id)
		cells := strings.Split(m[2], "|")
		tests := testName.FindAllStringSubmatch(cells[len(cells)-1], -1)
		if len(tests) == 0 {
			t.Errorf("row %s names no test", id)
		}
		for _, tm := range tests {
			file := ""
			for f, src := range sources {
				if strings.Contains(src, "func "+tm[1]+"(") {
					file = f
				}
			}
			if file == "" {
				t.Errorf("row %s: no func %s in fn/doctor or test/e2e", id, tm[1])
				continue
			}
			for _, sub := range strings.Split(strings.TrimPrefix(tm[2], "/"), "/") {
				if sub != "" && !strings.Contains(sources[file], `"`+sub+`"`) && !slices.Contains(Causes, sub) {
					t.Errorf("row %s: %s runs no subtest %q", id, tm[1], sub)
				}
			}
		}
	}
	for _, c := range Causes {
		if !slices.Contains(documented, c) {
			t.Errorf("cause %s has no row in docs/cli.md", c)
		}
	}
	for _, d := range documented {
		if !slices.Contains(Causes, d) {
			t.Errorf("docs/cli.md documents %s, which the doctor does not have", d)
		}
	}
	if len(documented) != len(Causes) {
		t.Errorf("%d rows for %d causes (a row twice?)", len(documented), len(Causes))
	}
}
