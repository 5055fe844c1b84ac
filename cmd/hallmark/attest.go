package main

import (
	"bytes"
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
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

type attestFlags struct {
	key, out, notBefore, builderID, assessorID, review string
	force                                              bool
	validFor                                           time.Duration
	level                                              questionnaire.Level
	levelSet                                           bool
	waive                                              []string
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
the answers support. Validity is mandatory: 90 days by default, 366 at most.

Best practices are part of conformance: attest refuses while a best-practice
answer falls short or is unanswered, unless each such finding is waived with
--waive ID=REASON (repeatable). Waivers are recorded in the predicate; a
verifier's certifiers.json can refuse attestations that carry any.

The answers file must be exactly as hallmark saves it (the attestation's
subject is its sha256): a file written with an older questionnaire, or edited
by hand, is refused until "hallmark assess FILE" saves it again.`,
		Example: `  hallmark attest answers.json --key operator.key -o builder.capability.json
  hallmark attest answers.json --review answers.review.json --key auditor.key --assessor-id https://audit.example
  hallmark attest answers.json --key operator.key --valid-for 30d --not-before 2027-01-01T00:00:00Z
  hallmark attest answers.json --key operator.key --waive AD5="restore drill booked for 2027-01-15"`,
		Args: cli.ExactArgs("the answers document to attest"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttest(cmd.Context(), e, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "private key file (from hallmark keygen)")
	fl.StringVarP(&f.out, "output", "o", "builder.capability.json", "where to write the attestation (- for standard output)")
	fl.BoolVar(&f.force, "force", false, "replace an existing output file")
	cli.ValidityVar(fl, &f.validFor, "valid-for", "90d", "validity period such as 90d or 720h, at most 366d")
	fl.StringVar(&f.notBefore, "not-before", "", "start of validity (RFC 3339); default now")
	cli.OptionalLevelVar(fl, &f.level, &f.levelSet, "level", "level to attest (default: the claimed level)")
	fl.StringVar(&f.builderID, "builder-id", "", "which builder.id of the profile to attest, when it lists several")
	fl.StringVar(&f.assessorID, "assessor-id", "", "URI identifying who assessed the answers (required with --review)")
	fl.StringVar(&f.review, "review", "", "auditor's review: issue a third-party attestation counting only accepted answers")
	fl.StringArrayVar(&f.waive, "waive", nil, "accept a best-practice finding: ID=REASON (repeatable)")
	cmd.MarkFlagRequired("key")
	return cmd
}

// parseWaivers reads --waive ID=REASON flags.
func parseWaivers(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, w := range flags {
		id, reason, ok := strings.Cut(w, "=")
		id, reason = strings.TrimSpace(id), strings.TrimSpace(reason)
		if !ok || id == "" || reason == "" {
			return nil, fmt.Errorf("--waive: expected ID=REASON with a reason, got %s", safetext.Quote(w))
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("--waive: %s given twice", safetext.Quote(id))
		}
		if err := questionnaire.ValidateText("--waive reason", reason); err != nil {
			return nil, err
		}
		out[id] = reason
	}
	return out, nil
}

// loadCanonicalAnswers loads answers whose file bytes are the canonical
// encoding, so that a digest bound to the document is the file's digest.
func loadCanonicalAnswers(path string) (*questionnaire.Document, error) {
	doc, err := loadAnswers(path)
	if err != nil {
		return nil, err
	}
	b, err := limitio.ReadFile(path, questionnaire.MaxAnswersBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	c, err := doc.Canonical()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(b, c) {
		why := "is not in the form hallmark saves (edited by hand?)"
		if v := doc.UpgradedFrom(); v != "" {
			why = fmt.Sprintf("was written with questionnaire %s (this is %s)", v, doc.Questionnaire)
		}
		return nil, cli.Usage(fmt.Errorf("%s %s: open it with \"hallmark assess %s\" and save it, then try again", path, why, path))
	}
	return doc, nil
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
	waivers, err := parseWaivers(f.waive)
	if err != nil {
		return cli.Usage(err)
	}
	out := cli.Output{Path: f.out, Force: f.force, Inputs: []string{answersPath, f.review, f.key}}
	if err := out.Check(); err != nil {
		return err
	}
	doc, err := loadCanonicalAnswers(answersPath)
	if err != nil {
		return err
	}
	opts := attest.IssueOptions{
		AnswersName: filepath.Base(answersPath), BuilderID: f.builderID, Level: level,
		Now: e.Now(), NotBefore: notBefore, ValidFor: validFor, AssessorID: f.assessorID,
	}
	assessOpts := assess.Options{Waivers: waivers}
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
	a := assess.Assess(doc, assessOpts)
	res, err := attest.IssueWith(ctx, doc, a, key, opts)
	if errors.Is(err, attest.ErrLevelNotSupported) {
		hint := "hallmark check " + answersPath + " lists what is missing"
		if a.Level >= 1 {
			hint = fmt.Sprintf("attest the supported level with --level %s, or change the answers (%s)", a.Level, hint)
		}
		return cli.Failed(fmt.Errorf("%w; what to do: %s", err, hint))
	}
	if errors.Is(err, attest.ErrNoBuilder) && len(doc.Profile.Builders) > 0 {
		// Several builders and no --builder-id, or one not in the profile:
		// a choice to make, not a shortfall of the answers.
		return cli.Usage(err)
	}
	if err != nil {
		return cli.Failed(err)
	}
	if err := e.Write(out, res.Envelope); err != nil {
		return err
	}
	p := res.Predicate
	for _, w := range p.BestPracticeWaivers {
		fmt.Fprintf(e.Info(out), "Waived best practice %s: %s\n", w.Question, safetext.Term(w.Reason))
	}
	fmt.Fprintf(e.Info(out), "Wrote %s\n  builder     %s\n  level       Build L%d (%s assessment)\n  valid       %s to %s\n  answers     %s sha256:%s\n  signed by   %s\n\nVerify it with:\n  hallmark verify-attestation %s --key %s --answers %s\n",
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
