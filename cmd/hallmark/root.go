package main

import (
	"crypto/rand"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
)

// env is everything a command takes from the outside world, so tests can
// replace it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
	rand   io.Reader
	// readPassword prompts on the terminal without echo.
	readPassword func(prompt string) ([]byte, error)
}

func defaultEnv() *env {
	return &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now,
		rand: rand.Reader, readPassword: cli.TerminalPassword}
}

// passFunc reads the password of a key file.
func (e *env) passFunc(what string) attest.PassFunc {
	return cli.PassFunc(e.getenv, e.readPassword, what)
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "hallmark",
		Short: "Certify a build platform against the SLSA Build track",
		Long: `hallmark walks a build-platform operator through the SLSA Build-track
threat-model questionnaire, assesses which Build level the answers support,
and signs a time-limited builder capability attestation.

Exit codes: 0 success; 1 the check or verification failed; 2 bad usage or
unreadable input.`,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.AddCommand(newAssessCmd(e), newCheckCmd(e), newKeygenCmd(e), newAttestCmd(e), newVerifyAttestationCmd(e), newInspectCmd(e), newReviewCmd(e), newReportCmd(e))
	return root
}
