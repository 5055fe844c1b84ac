package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newCheckCmd(e *env) *cobra.Command {
	var format, review string
	cmd := &cobra.Command{
		Use:   "check ANSWERS.json",
		Short: "Assess an answers document and print the level it supports",
		Long: `check assesses an answers document: the status of every requirement, the
SLSA Build level the answers support, and what is missing for the next level.

Exit codes: 0 the claimed level (profile.claimedLevel) is supported; 1 it is
not, or no level is claimed; 2 the file cannot be read or is invalid.`,
		Example: `  hallmark check testdata/answers/l3-hosted.json
  hallmark check --format json answers.json
  hallmark check answers.json --review answers.review.json`,
		Args: cli.ExactArgs("the answers document to assess (start one with hallmark assess)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := loadAnswers(args[0])
			if err != nil {
				return err
			}
			opts := assess.Options{}
			if review != "" {
				rv, err := loadReview(review, doc)
				if err != nil {
					return err
				}
				opts.Verdicts = rv.VerdictMap()
			}
			a := assess.Assess(doc, opts)
			if format == "json" {
				enc := json.NewEncoder(e.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(a); err != nil {
					return err
				}
			} else {
				render.Assessment(e.Stdout, args[0], doc.Q(), a)
			}
			if !a.ClaimSupported {
				return cli.FailedQuiet()
			}
			return nil
		},
	}
	cli.FormatVar(cmd.Flags(), &format, "text", "json")
	cmd.Flags().StringVar(&review, "review", "", "count only the answers this auditor's review accepted")
	return cmd
}

// loadAnswers reads and validates an answers document; failures are usage
// errors (exit 2).
func loadAnswers(path string) (*questionnaire.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cli.Usage(err)
	}
	defer f.Close()
	doc, err := questionnaire.ReadAnswers(f)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	return doc, nil
}
