package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/internal/safetext"
)

// ExactArgs accepts exactly one positional argument, described by what ("an
// answers document"); the error says what was expected, what was found and
// shows the command's first example.
func ExactArgs(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			return nil
		}
		return argsError(cmd, "one argument, "+what, args)
	}
}

// MinArgs accepts one or more positional arguments.
func MinArgs(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= 1 {
			return nil
		}
		return argsError(cmd, "at least one argument, "+what, args)
	}
}

// MaxArgs accepts up to n positional arguments.
func MaxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) <= n {
			return nil
		}
		return argsError(cmd, fmt.Sprintf("at most %d argument(s), %s", n, what), args)
	}
}

// NoArgs accepts no positional argument (a subcommand name that does not
// exist is reported as such, with the ones that do).
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	expected := "no arguments"
	if names := subcommandNames(cmd); names != "" {
		expected = "no arguments, or a subcommand (" + names + ")"
	}
	return argsError(cmd, expected, args)
}

func subcommandNames(cmd *cobra.Command) string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names, ", ")
}

func argsError(cmd *cobra.Command, expected string, args []string) error {
	got := "none"
	if len(args) > 0 {
		q := make([]string, len(args))
		for i, a := range args {
			q[i] = safetext.Quote(a)
		}
		got = fmt.Sprintf("%d (%s)", len(args), strings.Join(q, " "))
	}
	msg := fmt.Sprintf("%s expects %s; got %s", cmd.CommandPath(), expected, got)
	if ex := FirstExample(cmd); ex != "" {
		msg += "; example: " + ex
	}
	return Usage(fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath()))
}
