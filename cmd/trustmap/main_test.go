package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmark-build/hallmark/internal/cli"
)

var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"trustmap": func() {
			e := defaultEnv()
			e.now = func() time.Time { return testNow }
			// Scripts never wait on a terminal, even when one is there.
			e.readPassword = func(string) ([]byte, error) { return nil, cli.ErrNoPassword }
			e.stderrIsTerminal = false
			os.Exit(cli.Execute(newRoot(e), os.Args[1:]))
		},
	})
}

func TestScripts(t *testing.T) {
	root, _ := filepath.Abs("../..")
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("ROOT", root)
			env.Setenv("V", filepath.Join(root, "testdata", "verify"))
			return nil
		},
	})
}

// The verifier's binary links no TUI code, and library packages depend on
// neither the commands nor the terminal libraries.
func TestDependencies(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	forbidden := func(pkg string, bad ...string) {
		for _, d := range deps(pkg) {
			for _, b := range bad {
				if strings.HasPrefix(d, b) {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
	const mod = "github.com/hallmark-build/hallmark/"
	forbidden(mod+"cmd/trustmap", "github.com/charmbracelet/", mod+"internal/tui")
	for _, lib := range []string{"questionnaire", "assess", "attest", "trustmap"} {
		forbidden(mod+lib, "github.com/charmbracelet/", mod+"cmd/", mod+"internal/tui", mod+"internal/cli", "github.com/spf13/cobra")
	}
	forbidden(mod+"questionnaire", mod+"assess", mod+"attest", mod+"trustmap")
	// sigstore-go is for verifiers only.
	forbidden(mod+"cmd/hallmark", "github.com/sigstore/sigstore-go", mod+"trustmap")
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int
		want        string
	}{{0, 10, "[----------]"}, {5, 10, "[#####-----]"}, {10, 10, "[##########]"}, {3, 0, "[##########]"}} {
		if got := progressBar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}
