package main

import (
	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/internal/cli"
)

// env is the outside world of a command (see cli.Env).
type env = cli.Env

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "hallmark",
		Short: "Certify a build platform against the SLSA Build track",
		Long: `hallmark walks a build-platform operator through the SLSA Build-track
threat-model questionnaire, assesses which Build level the answers support,
and signs a time-limited builder capability attestation.

Exit codes: 0 success; 1 the check or verification failed; 2 bad usage or
unreadable input.`,
		Example: `  hallmark keygen operator
  hallmark assess answers.json
  hallmark check answers.json
  hallmark attest answers.json --key operator.key -o builder.capability.json`,
	}
	root.AddCommand(newAssessCmd(e), newCheckCmd(e), newKeygenCmd(e), newAttestCmd(e), newVerifyAttestationCmd(e), newInspectCmd(e), newReviewCmd(e), newReportCmd(e))
	cli.Setup(root, e)
	return root
}
