package cli

import (
	"crypto/rand"
	"io"
	"os"
	"runtime"
	"time"

	"golang.org/x/term"
)

// Env is everything a command takes from the outside world, so tests can
// replace it: the standard streams, the environment, the clock, randomness
// and the terminal password prompt.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	Rand   io.Reader
	// ReadPassword prompts on the terminal without echo.
	ReadPassword func(prompt string) ([]byte, error)
	// Workers is how many verifications run at once in batch mode.
	Workers int
	// StderrIsTerminal enables progress output.
	StderrIsTerminal bool

	stdinUsed bool // "-" was read already
}

// DefaultEnv is the real process environment.
func DefaultEnv() *Env {
	return &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now,
		Rand: rand.Reader, ReadPassword: TerminalPassword,
		Workers:          2 * runtime.NumCPU(), // overlap file I/O with verification
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd()))}
}
