package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newInspectCmd(e *env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show an answers document, a review or an attestation without verifying it",
		Long: `inspect prints a readable view of an answers document (with its
assessment), a review, or any DSSE envelope (a capability attestation, a VSA,
provenance, signed roots or policies). Nothing is verified: signatures,
validity and digests are not checked, and the output says so. Use
verify-attestation for that.

The verifier's documents (roots, policies, certifiers, revocations, TOFU
stores, Sigstore bundles, JSON Lines provenance) are shown by trustmap
inspect; given one, inspect says so. FILE may be - for standard input.`,
		Example: `  hallmark inspect builder.capability.json
  hallmark inspect answers.json
  hallmark inspect --format json builder.capability.json
  cat builder.capability.json | hallmark inspect -`,
		Args: cli.ExactArgs("the file to show (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, d, shown, err := e.ReadDocument(args[0], attest.MaxEnvelopeBytes)
			if err != nil {
				return err
			}
			switch d.Kind {
			case doctype.Answers:
				doc, err := questionnaire.ParseAnswers(b)
				if err != nil {
					return cli.Usage(fmt.Errorf("%s: %w", args[0], err))
				}
				dg, _ := doc.Digest()
				a := assess.Assess(doc, assess.Options{})
				if format == "json" {
					return cli.WriteJSON(e.Stdout, struct {
						doctype.Shown
						Digest     string             `json:"sha256"`
						Assessment *assess.Assessment `json:"assessment"`
					}{shown, dg, a})
				}
				fmt.Fprintf(e.Stdout, "%s: answers document\n%s\n  sha256 of the canonical form: %s\n  organisation: %s\n", args[0], doctype.Unverified, dg, orDash(doc.Profile.Organization))
				for _, b := range doc.Profile.Builders {
					fmt.Fprintf(e.Stdout, "  builder: %s (%s)\n", b.Name(), orDash(b.Mode))
				}
				fmt.Fprintln(e.Stdout)
				render.Assessment(e.Stdout, args[0], doc.Q(), a)
				return nil
			case doctype.Review, doctype.Capability, doctype.VSA, doctype.Provenance, doctype.InTotoEnvelope,
				doctype.Envelope, doctype.SignedRoots, doctype.SignedPolicy, doctype.SignedApproval, doctype.SignedVerifierTrust, doctype.Statement:
				if d.PayloadType != "" {
					if _, err := attest.ParseEnvelope(b); err != nil {
						return cli.Usage(fmt.Errorf("%s: %w", args[0], err))
					}
				}
			default:
				return cli.Usage(fmt.Errorf("%s is %s; hallmark inspect shows answers, reviews and DSSE envelopes: run trustmap inspect %s", args[0], d.Describe(), args[0]))
			}
			return e.WriteShown(shown, format)
		},
	}
	cli.FormatVar(cmd.Flags(), &format, "text", "json")
	return cmd
}
