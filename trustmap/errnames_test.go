package trustmap

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every exported sentinel of the package has a name for services to report.
func TestErrorNamesCoverEverySentinel(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, n := range namedErrors {
		named[n.name] = true
	}
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
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				for _, id := range s.(*ast.ValueSpec).Names {
					if strings.HasPrefix(id.Name, "Err") && id.IsExported() && !named[id.Name] {
						t.Errorf("%s: sentinel %s has no entry in namedErrors (errnames.go)", f, id.Name)
					}
				}
			}
		}
	}
}

func TestErrorNames(t *testing.T) {
	if got := ErrorNames(fmt.Errorf("x: %w", ErrSubjectMismatch)); !slices.Equal(got, []string{"ErrSubjectMismatch"}) {
		t.Fatalf("got %v", got)
	}
	joined := errors.Join(fmt.Errorf("a: %w", ErrUnknownSigner), ErrLevelTooLow)
	if got := ErrorNames(joined); !slices.Equal(got, []string{"ErrUnknownSigner", "ErrLevelTooLow"}) {
		t.Fatalf("got %v", got)
	}
	if got := ErrorNames(errors.New("other")); got != nil {
		t.Fatalf("got %v", got)
	}
}
