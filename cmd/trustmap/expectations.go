package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/trustmap"
	tmstore "github.com/hallmark-build/hallmark/trustmap/store"
)

func newExpectationsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "expectations",
		Short: "Manage trust-on-first-use expectations: propose, sign and approve changes",
		Long: `A deliberate change of a package's builder, buildType or parameters is
approved in three steps, so that no single person and no free-text name can
change what the trust-on-first-use store expects:

  1. propose  verifies the new provenance and writes the new expectation as
              an approval document;
  2. sign     each approver signs it on their own machine (co-signing adds a
              signature, the document never changes);
  3. approve  applies it to the store when enough distinct approver keys
              (--approver-key, --approvals-threshold) signed it, and it is
              newer than the expectation it replaces.`,
		Example: `  trustmap expectations propose --package app --roots roots.json --provenance app.intoto.jsonl -o approval.json app.tar.gz
  trustmap expectations sign approval.json --key alice.key -o approval.signed.json
  trustmap expectations sign approval.signed.json --key bob.key -o approval.signed.json
  trustmap expectations approve --tofu-store tofu.json --package app --approval approval.signed.json \
      --approver-key alice.pub --approver-key bob.pub --approvals-threshold 2`,
	}
	cmd.AddCommand(newProposeCmd(e), newSignApprovalCmd(e), newApproveCmd(e))
	return cmd
}

func newProposeCmd(e *env) *cobra.Command {
	var f verifyFlags
	var out string
	var validFor time.Duration
	var force bool
	c := &cobra.Command{
		Use:   "propose --package NAME --roots roots.json --provenance FILE -o approval.json ARTIFACT...",
		Short: "Write the expectation a verified provenance shows, for approvers to sign",
		Long: `propose verifies the provenance like verify (without the trust-on-first-use
check) and writes what it shows — builder.id, buildType and parameters, as
the store would pin them — as an approval document valid for --valid-for
(default 7d, at most 90d).`,
		Example: `  trustmap expectations propose --package app --roots roots.json \
      --provenance app.intoto.jsonl -o approval.json app.tar.gz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.policyThresholdSet = cmd.Flags().Changed("policy-threshold")
			if f.pkg == "" || f.provenance == "" {
				return cli.Usage(errors.New("--package and --provenance are required"))
			}
			output := cli.Output{Path: out, Force: force, Inputs: f.inputs(args)}
			if err := output.Check(); err != nil {
				return err
			}
			if len(args) == 0 {
				return cli.Usage(trustmap.ErrNoArtifacts)
			}
			v, err := loadVerifier(cmd.Context(), e, f)
			if err != nil {
				return err
			}
			if v.opts.Policy == nil && v.opts.Expect == nil {
				// The approver's decision is what sets the expectation.
				v.opts.NoExpectationsUnsafe = true
			}
			prov, err := e.ReadInput(f.provenance, trustmap.MaxProvenanceBytes)
			if err != nil {
				return err
			}
			var arts []*trustmap.Artifact
			for _, a := range args {
				if err := cli.CheckFile(a); err != nil {
					return err
				}
				arts = append(arts, trustmap.FileArtifact(a))
			}
			if err := checkProvenanceInput(f.provenance, prov, args); err != nil {
				return err
			}
			res, verr := trustmap.Verify(cmd.Context(), v.roots, prov, arts, v.opts)
			if verr != nil {
				writeResult(e.Stdout, res)
				return cli.Failed(fmt.Errorf("nothing proposed: the provenance does not verify: %w", verr))
			}
			var pkg *trustmap.PackagePolicy
			if v.policy != nil {
				pp := v.policy.Packages[f.pkg]
				pkg = &pp
			}
			a, err := trustmap.NewApproval(f.pkg, res, pkg, v.opts.At, validFor)
			if err != nil {
				return cli.Usage(err)
			}
			b, err := a.Marshal()
			if err != nil {
				return err
			}
			if err := e.Write(output, b); err != nil {
				return err
			}
			fmt.Fprintf(e.Info(output), "%sWrote %s: have it signed with trustmap expectations sign\n", a.Describe(), out)
			return nil
		},
	}
	fl := c.Flags()
	addVerifyInputFlags(fl, &f)
	fl.StringVarP(&out, "output", "o", "", "where to write the approval document (- for standard output)")
	fl.BoolVar(&force, "force", false, "replace an existing output file")
	c.MarkFlagRequired("package")
	c.MarkFlagRequired("provenance")
	cli.ValidityMaxVar(fl, &validFor, "valid-for", "7d", trustmap.MaxApprovalValidity, "how long the approval may be applied, such as 7d or 72h, at most 90d")
	f.format = "text"
	return c
}

func newSignApprovalCmd(e *env) *cobra.Command {
	var cs coSigner
	c := &cobra.Command{
		Use:   "sign APPROVAL.json --key KEY -o approval.signed.json",
		Short: "Sign an approval, or add your signature to one others signed",
		Long: `sign shows the expectation the approval sets and signs it. Given an approval
another approver already signed, it adds a signature and leaves the signed
document as it is; a key that already signed is refused.`,
		Example: `  trustmap expectations sign approval.json --key alice.key -o approval.signed.json
  trustmap expectations sign approval.signed.json --key bob.key -o approval.signed.json`,
		Args: cli.ExactArgs("the approval to sign (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cs.run(cmd.Context(), e, args[0], trustmap.MaxApprovalBytes, trustmap.SignApproval, "an approval (from trustmap expectations propose) or a signed one to add a signature to", doctype.Approval, doctype.SignedApproval)
		},
	}
	cs.flags(c.Flags(), "approval")
	return c
}

func newApproveCmd(e *env) *cobra.Command {
	var store, pkg, approval, at, format string
	var approverKeys []string
	var threshold int
	c := &cobra.Command{
		Use:   "approve --tofu-store FILE --package NAME --approval approval.signed.json --approver-key KEY.pub...",
		Short: "Apply a signed approval to the trust-on-first-use store",
		Long: `approve checks that at least --approvals-threshold distinct keys among
--approver-key signed the approval, that it has not expired and that it is
newer than the package's current expectation (an older approval cannot be
replayed), and records it with the signers' key fingerprints. The store is
locked for the whole read-modify-write.`,
		Example: `  trustmap expectations approve --tofu-store tofu.json --package app --approval approval.signed.json \
      --approver-key alice.pub --approver-key bob.pub --approvals-threshold 2`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if store == "" || pkg == "" || approval == "" || len(approverKeys) == 0 {
				return cli.Usage(errors.New("--tofu-store, --package, --approval and --approver-key are required"))
			}
			if err := cli.CheckThreshold("--approvals-threshold", threshold, "--approver-key", len(approverKeys)); err != nil {
				return err
			}
			when, err := parseTime("--at", at, e.Now())
			if err != nil {
				return err
			}
			keys, err := loadPublicKeys(approverKeys)
			if err != nil {
				return err
			}
			if err := trustmap.DistinctKeys(keys); err != nil {
				return cli.Usage(fmt.Errorf("--approver-key: %w", err))
			}
			b, err := e.ReadInput(approval, trustmap.MaxApprovalBytes)
			if err != nil {
				return err
			}
			if err := cli.CheckKind("--approval "+approval, b, "a signed approval (from trustmap expectations propose and sign)", doctype.SignedApproval, doctype.Approval); err != nil {
				return err
			}
			va, err := trustmap.VerifyApproval(cmd.Context(), b, keys, threshold, when)
			if err != nil {
				if errors.Is(err, trustmap.ErrMalformedApproval) {
					return cli.Usage(fmt.Errorf("%s: %w", approval, err))
				}
				return cli.Failed(fmt.Errorf("not approved: %s: %w", approval, err))
			}
			var applyErr error
			var changes []tofuChange
			first := false
			err = updateTOFU(cmd.Context(), store, pkg, func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
				next, err := va.Apply(pkg, cur)
				applyErr = err
				if err == nil && next != nil {
					if cur == nil {
						first = true
					} else {
						changes = tofuChanges(*cur, *next)
					}
				}
				return next, nil
			})
			if err != nil {
				return cli.Usage(fmt.Errorf("%s: %w", tmstore.Redact(store), err))
			}
			if applyErr != nil {
				return cli.Failed(fmt.Errorf("not approved: %w", applyErr))
			}
			a := va.Approval
			if format == "json" {
				return cli.WriteJSON(e.Stdout, struct {
					Package   string       `json:"package"`
					BuilderID string       `json:"builderId"`
					BuildType string       `json:"buildType"`
					SignedBy  []string     `json:"signedBy"`
					FirstUse  bool         `json:"firstUse"`
					Changes   []tofuChange `json:"changes"`
				}{pkg, a.BuilderID, a.BuildType, va.Record.Signers, first, append([]tofuChange{}, changes...)})
			}
			fmt.Fprintf(e.Stdout, "Approved: %s now expects builder %s, buildType %s (signed by %s)\n", safetext.Term(pkg), safetext.Term(a.BuilderID), safetext.Term(a.BuildType), strings.Join(va.Record.Signers, ", "))
			switch {
			case first:
				fmt.Fprintln(e.Stdout, "  first expectation recorded for this package")
			case len(changes) == 0:
				fmt.Fprintln(e.Stdout, "  builder, buildType and parameters are unchanged")
			}
			for _, c := range changes {
				fmt.Fprintf(e.Stdout, "  changed %s: %s -> %s\n", safetext.Term(c.Field), safetext.Term(string(c.Old)), safetext.Term(string(c.New)))
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&store, "tofu-store", "", "trust-on-first-use store to update")
	fl.StringVar(&pkg, "package", "", "package the approval is for")
	fl.StringVar(&approval, "approval", "", "signed approval (from expectations propose and sign)")
	fl.StringArrayVar(&approverKeys, "approver-key", nil, "public key of an approver (repeatable): the configured approvers")
	fl.IntVar(&threshold, "approvals-threshold", 1, "how many distinct approver keys must have signed")
	fl.StringVar(&at, "at", "", "time the approval is checked at (RFC 3339); default now")
	cli.FormatVar(fl, &format, "text", "json")
	for _, name := range []string{"tofu-store", "package", "approval", "approver-key"} {
		c.MarkFlagRequired(name)
	}
	return c
}

func newSignPolicyCmd(e *env) *cobra.Command {
	var cs coSigner
	cmd := &cobra.Command{
		Use:   "sign-policy POLICY.json --key KEY -o policy.signed.json",
		Short: "Sign an expectations policy, or add your signature to one others signed",
		Long: `sign-policy signs a policy (schema policy/v2 with "serial" and "expires",
at most 366 days ahead), or adds a signature to a policy someone else already
signed: each signer runs it on their own machine, one after the other. The
signed payload is never changed; a key that already signed is refused.`,
		Example: `  trustmap sign-policy policy.json --key alice.key -o policy.signed.json
  trustmap sign-policy policy.signed.json --key bob.key -o policy.signed.json
  trustmap verify --policy policy.signed.json --policy-key alice.pub --policy-key bob.pub --policy-threshold 2 ...`,
		Args: cli.ExactArgs("the policy to sign (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cs.run(cmd.Context(), e, args[0], trustmap.MaxPolicyBytes, trustmap.SignPolicy, "an expectations policy (schema "+trustmap.PolicySchema+") or a signed one to add a signature to", doctype.Policy, doctype.SignedPolicy)
		},
	}
	cs.flags(cmd.Flags(), "policy")
	return cmd
}

func loadPrivateKeys(e *env, paths []string) ([]*attest.PrivateKey, error) {
	var out []*attest.PrivateKey
	for _, k := range paths {
		p, err := e.LoadPrivateKey(k)
		if err != nil {
			return nil, cli.Usage(err)
		}
		out = append(out, p)
	}
	return out, nil
}

func fingerprintsOf(keys []*attest.PrivateKey) string {
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Fingerprint()
	}
	return strings.Join(fps, ", ")
}

// coSigner is what sign-policy and expectations sign share: read a document
// (or a signed envelope to add a signature to), sign it with every --key and
// write it.
type coSigner struct {
	keys  []string
	out   string
	force bool
}

func (c *coSigner) flags(fs *pflag.FlagSet, what string) {
	fs.StringArrayVar(&c.keys, "key", nil, "private key to sign with (repeatable)")
	cobra.MarkFlagRequired(fs, "key")
	fs.StringVarP(&c.out, "output", "o", "", "where to write the signed "+what+" (- for standard output; may be the signed "+what+" given, to add a signature)")
	fs.BoolVar(&c.force, "force", false, "replace an existing output file")
}

func (c *coSigner) run(ctx context.Context, e *env, in string, limit int64, sign func(context.Context, []byte, []*attest.PrivateKey, time.Time) ([]byte, error), expected string, accept ...doctype.Kind) error {
	if len(c.keys) == 0 {
		return cli.Usage(errors.New("--key is required: the private key of each signer"))
	}
	b, err := e.ReadInput(in, limit)
	if err != nil {
		return err
	}
	if err := cli.CheckKind(in, b, expected, accept...); err != nil {
		return err
	}
	output := coSignOutput(c.out, c.force, in, b, c.keys)
	if err := output.Check(); err != nil {
		return err
	}
	priv, err := loadPrivateKeys(e, c.keys)
	if err != nil {
		return err
	}
	env, err := sign(ctx, b, priv, e.Now())
	if err != nil {
		return cli.Usage(fmt.Errorf("%s: %w", in, err))
	}
	if err := e.Write(output, env); err != nil {
		return err
	}
	fmt.Fprintf(e.Info(output), "Wrote %s, signed by %s\n", c.out, fingerprintsOf(priv))
	return nil
}

// coSignOutput is where a signing command writes: a new file, or (to add a
// signature) the signed envelope it was given, replaced in place. Any other
// existing file needs --force, and the keys are never overwritten.
func coSignOutput(out string, force bool, in string, inBytes []byte, keys []string) cli.Output {
	o := cli.Output{Path: out, Force: force, Inputs: keys}
	if doctype.Identify(inBytes).PayloadType != "" && cli.SamePath(out, in) {
		o.Force = true
	} else {
		o.Inputs = append(o.Inputs, in)
	}
	return o
}

// tofuChange is one difference between the old and the approved
// expectation; Old and New are JSON values (null: absent).
type tofuChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// tofuChanges lists what an approval changes: builder, buildType and each
// parameter (absent ones shown as "(none)").
func tofuChanges(old, cur trustmap.TOFUEntry) []tofuChange {
	var out []tofuChange
	if old.BuilderID != cur.BuilderID {
		out = append(out, tofuChange{"builderId", jsonString(old.BuilderID), jsonString(cur.BuilderID)})
	}
	if old.BuildType != cur.BuildType {
		out = append(out, tofuChange{"buildType", jsonString(old.BuildType), jsonString(cur.BuildType)})
	}
	names := map[string]bool{}
	for n := range old.Parameters {
		names[n] = true
	}
	for n := range cur.Parameters {
		names[n] = true
	}
	show := func(v json.RawMessage, ok bool) json.RawMessage {
		if !ok {
			return json.RawMessage("null")
		}
		return v
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		o, hadOld := old.Parameters[n]
		c, hasNew := cur.Parameters[n]
		if hadOld != hasNew || !bytes.Equal(o, c) {
			out = append(out, tofuChange{"parameter " + n, show(o, hadOld), show(c, hasNew)})
		}
	}
	return out
}
