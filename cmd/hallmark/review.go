package main

import (
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

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/tui"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newReviewCmd(e *env) *cobra.Command {
	var out, reviewer string
	cmd := &cobra.Command{
		Use:   "review ANSWERS.json [-o REVIEW.json]",
		Short: "Review an operator's answers as an auditor (interactive)",
		Long: `review walks an auditor through every answer of an answers document, with
the operator's explanation and evidence, and records a verdict for each:
accepted, rejected or needs evidence, with a comment. Verdicts are saved as
soon as they are given; reopening resumes at the first answer without one.

The review document binds the sha256 of the answers it reviewed and refuses
to load against different answers. Then:

  hallmark check ANSWERS.json --review REVIEW.json
  hallmark attest ANSWERS.json --review REVIEW.json --key auditor.key --assessor-id URI`,
		Example: `  hallmark review answers.json -o answers.review.json --reviewer https://audit.example/alice`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := loadAnswers(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], filepath.Ext(args[0])) + ".review.json"
			}
			rv, err := openOrNewReview(out, args[0], doc)
			if err != nil {
				return err
			}
			if reviewer != "" {
				rv.Reviewer = reviewer
			}
			if e.Getenv("NO_COLOR") != "" {
				lipgloss.SetColorProfile(termenv.Ascii)
			}
			m := tui.NewReview(tui.ReviewOptions{AnswersPath: args[0], ReviewPath: out, Doc: doc, Review: rv})
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
	return cmd
}

// openOrNewReview resumes a review of doc, or starts one.
func openOrNewReview(path, answersPath string, doc *questionnaire.Document) (*questionnaire.Review, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return questionnaire.NewReview(doc, filepath.Base(answersPath))
	}
	return loadReview(path, doc)
}

func loadReview(path string, doc *questionnaire.Document) (*questionnaire.Review, error) {
	b, err := limitio.ReadFile(path, questionnaire.MaxReviewBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	rv, err := questionnaire.ParseReview(b, doc)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	return rv, nil
}
