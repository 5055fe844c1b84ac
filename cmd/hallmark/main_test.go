package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmark-build/hallmark/internal/cli"
)

// testNow is the fixed clock of the script tests.
var testNow = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"hallmark": func() {
			e := defaultEnv()
			e.now = func() time.Time { return testNow }
			// Scripts never wait on a terminal, even when one is there.
			e.readPassword = func(string) ([]byte, error) { return nil, cli.ErrNoPassword }
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
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
