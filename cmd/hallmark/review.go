package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/tui"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newReviewCmd(e *env) *cobra.Command {
	var out, reviewer string
	var accessible bool
	cmd := &cobra.Command{
		Use:   "review ANSWERS.json [-o REVIEW.json]",
		Short: "Review an operator's answers as an auditor (interactive)",
		Long: `review walks an auditor through every answer of an answers document, with
the operator's explanation and evidence, and records a verdict for each:
accepted, rejected or needs evidence, with a comment. Verdicts are saved as
soon as they are given; reopening resumes at the first answer without one.

The review document binds the sha256 of the answers it reviewed, and each
verdict the sha256 of its answer. When the operator changes answers after a
review, "hallmark review" on the new answers carries over the verdicts of the
unchanged answers, withdraws those on changed ones (marked "changed since
review", with the old and new answer shown) and says which. check, attest and
report refuse a review made for other answers.

--accessible (automatic when TERM=dumb) asks answer by answer in plain
lines, for screen readers. Then:

  hallmark check ANSWERS.json --review REVIEW.json
  hallmark attest ANSWERS.json --review REVIEW.json --key auditor.key --assessor-id URI`,
		Example: `  hallmark review answers.json -o answers.review.json --reviewer https://audit.example/alice
  hallmark review --accessible answers.json`,
		Args: cli.ExactArgs("the operator's answers document to review"),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := loadAnswers(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], filepath.Ext(args[0])) + ".review.json"
			}
			if out == cli.Stdio {
				return cli.Usage(errors.New("review saves each verdict to its file as it is given: expected -o FILE, got -o - (standard output)"))
			}
			if v := doc.UpgradedFrom(); v != "" {
				return cli.Usage(fmt.Errorf("%s was written with questionnaire %s: the operator opens it with \"hallmark assess %s\" to answer the questions it changed, then it can be reviewed", args[0], v, args[0]))
			}
			rv, changed, err := openOrNewReview(out, args[0], doc)
			if err != nil {
				return err
			}
			if reviewer != "" {
				if err := questionnaire.ValidateText("--reviewer", reviewer); err != nil {
					return cli.Usage(err)
				}
				rv.Reviewer = reviewer
			}
			if len(changed) > 0 {
				fmt.Fprintf(e.Stdout, "The answers changed since %s was made: verdicts on %s were withdrawn (changed since review); the others carry over.\n", out, strings.Join(changed, ", "))
			}
			o := tui.ReviewOptions{AnswersPath: args[0], ReviewPath: out, Doc: doc, Review: rv}
			if accessible || e.Getenv("TERM") == "dumb" {
				return tui.RunAccessibleReview(o, e.Stdin, e.Stdout)
			}
			if !isTerminal(e.Stdin) {
				return cli.Usage(errors.New("no terminal for the full-screen review: run it in a terminal, or use --accessible for line-by-line prompts"))
			}
			if e.Getenv("NO_COLOR") != "" {
				lipgloss.SetColorProfile(termenv.Ascii)
			}
			m := tui.NewReview(o)
			if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithInput(e.Stdin), tea.WithOutput(e.Stdout)).Run(); err != nil {
				return err
			}
			if err := m.Err(); err != nil {
				return cli.Failed(fmt.Errorf("the last change was not saved: %w", err))
			}
			c := m.Counts()
			fmt.Fprintf(e.Stdout, "Saved %s: %d accepted, %d rejected, %d need evidence, %d open.\nNext: hallmark check %s --review %s\n",
				out, c[questionnaire.Accepted], c[questionnaire.Rejected], c[questionnaire.NeedsEvidence], c[""], args[0], out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "review document (default: ANSWERS.review.json)")
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "URI or name of the reviewer, recorded in the review")
	cmd.Flags().BoolVar(&accessible, "accessible", false, "plain line-by-line prompts for screen readers")
	return cmd
}

// openOrNewReview resumes a review of doc (carrying over the verdicts on
// unchanged answers when doc changed since), or starts one. It returns the
// questions whose verdict was withdrawn.
func openOrNewReview(path, answersPath string, doc *questionnaire.Document) (*questionnaire.Review, []string, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		rv, err := questionnaire.NewReview(doc, filepath.Base(answersPath))
		return rv, nil, err
	}
	b, err := limitio.ReadFile(path, questionnaire.MaxReviewBytes)
	if err != nil {
		return nil, nil, cli.Usage(err)
	}
	rv, changed, err := questionnaire.ReopenReview(b, doc)
	if err != nil {
		return nil, nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	// Bind the review to these answers now (carried-over verdicts, changed
	// ones marked), so check and attest can read it with them.
	if err := rv.Save(path); err != nil {
		return nil, nil, cli.Failed(fmt.Errorf("the review was not saved: %w", err))
	}
	return rv, changed, nil
}

// isTerminal reports whether r is a terminal, for the full-screen UIs.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func loadReview(path string, doc *questionnaire.Document) (*questionnaire.Review, error) {
	b, err := limitio.ReadFile(path, questionnaire.MaxReviewBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	if err := cli.CheckKind("--review "+path, b, "a review (from hallmark review)", doctype.Review); err != nil {
		return nil, err
	}
	rv, err := questionnaire.ParseReview(b, doc)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	return rv, nil
}
