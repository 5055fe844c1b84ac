package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/trustmap"
)

func newExpectationsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "expectations", Short: "Manage trust-on-first-use expectations",
		Example: `  trustmap expectations approve --tofu-store tofu.json --package app --roots roots.json \
      --provenance app.intoto.jsonl --approved-by alice@example.com app.tar.gz`}
	var f verifyFlags
	var approvedBy string
	approve := &cobra.Command{
		Use:   "approve --tofu-store FILE --package NAME --roots roots.json --provenance FILE --approved-by WHO ARTIFACT...",
		Short: "Accept a deliberate change of builder, buildType or parameters for a package",
		Long: `approve verifies the provenance like verify (without the trust-on-first-use
check) and records what it shows as the package's new expectation, with who
approved the change.`,
		Example: `  trustmap expectations approve --tofu-store tofu.json --package app --roots roots.json \
      --provenance app.intoto.jsonl --approved-by alice@example.com app.tar.gz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.policyThresholdSet = cmd.Flags().Changed("policy-threshold")
			if f.tofu == "" || f.pkg == "" || approvedBy == "" || f.provenance == "" {
				return cli.Usage(errors.New("--tofu-store, --package, --provenance and --approved-by are required"))
			}
			if len(args) == 0 {
				return cli.Usage(trustmap.ErrNoArtifacts)
			}
			v, err := loadVerifier(cmd.Context(), e, f)
			if err != nil {
				return err
			}
			tofu, err := loadTOFU(f.tofu)
			if err != nil {
				return err
			}
			if v.opts.Policy == nil && v.opts.Expect == nil {
				// The approver's decision is what sets the expectation.
				v.opts.NoExpectationsUnsafe = true
			}
			prov, err := limitio.ReadFile(f.provenance, trustmap.MaxProvenanceBytes)
			if err != nil {
				return cli.Usage(err)
			}
			var arts []*trustmap.Artifact
			for _, a := range args {
				arts = append(arts, trustmap.FileArtifact(a))
			}
			res, verr := trustmap.Verify(cmd.Context(), v.roots, prov, arts, v.opts)
			if verr != nil {
				writeResult(e.Stdout, res)
				return cli.Failed(fmt.Errorf("not approved: the provenance does not verify: %w", verr))
			}
			var pkg *trustmap.PackagePolicy
			if v.policy != nil {
				pp := v.policy.Packages[f.pkg]
				pkg = &pp
			}
			tofu.Approve(f.pkg, res.Provenance(), pkg, approvedBy, v.opts.At)
			if err := saveTOFU(f.tofu, tofu); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "Approved: %s now expects builder %s, buildType %s (approved by %s)\n", f.pkg, res.Provenance().BuilderID, res.Provenance().BuildType, approvedBy)
			return nil
		},
	}
	fl := approve.Flags()
	addVerifyInputFlags(fl, &f)
	fl.StringVar(&approvedBy, "approved-by", "", "who approves the change")
	f.format = "text"
	cmd.AddCommand(approve)
	return cmd
}

func newSignPolicyCmd(e *env) *cobra.Command {
	var keys []string
	var out string
	cmd := &cobra.Command{
		Use:   "sign-policy POLICY.json --key KEY [--key KEY2] -o policy.signed.json",
		Short: "Sign an expectations policy (several keys for two-party changes)",
		Example: `  trustmap sign-policy policy.json --key alice.key --key bob.key -o policy.signed.json
  trustmap verify --policy policy.signed.json --policy-key alice.pub --policy-key bob.pub --policy-threshold 2 ...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keys) == 0 || out == "" {
				return cli.Usage(errors.New("--key and -o are required"))
			}
			b, err := limitio.ReadFile(args[0], trustmap.MaxPolicyBytes)
			if err != nil {
				return cli.Usage(err)
			}
			var priv []*attest.PrivateKey
			for _, k := range keys {
				p, err := e.LoadPrivateKey(k)
				if err != nil {
					return cli.Usage(err)
				}
				priv = append(priv, p)
			}
			env, err := trustmap.SignPolicy(cmd.Context(), b, priv)
			if err != nil {
				return cli.Usage(fmt.Errorf("%s: %w", args[0], err))
			}
			if err := atomicfile.WriteFile(out, env, 0o644); err != nil {
				return cli.Usage(err)
			}
			fmt.Fprintf(e.Stdout, "Wrote %s signed by %d key(s)\n", out, len(priv))
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keys, "key", nil, "private key to sign with (repeatable)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the signed policy")
	return cmd
}
