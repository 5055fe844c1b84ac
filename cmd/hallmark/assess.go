package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/tui"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newAssessCmd(e *env) *cobra.Command {
	var accessible bool
	cmd := &cobra.Command{
		Use:   "assess [ANSWERS.json]",
		Short: "Answer the SLSA build-platform questionnaire (interactive)",
		Long: `assess opens the questionnaire in a full-screen terminal UI. It starts a new
answers document (default answers.json) or resumes an existing one at the
first unanswered question. Every answer is saved as soon as it is given;
Ctrl-C saves the field being edited and quits.

--accessible (automatic when TERM=dumb) asks question by question in plain
lines, for screen readers. NO_COLOR turns colours off.`,
		Example: `  hallmark assess
  hallmark assess platform-answers.json
  hallmark assess --accessible answers.json`,
		Args: cli.MaxArgs(1, "the answers document to write (default answers.json)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "answers.json"
			if len(args) == 1 {
				path = args[0]
			}
			if path == cli.Stdio {
				return cli.Usage(errors.New("assess saves each answer to its file as it is given: expected a file name, got - (standard input); example: hallmark assess answers.json"))
			}
			doc, err := openOrNew(path)
			if err != nil {
				return err
			}
			if dir := filepath.Dir(path); dir != "" {
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					return cli.Usage(fmt.Errorf("cannot save answers in %s: directory %s does not exist", path, dir))
				}
			}
			if v := doc.UpgradedFrom(); v != "" {
				msg := fmt.Sprintf("%s was written with questionnaire %s; it is saved as %s with your next answer.", path, v, doc.Questionnaire)
				if ids := doc.NeedsReanswer(); len(ids) > 0 {
					msg += fmt.Sprintf(" These questions need a new answer (their choice was split): %s.", strings.Join(ids, ", "))
				}
				fmt.Fprintln(e.Stderr, msg)
			}
			o := tui.Options{Path: path, Doc: doc, Now: e.Now, Sign: tuiSigner(e, path)}
			if accessible || e.Getenv("TERM") == "dumb" {
				return tui.RunAccessible(o, e.Stdin, e.Stdout)
			}
			if !isTerminal(e.Stdin) {
				return cli.Usage(errors.New("no terminal for the full-screen questionnaire: run it in a terminal, or use --accessible for line-by-line prompts"))
			}
			if e.Getenv("NO_COLOR") != "" {
				lipgloss.SetColorProfile(termenv.Ascii)
			}
			m := tui.New(o)
			if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithInput(e.Stdin), tea.WithOutput(e.Stdout)).Run(); err != nil {
				return err
			}
			if err := m.Err(); err != nil {
				return cli.Failed(fmt.Errorf("the last change was not saved: %w", err))
			}
			a := m.Assessment()
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(e.Stdout, "Nothing answered yet, so %s was not created.\n", path)
				return nil
			}
			fmt.Fprintf(e.Stdout, "Saved %s: %d of %d answered, the answers support Build %s.\nNext: hallmark check %s\n", path, a.Answered, a.Total, a.Level, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&accessible, "accessible", false, "plain line-by-line prompts for screen readers")
	return cmd
}

// openOrNew loads an answers document, or starts a new one if the file does
// not exist. It never overwrites a file it cannot read as answers.
func openOrNew(path string) (*questionnaire.Document, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return questionnaire.NewDocument(questionnaire.Default()), nil
	}
	return loadAnswers(path)
}

// tuiSigner is the TUI's signing step: load the key with the password typed
// in the form, attest the saved answers and write the envelope.
func tuiSigner(e *env, answersPath string) tui.SignFunc {
	return func(ctx context.Context, doc *questionnaire.Document, req tui.SignRequest) (string, error) {
		validFor, err := cli.ParseValidity(req.ValidFor)
		if err != nil {
			return "", err
		}
		// The attestation's subject is the sha256 of the answers file: make
		// the file exactly the document being signed.
		if err := doc.Save(answersPath); err != nil {
			return "", fmt.Errorf("the answers were not saved, so nothing was signed: %w", err)
		}
		// Never over an existing file or the answers themselves: choose
		// another name in the form (the TUI has no --force).
		out := cli.Output{Path: req.Output, Inputs: []string{answersPath, req.KeyPath}}
		if req.Output == cli.Stdio {
			return "", errors.New("the attestation needs a file name here, not - (standard output is the screen)")
		}
		if err := out.Check(); err != nil {
			return "", err
		}
		key, err := attest.LoadPrivateKeyFile(req.KeyPath, func(bool) ([]byte, error) { return req.Password, nil })
		if err != nil {
			return "", err
		}
		res, err := attest.Issue(ctx, doc, key, attest.IssueOptions{
			AnswersName: filepath.Base(answersPath), Now: e.Now(), ValidFor: validFor, BuilderID: req.BuilderID,
		})
		if err != nil {
			return "", err
		}
		if err := e.Write(out, res.Envelope); err != nil {
			return "", err
		}
		return fmt.Sprintf("Signed: %s (Build L%d, valid until %s).\nA verifier checks it with:\n  hallmark verify-attestation %s --key %s --answers %s",
			req.Output, res.Predicate.SLSABuildLevel, res.Predicate.ValidUntil.Format("2006-01-02T15:04:05Z07:00"),
			req.Output, pubPathFor(req.KeyPath), answersPath), nil
	}
}
