package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/cli"
)

func newKeygenCmd(e *env) *cobra.Command {
	var algorithm string
	var unencrypted bool
	cmd := &cobra.Command{
		Use:   "keygen NAME",
		Short: "Create a signing key pair: NAME.key (encrypted, 0600) and NAME.pub",
		Args:  keygenArgs,
		Long: `keygen creates a key pair for signing capability attestations.

NAME.key holds the private key encrypted with a password, in the format cosign
also reads ("ENCRYPTED SIGSTORE PRIVATE KEY"), with file mode 0600. NAME.pub
holds the public key (PEM) that verifiers pin. Existing files are never
overwritten. NAME may end in .key: "keygen ci.key" writes ci.key and ci.pub.

The password is asked twice on the terminal without echo (an empty one is
refused, a mismatch asks again), or read from HALLMARK_PASSWORD, else
COSIGN_PASSWORD, for automation.`,
		Example: `  hallmark keygen operator
  hallmark keygen --algorithm ed25519 auditor
  HALLMARK_PASSWORD=... hallmark keygen ci-signer.key`,
		RunE: func(cmd *cobra.Command, args []string) error {
			alg, err := attest.ParseAlgorithm(algorithm)
			if err != nil {
				return cli.Usage(err)
			}
			name := strings.TrimSuffix(args[0], ".key")
			for _, f := range []string{name + ".key", name + ".pub"} {
				if _, err := os.Lstat(f); err == nil {
					return cli.Usage(fmt.Errorf("%s already exists; keygen never overwrites a key", f))
				}
			}
			k, err := attest.GenerateKey(alg, e.Rand)
			if err != nil {
				return err
			}
			var priv []byte
			if unencrypted {
				priv, err = k.MarshalUnencrypted()
			} else {
				var pw []byte
				pw, err = e.PassFunc(name + ".key")(true)
				if err != nil {
					return cli.Usage(err)
				}
				priv, err = k.MarshalEncrypted(pw)
			}
			if err != nil {
				return cli.Usage(err)
			}
			pub, err := k.Public().MarshalPEM()
			if err != nil {
				return err
			}
			if err := atomicfile.WriteNew(name+".key", priv, 0o600); err != nil {
				return cli.Usage(err)
			}
			if err := atomicfile.WriteNew(name+".pub", pub, 0o644); err != nil {
				return cli.Usage(fmt.Errorf("%w (the private key %s.key was written)", err, name))
			}
			state := "encrypted"
			if unencrypted {
				state = "NOT encrypted"
			}
			fmt.Fprintf(e.Stdout, "Private key: %s.key (%s, mode 0600)\nPublic key:  %s.pub\nFingerprint: %s\n", name, state, name, k.Fingerprint())
			return nil
		},
	}
	cli.ChoiceVar(cmd.Flags(), &algorithm, "algorithm", "key algorithm", string(attest.ECDSAP256), string(attest.Ed25519))
	cmd.Flags().BoolVar(&unencrypted, "unencrypted", false, "write the private key without a password (only for keys protected by other means)")
	return cmd
}

// keygenArgs wants exactly one NAME, and says what it is for.
func keygenArgs(cmd *cobra.Command, args []string) error {
	if err := cli.ExactArgs("the NAME of the key pair (one pair per call): NAME writes NAME.key and NAME.pub")(cmd, args); err != nil {
		return err
	}
	if strings.TrimSuffix(args[0], ".key") == "" || strings.HasSuffix(args[0], ".pub") {
		return cli.Usage(fmt.Errorf("keygen: expected a NAME such as operator or operator.key, got %q", args[0]))
	}
	return nil
}
