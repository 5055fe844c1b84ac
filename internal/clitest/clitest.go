// Package clitest runs the commands' script tests (testscript files under
// testdata/script) with a fixed clock and no terminal.
package clitest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/internal/cli"
)

// Main registers the command name for scripts, built by newRoot with an
// environment whose clock stands at now and which never prompts on a
// terminal. Call it from TestMain.
func Main(m *testing.M, name string, now time.Time, newRoot func(*cli.Env) *cobra.Command) {
	testscript.Main(m, map[string]func(){
		name: func() {
			e := cli.DefaultEnv()
			e.Now = func() time.Time { return now }
			e.ReadPassword = func(string) ([]byte, error) { return nil, cli.ErrNoPassword }
			e.StderrIsTerminal = false
			os.Exit(cli.Execute(newRoot(e), os.Args[1:]))
		},
	})
}

// Run runs testdata/script with ROOT set to the repository root (two levels
// up), NO_COLOR set, and the extra variables given as paths relative to it.
func Run(t *testing.T, vars map[string]string) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("ROOT", root)
			env.Setenv("NO_COLOR", "1")
			for k, v := range vars {
				env.Setenv(k, filepath.Join(root, v))
			}
			return nil
		},
	})
}
