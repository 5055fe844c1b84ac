// Package clitest runs the commands' script tests (testscript files under
// testdata/script) with a fixed clock and no terminal.
package clitest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/internal/cli"
)

// Main registers the command name for scripts, built by newRoot with an
// environment whose clock stands at now and which never prompts on a
// terminal. Call it from TestMain.
func Main(m *testing.M, name string, now time.Time, newRoot func(*cli.Env) *cobra.Command) {
	testscript.Main(m, map[string]func(){
		name: func() {
			e := cli.DefaultEnv()
			clock := now
			if s := os.Getenv(NowEnv); s != "" {
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %v\n", NowEnv, err)
					os.Exit(2)
				}
				clock = t
			}
			e.Now = func() time.Time { return clock }
			e.ReadPassword = fakeTerminal(os.Getenv(TerminalEnv), e.Stderr)
			e.StderrIsTerminal = false
			os.Exit(cli.Execute(newRoot(e), os.Args[1:]))
		},
	})
}

// NowEnv, set in a script (RFC 3339 with optional fraction), moves the
// fixed clock.
const NowEnv = "CLITEST_NOW"

// TerminalEnv, set in a script, stands in for a person at a terminal: the
// comma-separated passwords are typed at the successive prompts, which are
// shown on stderr as "[tty] PROMPT". Unset, there is no terminal.
const TerminalEnv = "CLITEST_TERMINAL"

func fakeTerminal(typed string, stderr io.Writer) func(string) ([]byte, error) {
	if typed == "" {
		return func(string) ([]byte, error) { return nil, cli.ErrNoPassword }
	}
	answers := strings.Split(typed, ",")
	return func(prompt string) ([]byte, error) {
		fmt.Fprintf(stderr, "[tty] %s\n", strings.ReplaceAll(prompt, "\n", "\n[tty] "))
		if len(answers) == 0 {
			return nil, errors.New("the test typed no more passwords")
		}
		pw := answers[0]
		answers = answers[1:]
		return []byte(pw), nil
	}
}

// Run runs testdata/script with ROOT set to the repository root (two levels
// up), NO_COLOR set, and the extra variables given as paths relative to it.
func Run(t *testing.T, vars map[string]string) { RunDir(t, "testdata/script", vars, nil) }

// RunDir runs the scripts in dir like Run, with env set as it is (values
// that are not paths, such as a test registry's address).
func RunDir(t *testing.T, dir string, vars, env map[string]string) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Setup: func(e *testscript.Env) error {
			e.Setenv("ROOT", root)
			e.Setenv("NO_COLOR", "1")
			for k, v := range vars {
				e.Setenv(k, filepath.Join(root, v))
			}
			for k, v := range env {
				e.Setenv(k, v)
			}
			return nil
		},
	})
}

// CheckREADMETable checks the README's command table against the binary:
// every row "| `PROG SUB ...` | ... | `text`, `json` |" names a command that
// exists, and its last column lists exactly the values its --format flag
// accepts (empty when it has none).
func CheckREADMETable(t *testing.T, root *cobra.Command, readme []byte) {
	t.Helper()
	prefix := "| `" + root.Name() + " "
	rows := 0
	for _, line := range strings.Split(string(readme), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		rows++
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		usage := strings.Trim(strings.SplitN(cells[0], "`", 3)[1], "`")
		var path []string
		for _, w := range strings.Fields(usage)[1:] {
			if w == "" || strings.ContainsAny(w[:1], "-[.ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				break
			}
			path = append(path, w)
		}
		cmd, rest, err := root.Find(path)
		if err != nil || len(rest) > 0 || cmd == root {
			t.Errorf("README lists %q: no such command (%v)", usage, err)
			continue
		}
		var documented []string
		if last := cells[len(cells)-1]; len(cells) > 2 {
			for i, part := range strings.Split(last, "`") {
				if i%2 == 1 {
					documented = append(documented, part)
				}
			}
		}
		var actual []string
		if f := cmd.Flags().Lookup("format"); f != nil {
			if a, ok := f.Value.(interface{ Allowed() []string }); ok {
				actual = a.Allowed()
			}
		}
		if strings.Join(documented, ",") != strings.Join(actual, ",") {
			t.Errorf("README: %s --format %q, the binary accepts %q", cmd.CommandPath(), documented, actual)
		}
	}
	if rows == 0 {
		t.Errorf("README has no command table rows for %s", root.Name())
	}
}

// mention is "hallmark check", "trustmap expectations sign" in help text;
// group 1 is what precedes it.
var mention = regexp.MustCompile("(^|[\\s`(])(hallmark|trustmap) ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")

// CheckHelpMentions checks that the commands the help of any command of the
// roots names ("PROG COMMAND [SUBCOMMAND]") exist: every one in examples,
// and in prose those in parentheses or backquotes, or whose first word is a
// command (then a second word that looks like a subcommand must be one).
func CheckHelpMentions(t *testing.T, roots ...*cobra.Command) {
	t.Helper()
	byName := map[string]*cobra.Command{}
	for _, r := range roots {
		byName[r.Name()] = r
	}
	for _, r := range roots {
		for _, c := range cli.EveryCommand(r) {
			for _, text := range []string{c.Example, c.Short + "\n" + c.Long} {
				example := text == c.Example
				for _, m := range mention.FindAllStringSubmatch(text, -1) {
					root := byName[m[2]]
					if root == nil {
						continue
					}
					words := []string{m[3]}
					if m[4] != "" {
						words = append(words, m[4])
					}
					found, rest, err := root.Find(words)
					bad := false
					switch {
					case err != nil || found == root:
						bad = example || m[1] == "(" || m[1] == "`"
					case len(rest) > 0 && !found.Runnable():
						bad = example || looksLikeSubcommand(found, rest[0])
					}
					if bad {
						t.Errorf("%s --help mentions %q: no such command", c.CommandPath(), strings.TrimSpace(m[0]))
					}
				}
			}
		}
	}
}

// looksLikeSubcommand reports whether w shares a prefix with one of c's
// subcommands ("sign-proposal" and "sign").
func looksLikeSubcommand(c *cobra.Command, w string) bool {
	for _, s := range c.Commands() {
		if strings.HasPrefix(w, s.Name()) || strings.HasPrefix(s.Name(), w) {
			return true
		}
	}
	return false
}

// CheckArgsErrors checks that every command refusing its positional
// arguments says what it expects, what it got and shows an example, never
// cobra's bare "accepts 1 arg(s), received 0".
func CheckArgsErrors(t *testing.T, root *cobra.Command) {
	t.Helper()
	for _, c := range cli.EveryCommand(root) {
		if c.Args == nil || !c.Runnable() || c.Name() == "help" || strings.Contains(c.CommandPath(), " completion") {
			continue
		}
		for _, args := range [][]string{nil, {"a", "b", "c", "d", "e", "f", "g"}} {
			err := c.Args(c, args)
			if err == nil {
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, c.CommandPath()+" expects ") || !strings.Contains(msg, "; got ") || !strings.Contains(msg, "example: ") {
				t.Errorf("%s with %d arguments: %q: expected \"%s expects ...; got ...; example: ...\"", c.CommandPath(), len(args), msg, c.CommandPath())
			}
			var ee *cli.ExitError
			if !errors.As(err, &ee) || ee.Code != cli.ExitUsage {
				t.Errorf("%s with %d arguments: not a usage error (exit 2): %v", c.CommandPath(), len(args), err)
			}
		}
	}
}

// CheckFileFlags requires every string flag of every command to be
// classified: file flags complete file names, choice flags their values,
// the others are listed in cli.NotFileFlags.
func CheckFileFlags(t *testing.T, root *cobra.Command) {
	t.Helper()
	for _, c := range cli.EveryCommand(root) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Deprecated != "" || (f.Value.Type() != "string" && f.Value.Type() != "stringArray") {
				return
			}
			if _, choice := f.Value.(interface{ Allowed() []string }); choice || cli.IsFileFlag(f.Name) || slices.Contains(cli.NotFileFlags, f.Name) {
				return
			}
			t.Errorf("%s --%s: add it to cli's fileFlags (completed as a file name) or NotFileFlags", c.CommandPath(), f.Name)
		})
	}
}
