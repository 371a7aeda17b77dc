package gate

import (
	"go/parser"
	"go/token"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestPackageDocsInDocGo: every package of the tree has its doc comment in doc.go
// ("Package x ..." or "Command x ..."), and no other file carries one, so the doc
// of a package is found in one place.
func TestPackageDocsInDocGo(t *testing.T) {
	root := testutil.Root(t)
	files, ok := testutil.TrackedFiles(root)
	if !ok {
		t.Skip("not a git checkout")
	}
	dirs := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, ".go") && !strings.Contains("/"+f, "/testdata/") {
			dirs[path.Dir(f)] = append(dirs[path.Dir(f)], path.Base(f))
		}
	}
	for dir, names := range dirs {
		if !slices.ContainsFunc(names, func(n string) bool { return !strings.HasSuffix(n, "_test.go") }) {
			continue // tests only
		}
		if !slices.Contains(names, "doc.go") {
			t.Errorf("%s: no doc.go", dir)
		}
		for _, name := range names {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, filepath.FromSlash(dir), name), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			doc := strings.TrimSpace(f.Doc.Text())
			switch {
			case name == "doc.go" && !strings.HasPrefix(doc, "Package "+f.Name.Name+" ") && !strings.HasPrefix(doc, "Command "):
				t.Errorf("%s/doc.go: the comment does not start with %q or \"Command \": %.60q", dir, "Package "+f.Name.Name, doc)
			case name != "doc.go" && doc != "":
				t.Errorf("%s/%s: a package doc comment outside doc.go: %.60q", dir, name, doc)
			}
		}
	}
}
