package gate

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// keyValues are the strings fn/keys defines, as constants or in a list, that are a label
// or annotation key or a key prefix (they hold a "/"), by value, with the name.
func keyValues(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, file := range parseSources(t, token.NewFileSet(), dir) {
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, v := range vs.Values {
				if i >= len(vs.Names) {
					continue
				}
				lits := []ast.Expr{v}
				if c, ok := v.(*ast.CompositeLit); ok { // a list of prefixes
					lits = c.Elts
				}
				for _, e := range lits {
					lit, ok := e.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if s, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(s, "/") {
						out[s] = vs.Names[i].Name
					}
				}
			}
			return true
		})
	}
	return out
}

// TestKeysSpelledOnce: every label and annotation key and key prefix that fn/keys
// defines is spelled only there; the function's, verify's, import's and doctor's code
// uses the constant (a copy drifts: two prefix lists once disagreed). Tests, hack/ and
// test/ may spell keys: they check what the code writes.
func TestKeysSpelledOnce(t *testing.T) {
	t.Parallel()
	root := testutil.Root(t)
	values := keyValues(t, filepath.Join(root, "fn", "keys"))
	for _, want := range []string{"aggapi.dev/owner", "meta.helm.sh/release-name", "config.kubernetes.io/"} {
		if values[want] == "" {
			t.Fatalf("fn/keys defines no constant %q: the test reads the wrong package", want)
		}
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "fn"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || path == filepath.Join(root, "fn", "keys") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if name, ok := values[s]; ok {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s:%d spells %q: use keys.%s", rel, fset.Position(lit.Pos()).Line, s, name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// parseSources parses the non-test Go files of dir, each file's path in fset.
func parseSources(t *testing.T, fset *token.FileSet, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	return files
}
