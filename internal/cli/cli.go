// Package cli holds what the hallmark and trustmap commands share: exit codes
// and the mapping from errors to them.
package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/internal/safetext"
)

// Exit codes of both commands.
const (
	ExitOK     = 0 // success: the check passed, the file was written
	ExitFailed = 1 // the check or verification ran and failed
	ExitUsage  = 2 // bad usage, or input that could not be read or parsed
)

// ExitError carries an exit code. Err may be nil when the command already
// reported the failure on its output (a failed check prints its result).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Failed returns an error that exits 1 with err's message.
func Failed(err error) error { return &ExitError{Code: ExitFailed, Err: err} }

// FailedQuiet exits 1 without a further message.
func FailedQuiet() error { return &ExitError{Code: ExitFailed} }

// Usage returns an error that exits 2.
func Usage(err error) error { return &ExitError{Code: ExitUsage, Err: err} }

// Execute runs root with args and maps its error to an exit code. Errors
// without a code are usage errors (cobra's own flag errors are among them).
func Execute(root *cobra.Command, args []string) int {
	root.SetArgs(args)
	root.SilenceErrors = true
	root.SilenceUsage = true
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return ExitOK
	}
	code := ExitUsage
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	}
	// Messages quote inputs (paths, keyids, builder ids): escaped, so
	// that no escape sequence reaches the terminal.
	fmt.Fprintf(root.ErrOrStderr(), "%s: %s\n", root.Name(), safetext.Term(oneLine(root, err.Error())))
	return code
}

// oneLine turns cobra's multi-line unknown-command error ("unknown command
// "chek" for "hallmark"\n\nDid you mean this?\n\tcheck\n") into one line
// that says what to do.
func oneLine(root *cobra.Command, msg string) string {
	const didYouMean = "\n\nDid you mean this?\n"
	if before, after, ok := strings.Cut(msg, didYouMean); ok {
		msg = before + "; did you mean " + strings.Join(strings.Fields(after), " or ") + "?"
	}
	if strings.HasPrefix(msg, "unknown command ") {
		msg += fmt.Sprintf(" (see %s --help)", root.Name())
	}
	return msg
}

// Count is "1 entry", "2 entries".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
