package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/cli"
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
