package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/questionnaire"
)

type attestFlags struct {
	key, out, notBefore, builderID, assessorID, review string
	validFor                                           time.Duration
	level                                              questionnaire.Level
	levelSet                                           bool
}

func newAttestCmd(e *env) *cobra.Command {
	var f attestFlags
	cmd := &cobra.Command{
		Use:   "attest ANSWERS.json --key KEY",
		Short: "Sign a time-limited builder capability attestation for an answers document",
		Long: `attest assesses the answers and signs an in-toto Statement whose subject is
the answers document (its sha256 as saved) and whose predicate
(` + attest.PredicateType + `) records the builder,
the Build level granted, the status of every requirement, who assessed it and
the validity window. The result is a DSSE envelope.

It refuses to attest a level above what the answers support, naming the unmet
requirements. The level is --level, else profile.claimedLevel, else the level
the answers support. Validity is mandatory: 90 days by default, 366 at most.`,
		Example: `  hallmark attest answers.json --key operator.key -o builder.capability.json
  hallmark attest answers.json --review answers.review.json --key auditor.key --assessor-id https://audit.example
  hallmark attest answers.json --key operator.key --valid-for 30d --not-before 2027-01-01T00:00:00Z`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttest(cmd.Context(), e, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "private key file (from hallmark keygen)")
	fl.StringVarP(&f.out, "output", "o", "builder.capability.json", "where to write the attestation")
	cli.ValidityVar(fl, &f.validFor, "valid-for", "90d", "validity period such as 90d or 720h, at most 366d")
	fl.StringVar(&f.notBefore, "not-before", "", "start of validity (RFC 3339); default now")
	cli.OptionalLevelVar(fl, &f.level, &f.levelSet, "level", "level to attest (default: the claimed level)")
	fl.StringVar(&f.builderID, "builder-id", "", "which builder.id of the profile to attest, when it lists several")
	fl.StringVar(&f.assessorID, "assessor-id", "", "URI identifying who assessed the answers (required with --review)")
	fl.StringVar(&f.review, "review", "", "auditor's review: issue a third-party attestation counting only accepted answers")
	cmd.MarkFlagRequired("key")
	return cmd
}

func runAttest(ctx context.Context, e *env, answersPath string, f attestFlags) error {
	validFor := f.validFor
	var notBefore time.Time
	var err error
	if f.notBefore != "" {
		if notBefore, err = time.Parse(time.RFC3339, f.notBefore); err != nil {
			return cli.Usage(fmt.Errorf("--not-before: expected RFC 3339 like 2027-01-01T00:00:00Z, got %q", f.notBefore))
		}
	}
	var level *questionnaire.Level
	if f.levelSet {
		level = &f.level
	}
	doc, err := loadAnswers(answersPath)
	if err != nil {
		return err
	}
	opts := attest.IssueOptions{
		AnswersName: filepath.Base(answersPath), BuilderID: f.builderID, Level: level,
		Now: e.Now(), NotBefore: notBefore, ValidFor: validFor, AssessorID: f.assessorID,
	}
	assessOpts := assess.Options{}
	if f.review != "" {
		if f.assessorID == "" {
			return cli.Usage(errors.New("--review needs --assessor-id: a third-party attestation names its assessor"))
		}
		rv, err := loadReview(f.review, doc)
		if err != nil {
			return err
		}
		if opts.ReviewDigest, err = rv.Digest(); err != nil {
			return err
		}
		opts.Kind = attest.ThirdPartyAssessment
		assessOpts.Verdicts = rv.VerdictMap()
	}
	key, err := e.LoadPrivateKey(f.key)
	if err != nil {
		return cli.Usage(err)
	}
	res, err := attest.IssueWith(ctx, doc, assess.Assess(doc, assessOpts), key, opts)
	if err != nil {
		return cli.Failed(err)
	}
	if err := atomicfile.WriteFile(f.out, res.Envelope, 0o644); err != nil {
		return cli.Usage(err)
	}
	p := res.Predicate
	fmt.Fprintf(e.Stdout, "Wrote %s\n  builder     %s\n  level       Build L%d (%s assessment)\n  valid       %s to %s\n  answers     %s sha256:%s\n  signed by   %s\n\nVerify it with:\n  hallmark verify-attestation %s --key %s --answers %s\n",
		f.out, p.Builder.Name(), p.SLSABuildLevel, p.Assessment.Kind, p.ValidFrom.Format(time.RFC3339), p.ValidUntil.Format(time.RFC3339),
		answersPath, res.AnswersDigest, key.Fingerprint(), f.out, pubPathFor(f.key), answersPath)
	return nil
}

// pubPathFor guesses the public key next to a private key, for hints.
func pubPathFor(keyPath string) string {
	if p, ok := strings.CutSuffix(keyPath, ".key"); ok {
		if _, err := os.Stat(p + ".pub"); err == nil {
			return p + ".pub"
		}
	}
	return "KEY.pub"
}
