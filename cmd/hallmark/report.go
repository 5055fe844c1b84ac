package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/report"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newReportCmd(e *env) *cobra.Command {
	var review, attestation, key, format, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "report ANSWERS.json --format html|md -o FILE",
		Short: "Write a publishable report of the assessment",
		Long: `report writes the document an operator publishes (SLSA asks that
self-attestation evidence be published) or an auditor hands over: the builder
profile, the level and its validity, a matrix of requirements against
build-model components, every answer with its explanation, evidence and
verdict, the gaps to the next level, and the attestation's digest and how to
verify it. HTML is one self-contained file, readable on screen and in print.

With --attestation, the report always checks that the attestation's subject
is these answers (the sha256 of the answers file) and refuses a mismatch;
--key also verifies its signature and validity now (the report says whether
it was verified). The verify command in the report uses the real file names.
Evidence that is an http(s) URL becomes a link; rejected answers are
highlighted; everything from the answers is escaped for the format.`,
		Example: `  hallmark report answers.json --attestation builder.capability.json --key operator.pub --format html -o report.html
  hallmark report answers.json --review answers.review.json --format md -o report.md
  hallmark report answers.json --format md -o - | less`,
		Args: cli.ExactArgs("the answers document to report on (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			output := cli.Output{Path: out, Force: force, Inputs: []string{args[0], review, attestation, key}}
			if err := output.Check(); err != nil {
				return err
			}
			raw, err := e.ReadInput(args[0], questionnaire.MaxAnswersBytes)
			if err != nil {
				return err
			}
			name := filepath.Base(args[0])
			if args[0] == cli.Stdio {
				name = "standard input"
			}
			doc, err := parseAnswersFile(name, raw)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(raw)
			in := report.Input{AnswersName: name, Doc: doc, Generated: e.Now().UTC().Truncate(time.Second), AnswersDigest: hex.EncodeToString(sum[:])}
			if review != "" {
				if in.Review, err = loadReview(review, doc); err != nil {
					return err
				}
				in.ReviewName = filepath.Base(review)
			}
			if attestation != "" {
				if in.Attestation, err = loadReportAttestation(cmd, e, attestation, key, name, raw); err != nil {
					return err
				}
			} else if key != "" {
				return cli.Usage(errors.New("--key needs --attestation"))
			}
			m, err := report.Build(in)
			if err != nil {
				return err
			}
			var b []byte
			if format == "html" {
				b, err = report.HTML(m)
			} else {
				b, err = report.Markdown(m)
			}
			if err != nil {
				return err
			}
			if err := e.Write(output, b); err != nil {
				return err
			}
			fmt.Fprintf(e.Info(output), "Wrote %s (%s): %s\n", out, format, m.LevelName)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&review, "review", "", "auditor's review: show verdicts and count only accepted answers")
	fl.StringVar(&attestation, "attestation", "", "capability attestation to describe")
	fl.StringVar(&key, "key", "", "public key to verify the attestation with")
	cli.FormatVar(fl, &format, "html", "md")
	fl.StringVarP(&out, "output", "o", "", "where to write the report (- for standard output)")
	fl.BoolVar(&force, "force", false, "replace an existing output file")
	return cmd
}

// loadReportAttestation reads the attestation for the report: verified with
// key when given (failing closed), otherwise parsed and labelled unverified.
func loadReportAttestation(cmd *cobra.Command, e *env, path, keyPath, answersName string, answers []byte) (*report.Attestation, error) {
	b, err := limitio.ReadFile(path, attest.MaxEnvelopeBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	if err := cli.CheckKind("--attestation "+path, b, "a builder capability attestation (from hallmark attest)", doctype.Capability); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	a := &report.Attestation{Path: filepath.Base(path), Digest: hex.EncodeToString(sum[:])}
	if keyPath != "" {
		pub, err := attest.LoadPublicKeyFile(keyPath)
		if err != nil {
			return nil, cli.Usage(err)
		}
		v, err := attest.Verify(cmd.Context(), b, []*attest.PublicKey{pub}, attest.VerifyOptions{At: e.Now(), Answers: answers})
		if err != nil {
			return nil, cli.Failed(fmt.Errorf("%s: %w", path, err))
		}
		a.Predicate, a.VerifiedBy, a.KeyName = v.Predicate, pub.Fingerprint, filepath.Base(keyPath)
		return a, nil
	}
	env, err := attest.ParseEnvelope(b)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	payload, err := env.DecodeB64Payload()
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	st, p, err := attest.ParseStatement(payload)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	asum := sha256.Sum256(answers)
	if got := hex.EncodeToString(asum[:]); len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != got {
		want := ""
		if len(st.Subject) > 0 {
			want = st.Subject[0].Digest["sha256"]
		}
		return nil, cli.Failed(fmt.Errorf("%s: %w: the attestation names sha256:%s, %s is sha256:%s", path, attest.ErrAnswersDigestMismatch, safetext.Term(want), answersName, got))
	}
	a.Predicate = p
	return a, nil
}
