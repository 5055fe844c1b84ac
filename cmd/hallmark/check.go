package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newCheckCmd(e *env) *cobra.Command {
	var format, review string
	var waive []string
	cmd := &cobra.Command{
		Use:   "check ANSWERS.json",
		Short: "Assess an answers document and print the level it supports",
		Long: `check assesses an answers document: the status of every requirement, the
SLSA Build level the answers support, and what is missing for the next level.

check decides as "hallmark attest" does, with the same --review and --waive:
the level to attest is the claimed level (profile.claimedLevel), else the
level the answers support; it must be Build L1 or above and supported, and
every best-practice finding must be answered or waived (--waive ID=REASON).
Answers that contradict each other make the requirements they bear on
"inconsistent"; answers whose choice was split by a newer questionnaire are
listed as needing a new answer.

Exit codes: 0 "hallmark attest" would sign; 1 it would refuse (the output
says why); 2 the file cannot be read or is invalid.`,
		Example: `  hallmark check testdata/answers/l3-hosted.json
  hallmark check --format json answers.json
  hallmark check answers.json --review answers.review.json
  hallmark check answers.json --waive AD5="restore drill booked for 2027-01-15"
  curl -s https://builds.example.com/answers.json | hallmark check -`,
		Args: cli.ExactArgs("the answers document to assess (start one with hallmark assess)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			waivers, err := parseWaivers(waive)
			if err != nil {
				return cli.Usage(err)
			}
			var doc *questionnaire.Document
			if args[0] == cli.Stdio {
				b, rerr := e.ReadInput(args[0], questionnaire.MaxAnswersBytes)
				if rerr != nil {
					return rerr
				}
				doc, err = parseAnswersFile("standard input", b)
			} else {
				doc, err = loadAnswers(args[0])
			}
			if err != nil {
				return err
			}
			opts := assess.Options{Waivers: waivers}
			if review != "" {
				rv, err := loadReview(review, doc)
				if err != nil {
					return err
				}
				opts.Verdicts = rv.VerdictMap()
			}
			a := assess.Assess(doc, opts)
			level, attestErr := a.Attestable(nil)
			if format == "json" {
				out := struct {
					*assess.Assessment
					Attestable   bool   `json:"attestable"`
					AttestLevel  int    `json:"attestLevel"`
					AttestRefuse string `json:"attestRefusal,omitempty"`
				}{Assessment: a, Attestable: attestErr == nil, AttestLevel: int(level)}
				if attestErr != nil {
					out.AttestRefuse = attestErr.Error()
				}
				enc := json.NewEncoder(e.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else {
				render.Assessment(e.Stdout, args[0], doc.Q(), a)
				if attestErr != nil {
					fmt.Fprintf(e.Stdout, "\nhallmark attest would refuse: %v\n", attestErr)
				} else {
					fmt.Fprintf(e.Stdout, "\nhallmark attest would sign %s.\n", render.LevelName(level))
					if n := len(doc.Profile.Builders); n > 1 {
						fmt.Fprintf(e.Stdout, "The profile lists %d builders: an attestation certifies one, named with hallmark attest --builder-id.\n", n)
					}
				}
			}
			if attestErr != nil {
				return cli.FailedQuiet()
			}
			return nil
		},
	}
	cli.FormatVar(cmd.Flags(), &format, "text", "json")
	cmd.Flags().StringVar(&review, "review", "", "count only the answers this auditor's review accepted")
	cmd.Flags().StringArrayVar(&waive, "waive", nil, "accept a best-practice finding as attest would: ID=REASON (repeatable)")
	return cmd
}

// loadAnswers reads and validates an answers document; failures are usage
// errors (exit 2).
// Given another kind of document, the error says what it is and which
// command reads it.
func loadAnswers(path string) (*questionnaire.Document, error) {
	if err := cli.CheckFile(path); err != nil {
		return nil, err
	}
	b, err := limitio.ReadFile(path, questionnaire.MaxAnswersBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	return parseAnswersFile(path, b)
}

// parseAnswersFile parses the answers read from path, saying what the file
// is when it is another kind of document.
func parseAnswersFile(path string, b []byte) (*questionnaire.Document, error) {
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		if d := doctype.Identify(b); d.Kind != doctype.Answers && d.Kind != doctype.UnknownJSONSchema {
			return nil, cli.Usage(fmt.Errorf("%s is %s: expected an answers document (schema %s); start one with hallmark assess", path, d.Describe(), questionnaire.AnswersSchema))
		}
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	return doc, nil
}
