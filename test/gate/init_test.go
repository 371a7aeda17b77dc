package gate

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aggapi/aggapi/internal/testutil"
)

// TestNoPatternCompiledAtStart: no package that bin/aggapi links compiles a regular
// expression in a package variable. Every pipeline run starts the function, so each
// start pays for such a pattern whether the render needs it or not (the hugepages
// page-size pattern's counted repetitions compile to 39 KB); sync.OnceValue compiles
// it on first use. The doctor's binary is a cluster tool run by hand: it is not held to this.
func TestNoPatternCompiledAtStart(t *testing.T) {
	t.Parallel()
	root := testutil.Root(t)
	out := testutil.MustRun(t, root, nil, "go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{.Dir}}{{end}}", "./fn/cmd/aggapi")
	const module = "github.com/aggapi/aggapi/"
	fset := token.NewFileSet()
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(path, module) {
			continue
		}
		checked++
		for _, file := range parseSources(t, fset, dir) {
			for _, decl := range file.Decls {
				gen, ok := decl.(*ast.GenDecl)
				if !ok || gen.Tok != token.VAR {
					continue
				}
				for _, spec := range gen.Specs {
					for _, v := range spec.(*ast.ValueSpec).Values {
						if call, ok := v.(*ast.CallExpr); ok && isRegexpCompile(call.Fun) {
							rel, _ := filepath.Rel(root, fset.Position(file.Pos()).Filename)
							t.Errorf("%s:%d compiles a pattern at start-up: wrap it in sync.OnceValue", rel, fset.Position(v.Pos()).Line)
						}
					}
				}
			}
		}
	}
	if checked < 5 {
		t.Fatalf("go list found %d of our packages behind ./fn/cmd/aggapi: the test reads the wrong list\n%s", checked, out)
	}
}

// isRegexpCompile reports whether fun is regexp.MustCompile or regexp.MustCompilePOSIX.
func isRegexpCompile(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "regexp" && strings.HasPrefix(sel.Sel.Name, "MustCompile")
}
