package cli

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/hallmark-build/hallmark/attest"
)

// Environment variables automation sets instead of typing a password.
// HALLMARK_PASSWORD wins; COSIGN_PASSWORD is read when it is not set, so a
// key made with cosign generate-key-pair works unchanged.
const (
	PasswordEnv       = "HALLMARK_PASSWORD"
	CosignPasswordEnv = "COSIGN_PASSWORD"
)

// PasswordAttempts is how often a terminal prompt asks again after an empty,
// mismatched or wrong password.
const PasswordAttempts = 3

// ErrNoPassword: no terminal to ask on and no password variable.
var ErrNoPassword = errors.New("a password is needed: run on a terminal, or set " + PasswordEnv + " (or " + CosignPasswordEnv + ")")

// ErrPasswordsDiffer: the confirmation did not match, PasswordAttempts times.
var ErrPasswordsDiffer = errors.New("the two passwords differ")

// TerminalPassword reads a password from the controlling terminal without
// echo. It returns ErrNoPassword when there is no terminal.
func TerminalPassword(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, ErrNoPassword
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, ErrNoPassword
	}
	fmt.Fprint(tty, prompt)
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return pw, err
}

// envPassword returns HALLMARK_PASSWORD, else COSIGN_PASSWORD.
func envPassword(getenv func(string) string) (string, bool) {
	for _, v := range []string{PasswordEnv, CosignPasswordEnv} {
		if pw := getenv(v); pw != "" {
			return pw, true
		}
	}
	return "", false
}

// prompter asks for the password of one key file by name.
type prompter struct {
	getenv       func(string) string
	readPassword func(string) ([]byte, error)
	what         string
	// notice is shown before the next prompt ("wrong password, try again").
	notice string
	// fromTerminal reports whether the last password was typed.
	fromTerminal bool
}

func (p *prompter) ask(prompt string) ([]byte, error) {
	if p.notice != "" {
		prompt = p.notice + "\n" + prompt
		p.notice = ""
	}
	return p.readPassword(prompt)
}

// password implements attest.PassFunc: the variable if set, else the
// terminal. An empty password is refused at the first prompt and asked
// again; with confirm, a confirmation that differs starts over.
func (p *prompter) password(confirm bool) ([]byte, error) {
	if pw, ok := envPassword(p.getenv); ok {
		p.fromTerminal = false
		return []byte(pw), nil
	}
	p.fromTerminal = true
	for attempt := 1; ; attempt++ {
		pw, err := p.ask(fmt.Sprintf("Password for %s: ", p.what))
		if err != nil {
			return nil, err
		}
		if len(pw) == 0 {
			if attempt == PasswordAttempts {
				return nil, fmt.Errorf("%s: %w: type a password, or set %s", p.what, attest.ErrEmptyPassword, PasswordEnv)
			}
			p.notice = "An empty password is refused; try again."
			continue
		}
		if !confirm {
			return pw, nil
		}
		again, err := p.ask(fmt.Sprintf("Password for %s, again: ", p.what))
		if err != nil {
			return nil, err
		}
		if string(again) == string(pw) {
			return pw, nil
		}
		if attempt == PasswordAttempts {
			return nil, fmt.Errorf("%s: %w", p.what, ErrPasswordsDiffer)
		}
		p.notice = "The two passwords differ; try again."
	}
}

// PassFunc returns the password callback for the key file named what:
// HALLMARK_PASSWORD, else COSIGN_PASSWORD, else the terminal through
// readPassword (asking twice when confirm is set, and again after an empty
// or mismatched password).
func PassFunc(getenv func(string) string, readPassword func(string) ([]byte, error), what string) attest.PassFunc {
	p := &prompter{getenv: getenv, readPassword: readPassword, what: what}
	return p.password
}

// PassFunc reads the password of the key file named what (see [PassFunc]).
func (e *Env) PassFunc(what string) attest.PassFunc {
	return PassFunc(e.Getenv, e.ReadPassword, what)
}

// LoadPrivateKey reads a private key file, asking for its password by the
// file's name. A wrong password typed on the terminal is asked for again, up
// to PasswordAttempts times; one from the environment fails at once.
func (e *Env) LoadPrivateKey(path string) (*attest.PrivateKey, error) {
	p := &prompter{getenv: e.Getenv, readPassword: e.ReadPassword, what: path}
	for attempt := 1; ; attempt++ {
		k, err := attest.LoadPrivateKeyFile(path, p.password)
		if err == nil || !errors.Is(err, attest.ErrWrongPassword) || !p.fromTerminal || attempt == PasswordAttempts {
			return k, err
		}
		p.notice = "Wrong password; try again."
	}
}
