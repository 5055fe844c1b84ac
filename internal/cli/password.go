package cli

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/hallmark-build/hallmark/attest"
)

// PasswordEnv is the variable automation sets instead of typing a password.
const PasswordEnv = "HALLMARK_PASSWORD"

// ErrNoPassword: no terminal to ask on and no HALLMARK_PASSWORD.
var ErrNoPassword = errors.New("a password is needed: run on a terminal, or set " + PasswordEnv)

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

// PassFunc returns the password callback for key files: HALLMARK_PASSWORD if
// set, else the terminal through readPassword (asking twice when confirm is
// set).
func PassFunc(getenv func(string) string, readPassword func(string) ([]byte, error), what string) attest.PassFunc {
	return func(confirm bool) ([]byte, error) {
		if pw := getenv(PasswordEnv); pw != "" {
			return []byte(pw), nil
		}
		pw, err := readPassword(fmt.Sprintf("Password for %s: ", what))
		if err != nil {
			return nil, err
		}
		if confirm {
			again, err := readPassword("Enter it again: ")
			if err != nil {
				return nil, err
			}
			if string(again) != string(pw) {
				return nil, errors.New("the two passwords differ")
			}
		}
		return pw, nil
	}
}
