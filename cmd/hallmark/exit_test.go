package main

import (
	"bytes"
	"github.com/spf13/pflag"
	"strings"
	"testing"
	"time"

	"context"
	"errors"
	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/clitest"
	"github.com/hallmark-build/hallmark/internal/tui"
	"os"
	"path/filepath"
)

// runArgs runs the command with a fixed clock and captured output.
func runArgs(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{Stdin: bytes.NewBufferString(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Now: func() time.Time { return testNow },
		ReadPassword: func(string) ([]byte, error) { return nil, cli.ErrNoPassword }}
	code = cli.Execute(newRoot(e), args)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"check", "../../testdata/answers/l3-hosted.json"}, cli.ExitOK},
		{[]string{"check", "../../testdata/answers/l3-fails-is2.json"}, cli.ExitFailed},
		{[]string{"check", "does-not-exist.json"}, cli.ExitUsage},
		{[]string{"check"}, cli.ExitUsage},
		{[]string{"nosuchcommand"}, cli.ExitUsage},
		{[]string{"check", "--bogus", "x"}, cli.ExitUsage},
		{[]string{"check", "../../testdata"}, cli.ExitUsage},                                  // a directory
		{[]string{"check", "../../testdata/verify/hosted-vm.capability.json"}, cli.ExitUsage}, // not answers
		{[]string{"check", "--format", "yaml", "../../testdata/answers/l3-hosted.json"}, cli.ExitUsage},
		{[]string{"attest", "../../testdata/answers/l3-hosted.json", "--key", "x.key", "--valid-for", "367d"}, cli.ExitUsage},
		{[]string{"attest", "../../testdata/answers/l3-hosted.json", "--key", "x.key", "--level", "L9"}, cli.ExitUsage},
		{[]string{"attest", "../../testdata/answers/l3-hosted.json", "--key", "x.key", "-o", "../../testdata/answers/l3-hosted.json", "--force"}, cli.ExitUsage},
		{[]string{"inspect", "../../testdata"}, cli.ExitUsage},
		{[]string{"inspect", "../../testdata/verify/roots.json"}, cli.ExitUsage},
		{[]string{"version", "extra"}, cli.ExitUsage},
		{[]string{"completion", "tcsh"}, cli.ExitUsage},
		{[]string{"report"}, cli.ExitUsage},
		{[]string{"keygen", "a", "b"}, cli.ExitUsage},
		// The wrong kind of document is bad input, not a failed verification.
		{[]string{"verify-attestation", "../../testdata/answers/l3-hosted.json", "--key", "../../testdata/keys/operator.pub"}, cli.ExitUsage},
		{[]string{"verify-attestation", "../../testdata/verify/roots.json", "--key", "../../testdata/keys/operator.pub"}, cli.ExitUsage},
		{[]string{"check", "../../testdata/keys/operator.pub"}, cli.ExitUsage},
		{[]string{"check", "../../testdata/verify/roots.json"}, cli.ExitUsage},
		{[]string{"check", "../../testdata/verify/hosted-vm.answers.json", "--review", "../../testdata/verify/hosted-vm.capability.json"}, cli.ExitUsage},
		{[]string{"report", "../../testdata/verify/hosted-vm.answers.json", "--attestation", "../../testdata/verify/hosted-vm.answers.json", "-o", "-"}, cli.ExitUsage},
	}
	for _, tc := range cases {
		if code, _, stderr := runArgs(t, "", tc.args...); code != tc.want {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, tc.want, stderr)
		}
	}
}

// Every command's help shows an example.
func TestEveryCommandHasAnExample(t *testing.T) {
	for _, c := range cli.EveryCommand(newRoot(&env{})) {
		if c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
	}
}

// Repeatable flags repeat the same way everywhere: never split on commas.
func TestNoCommaSplitFlags(t *testing.T) {
	for _, c := range cli.EveryCommand(newRoot(&env{})) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.HasSuffix(f.Value.Type(), "Slice") {
				t.Errorf("%s --%s splits on commas (%s): use a repeatable StringArray", c.CommandPath(), f.Name, f.Value.Type())
			}
		})
	}
}

// The TUI's signing step never overwrites a file or the answers it signs.
func TestTUISignerNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.json")
	b, err := os.ReadFile("../../testdata/answers/l3-hosted.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(answers, b, 0o644)
	k, _ := attest.GenerateKey(attest.Ed25519, nil)
	pem, _ := k.MarshalUnencrypted()
	key := filepath.Join(dir, "op.key")
	os.WriteFile(key, pem, 0o600)
	doc, err := loadAnswers(answers)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Now: func() time.Time { return testNow }}
	sign := tuiSigner(e, answers)
	out := filepath.Join(dir, "cap.json")
	req := tui.SignRequest{KeyPath: key, ValidFor: "30d", Output: out}
	if _, err := sign(context.Background(), doc, req); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(out)
	if _, err := sign(context.Background(), doc, req); !errors.Is(err, cli.ErrOverwrite) {
		t.Fatalf("second signing over %s: %v", out, err)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Fatal("the attestation was replaced")
	}
	for _, o := range []string{answers, key, "-"} {
		req.Output = o
		if _, err := sign(context.Background(), doc, req); err == nil {
			t.Errorf("signed over %s", o)
		}
	}
	if now, _ := os.ReadFile(answers); !bytes.Equal(now, b) {
		t.Fatal("the answers were replaced")
	}
}

// The README's command table names every hallmark command.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cli.EveryCommand(newRoot(&env{})) {
		if c.Hidden || !c.Runnable() || c.Annotations[cli.HelpOnly] != "" || c.Name() == "help" || strings.HasPrefix(c.CommandPath(), "hallmark completion") || c.Name() == "version" || c == c.Root() {
			continue
		}
		if !bytes.Contains(readme, []byte("| `"+c.CommandPath())) {
			t.Errorf("README's command table does not list %s", c.CommandPath())
		}
	}
}

// The README's command table lists only commands that exist, with the
// --format values they accept.
func TestREADMEFormats(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	clitest.CheckREADMETable(t, newRoot(&env{}), readme)
}

// Help text names only commands that exist.
func TestHelpMentionsExistingCommands(t *testing.T) {
	clitest.CheckHelpMentions(t, newRoot(&env{}))
}

// Every flag that takes a string is classified: file flags complete file
// names, choice flags their values, the others are listed as not files.
func TestFileFlagsComplete(t *testing.T) { clitest.CheckFileFlags(t, newRoot(&env{})) }

// A wrong number of arguments is explained, with an example (exit 2).
func TestArgsErrors(t *testing.T) { clitest.CheckArgsErrors(t, newRoot(&env{})) }
