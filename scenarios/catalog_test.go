package scenarios

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogComplete fails when a scenario declared in this package is
// missing from Catalog, or two declarations share a name: a lesson added as
// a file but forgotten in the list would never run, in the CLI or in tests.
func TestCatalogComplete(t *testing.T) {
	declared := declaredScenarios(t) // variable -> scenario name
	if len(declared) == 0 {
		t.Fatal("found no scenario declarations: has the declaration form changed?")
	}
	inCatalog := map[string]bool{}
	for _, sc := range Catalog() {
		inCatalog[sc.Name] = true
	}
	byName := map[string]string{}
	var vars []string
	for v := range declared {
		vars = append(vars, v)
	}
	sort.Strings(vars)
	for _, v := range vars {
		name := declared[v]
		if other, dup := byName[name]; dup {
			t.Errorf("%s and %s are both named %q", other, v, name)
		}
		byName[name] = v
		if !inCatalog[name] {
			t.Errorf("%s (%q) is declared in scenarios/ but not in Catalog()", v, name)
		}
	}
	if len(Catalog()) != len(declared) {
		t.Errorf("Catalog() lists %d scenarios, the package declares %d", len(Catalog()), len(declared))
	}
}

// declaredScenarios parses the package's files for scenario declarations:
// var X = lesson.Define(lesson.Scenario{Name: "…", …}) or
// var X = &lesson.Scenario{Name: "…", …}.
func declaredScenarios(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, val := range vs.Values {
					if lit := scenarioLiteral(val); lit != nil {
						out[vs.Names[i].Name] = literalName(lit)
					}
				}
			}
		}
	}
	return out
}

// scenarioLiteral returns the lesson.Scenario composite literal e
// declares, or nil.
func scenarioLiteral(e ast.Expr) *ast.CompositeLit {
	switch x := e.(type) {
	case *ast.CallExpr:
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Define" && len(x.Args) == 1 {
			return scenarioLiteral(x.Args[0])
		}
	case *ast.UnaryExpr:
		return scenarioLiteral(x.X)
	case *ast.CompositeLit:
		if sel, ok := x.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Scenario" {
			return x
		}
	}
	return nil
}

func literalName(lit *ast.CompositeLit) string {
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
			if b, ok := kv.Value.(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(b.Value)
				return s
			}
		}
	}
	return ""
}
