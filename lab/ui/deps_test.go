package ui

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyUIImportsTview keeps the terminal toolkit out of the engine:
// nothing under cmd/, lab/ or scenarios/ but lab/ui imports tview or tcell,
// and only the command (cmd/netlab) imports lab/ui.
func TestOnlyUIImportsTview(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	toolkit := []string{"github.com/rivo/tview", "github.com/gdamore/tcell", "github.com/rivo/uniseg"}
	const ui = "github.com/netlab/netlab/lab/ui"
	checked := 0
	for _, top := range []string{"cmd", "lab", "scenarios"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			dir := filepath.ToSlash(filepath.Dir(rel))
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			for _, im := range f.Imports {
				p, _ := strconv.Unquote(im.Path.Value)
				for _, tk := range toolkit {
					if (p == tk || strings.HasPrefix(p, tk+"/")) && dir != "lab/ui" {
						t.Errorf("%s imports %s: only lab/ui may use the terminal toolkit", rel, p)
					}
				}
				if p == ui && dir != "cmd/netlab" && dir != "lab/ui" {
					t.Errorf("%s imports %s: only the command may open the dashboard", rel, p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d Go files found under %s: the walk is broken", checked, root)
	}
}
