// Command trustmap is the verifier's tool: it compiles the builder capability
// attestations a verifier trusts into roots of trust, and verifies artifacts
// and their provenance against them.
//
// Exit codes: 0 pass; 1 verification failed (or an attestation was
// rejected); 2 bad usage or unreadable input.
package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
)

func main() { os.Exit(cli.Execute(newRoot(cli.DefaultEnv()), os.Args[1:])) }

// env is the outside world of a command (see cli.Env).
type env = cli.Env

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "trustmap",
		Short: "Compile roots of trust from certified builders, and verify artifacts against them",
		Long: `trustmap is the verifier's side of Hallmark.

  trustmap compile         turns builder capability attestations you trust into roots.json
  trustmap verify          checks artifacts and their SLSA provenance against roots.json
  trustmap sign-policy     signs an expectations policy (one signature per approver)
  trustmap verify-vsa      checks a VSA (source, dependency, another gate's verdict)
  trustmap sign-verifiers  signs the list of verifiers whose VSAs roots accept
  trustmap expectations    records deliberate changes in a trust-on-first-use store
  trustmap inspect         shows any of these documents without verifying it
  trustmap attach          attaches provenance to an image in a registry
  trustmap serve           runs the upload gate (HTTP) with the same verdicts as verify

Exit codes: 0 pass; 1 verification failed (or, for compile, an attestation
was rejected); 2 bad usage or unreadable input.`,
		Example: `  trustmap compile --certifiers certifiers.json builder.capability.json -o roots.json
  trustmap verify --roots roots.json --provenance app.intoto.jsonl app.tar.gz
  trustmap inspect roots.json`,
	}
	root.AddCommand(newCompileCmd(e), newVerifyCmd(e), newExpectationsCmd(e), newSignPolicyCmd(e), newVerifyVSACmd(e), newSignVerifiersCmd(e), newInspectCmd(e), newAttachCmd(e), newServeCmd(e))
	cli.Setup(root, e)
	return root
}

func loadPublicKeys(paths []string) ([]*attest.PublicKey, error) {
	var out []*attest.PublicKey
	for _, p := range paths {
		k, err := attest.LoadPublicKeyFile(p)
		if err != nil {
			return nil, cli.Usage(err)
		}
		out = append(out, k)
	}
	return out, nil
}

func parseTime(flag, s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, cli.Usage(errorf("%s: expected RFC 3339 like 2027-01-01T00:00:00Z, got %q", flag, s))
	}
	return t, nil
}
