package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newVerifyAttestationCmd(e *env) *cobra.Command {
	var keys []string
	var answers, at, format string
	cmd := &cobra.Command{
		Use:   "verify-attestation ATTESTATION --key KEY.pub",
		Short: "Verify a builder capability attestation",
		Long: `verify-attestation checks a capability attestation: the DSSE signature with
the given public key(s), the payload type, the statement and predicate types,
validity at --at (default now) and, with --answers, that the answers document
is exactly the one attested.

Exit codes: 0 everything holds; 1 a check failed; 2 unreadable input.`,
		Example: `  hallmark verify-attestation builder.capability.json --key operator.pub --answers answers.json
  hallmark verify-attestation builder.capability.json --key operator.pub --at 2027-03-01T00:00:00Z
  hallmark verify-attestation builder.capability.json --key operator.pub --key auditor.pub --format json`,
		Args: cli.ExactArgs("the attestation to verify (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			when := e.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return cli.Usage(fmt.Errorf("--at: expected RFC 3339 like 2027-01-01T00:00:00Z, got %q", at))
				}
				when = t
			}
			var pubs []*attest.PublicKey
			for _, k := range keys {
				p, err := attest.LoadPublicKeyFile(k)
				if err != nil {
					return cli.Usage(err)
				}
				pubs = append(pubs, p)
			}
			if err := attest.DistinctKeys(pubs); err != nil {
				return cli.Usage(fmt.Errorf("--key: %w", err))
			}
			env, err := e.ReadInput(args[0], attest.MaxEnvelopeBytes)
			if err != nil {
				return err
			}
			if err := cli.CheckKind(args[0], env, "a builder capability attestation (from hallmark attest)", doctype.Capability); err != nil {
				return err
			}
			opts := attest.VerifyOptions{At: when}
			if answers != "" {
				if opts.Answers, err = e.ReadInput(answers, questionnaire.MaxAnswersBytes); err != nil {
					return err
				}
				if err := cli.CheckKind("--answers "+answers, opts.Answers, "the answers document the attestation names", doctype.Answers); err != nil {
					return err
				}
			}
			v, err := attest.Verify(cmd.Context(), env, pubs, opts)
			if format == "json" {
				r := attestationResult{File: args[0], Verified: err == nil, At: when.UTC().Format(time.RFC3339), AnswersChecked: answers != ""}
				if err != nil {
					r.Error = err.Error()
				} else {
					r.Predicate, r.AnswersDigest, r.SignedBy = v.Predicate, v.AnswersDigest, v.Key.Fingerprint
				}
				if werr := cli.WriteJSON(e.Stdout, r); werr != nil {
					return werr
				}
				if err != nil {
					return cli.Failed(err)
				}
				return nil
			}
			if err != nil {
				fmt.Fprintf(e.Stdout, "FAILED: %s\n", args[0])
				return cli.Failed(err)
			}
			p := v.Predicate
			fmt.Fprintf(e.Stdout, "Verified: %s\n  builder     %s\n  level       Build L%d\n  assessment  %s\n  valid       %s to %s (checked at %s)\n  answers     %s sha256:%s%s\n  signed by   %s\n",
				args[0], p.Builder.Name(), p.SLSABuildLevel, assessmentLine(p.Assessment),
				p.ValidFrom.Format(time.RFC3339), p.ValidUntil.Format(time.RFC3339), when.UTC().Format(time.RFC3339),
				v.Statement.Subject[0].Name, v.AnswersDigest, matched(answers), v.Key.Fingerprint)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "public key file of the expected signer (repeatable: --key a.pub --key b.pub)")
	cli.FormatVar(cmd.Flags(), &format, "text", "json")
	cmd.Flags().StringVar(&answers, "answers", "", "answers document the attestation must name")
	cmd.Flags().StringVar(&at, "at", "", "check validity at this time (RFC 3339); default now")
	cmd.MarkFlagRequired("key")
	return cmd
}

func matched(answers string) string {
	if answers == "" {
		return " (not checked: no --answers)"
	}
	return " (matches " + answers + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// attestationResult is verify-attestation's JSON output.
type attestationResult struct {
	File           string            `json:"file"`
	Verified       bool              `json:"verified"`
	At             string            `json:"checkedAt"`
	Error          string            `json:"error,omitempty"`
	SignedBy       string            `json:"signedBy,omitempty"`
	AnswersDigest  string            `json:"answersDigest,omitempty"`
	AnswersChecked bool              `json:"answersChecked"`
	Predicate      *attest.Predicate `json:"predicate,omitempty"`
}

// assessmentLine is "self-assessment by URI", or without "by" when the
// attestation names no assessor.
func assessmentLine(a attest.Assessment) string {
	s := string(a.Kind) + "-assessment"
	if a.Kind == attest.ThirdPartyAssessment {
		s = "third-party assessment"
	}
	if a.AssessorID != "" {
		s += " by " + safetext.Term(a.AssessorID)
	} else {
		s += " (no assessor named)"
	}
	return s
}
