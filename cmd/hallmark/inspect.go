package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func newInspectCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show an answers document or an attestation without verifying it",
		Long: `inspect prints a readable view of an answers document or a capability
attestation. Nothing is verified: signatures, validity and digests are not
checked. Use verify-attestation for that.`,
		Example: `  hallmark inspect builder.capability.json
  hallmark inspect answers.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := limitio.ReadFile(args[0], attest.MaxEnvelopeBytes)
			if err != nil {
				return cli.Usage(err)
			}
			var probe struct {
				Schema      string `json:"schema"`
				PayloadType string `json:"payloadType"`
			}
			if err := json.Unmarshal(b, &probe); err != nil {
				return cli.Usage(fmt.Errorf("%s: not JSON: %v", args[0], err))
			}
			switch {
			case probe.Schema == questionnaire.AnswersSchema:
				doc, err := questionnaire.ParseAnswers(b)
				if err != nil {
					return cli.Usage(fmt.Errorf("%s: %w", args[0], err))
				}
				d, _ := doc.Digest()
				fmt.Fprintf(e.Stdout, "UNVERIFIED answers document %s\n  sha256 of the canonical form: %s\n  organisation: %s\n", args[0], d, orDash(doc.Profile.Organization))
				for _, b := range doc.Profile.Builders {
					fmt.Fprintf(e.Stdout, "  builder: %s (%s)\n", b.Name(), orDash(b.Mode))
				}
				fmt.Fprintln(e.Stdout)
				render.Assessment(e.Stdout, args[0], doc.Q(), assess.Assess(doc, assess.Options{}))
			case probe.PayloadType != "":
				env, err := attest.ParseEnvelope(b)
				if err != nil {
					return cli.Usage(fmt.Errorf("%s: %w", args[0], err))
				}
				fmt.Fprintf(e.Stdout, "UNVERIFIED DSSE envelope %s: signatures, validity and digests were NOT checked\n  payloadType: %s\n", args[0], env.PayloadType)
				for _, s := range env.Signatures {
					fmt.Fprintf(e.Stdout, "  signature keyid (a hint, not verified): %s\n", orDash(s.KeyID))
				}
				payload, err := env.DecodeB64Payload()
				if err != nil {
					return cli.Usage(fmt.Errorf("%s: payload: %w", args[0], err))
				}
				var pretty bytes.Buffer
				if err := json.Indent(&pretty, payload, "  ", "  "); err != nil {
					return cli.Usage(fmt.Errorf("%s: payload is not JSON: %v", args[0], err))
				}
				fmt.Fprintf(e.Stdout, "  payload:\n  %s\n", pretty.String())
			default:
				return cli.Usage(fmt.Errorf("%s: neither an answers document (schema %s) nor a DSSE envelope", args[0], questionnaire.AnswersSchema))
			}
			return nil
		},
	}
}
