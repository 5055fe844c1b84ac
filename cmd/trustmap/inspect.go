package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/trustmap"
)

func newInspectCmd(e *env) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show roots, policies, certifiers, revocations, TOFU stores, VSAs or provenance without verifying",
		Long: `inspect says what a file is and shows what it contains: roots of trust
(plain or signed), expectations policies (plain or signed), certifiers,
revocations, trust-on-first-use stores and approvals, verifier-trust
documents, serial state (--trust-state), VSAs, capability attestations and
provenance (DSSE envelopes, Sigstore bundles, or JSON Lines of either).

Nothing is verified: no signature, validity window or digest is checked, and
the output says so on its first line (and "verified": false in JSON). The
file's format is checked as the reading command would. FILE may be - for
standard input.`,
		Example: `  trustmap inspect roots.json
  trustmap inspect --format json app.intoto.jsonl
  trustmap inspect app.vsa.json`,
		Args: cli.ExactArgs("the file to show (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, d, shown, err := e.ReadDocument(args[0], trustmap.MaxRootsBytes)
			if err != nil {
				return err
			}
			facts, err := inspectFacts(d, b)
			if err != nil {
				return cli.Usage(fmt.Errorf("%s: %s: %w", args[0], d.Kind, err))
			}
			shown.Facts = facts
			switch d.Kind {
			case doctype.NotJSON, doctype.UnknownJSONSchema, doctype.Unknown:
				return cli.Usage(fmt.Errorf("%s is %s: expected roots, a policy, certifiers, revocations, a TOFU store, a VSA, an attestation or provenance", args[0], d.Describe()))
			}
			return e.WriteShown(shown, format)
		},
	}
	cli.FormatVar(cmd.Flags(), &format, "text", "json")
	return cmd
}

// inspectFacts parses d as its reader would (without verifying anything)
// and summarises it.
func inspectFacts(d doctype.Doc, b []byte) ([]doctype.Fact, error) {
	var facts []doctype.Fact
	add := func(name, format string, a ...any) {
		facts = append(facts, doctype.Fact{Name: name, Value: fmt.Sprintf(format, a...)})
	}
	if d.Kind == doctype.Bundle {
		add("mediaType", "%s", d.Schema)
		b = d.Payload
	} else if d.PayloadType != "" {
		if _, err := attest.ParseEnvelope(b); err != nil {
			return nil, err
		}
		add("signatures", "%d (not verified)", len(d.KeyIDs))
		b = d.Payload
	}
	switch d.Kind {
	case doctype.Roots, doctype.SignedRoots:
		r, err := trustmap.ParseRoots(b)
		if err != nil {
			return nil, err
		}
		add("compiledAt", "%s", r.CompiledAt.UTC().Format(time.RFC3339))
		add("entries", "%d", len(r.Entries))
		if len(r.Verifiers) > 0 {
			add("trusted verifiers", "%d", len(r.Verifiers))
		}
		for _, en := range r.Entries {
			id := en.BuilderID
			if id == "" {
				id = "pattern " + en.BuilderIDRegexp
			}
			add("entry", "%s  Build L%d  %s to %s  certified by %s", id, en.SLSABuildLevel,
				en.ValidFrom.UTC().Format(time.RFC3339), en.ValidUntil.UTC().Format(time.RFC3339), en.CertifiedBy.Name)
		}
	case doctype.Policy, doctype.SignedPolicy:
		p, err := trustmap.ParsePolicy(b)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(p.Packages))
		for n := range p.Packages {
			names = append(names, n)
		}
		sort.Strings(names)
		add("packages", "%s", strings.Join(names, ", "))
	case doctype.Certifiers:
		c, err := trustmap.ParseCertifiers(b)
		if err != nil {
			return nil, err
		}
		for _, ce := range c.Certifiers {
			add("certifier", "%s  max Build L%d  self-attestation %t  key %s", ce.Name, ce.MaxLevel, ce.SelfAttestation, ce.Key().Fingerprint)
		}
	case doctype.Revocations:
		r, err := trustmap.ParseRevocations(b)
		if err != nil {
			return nil, err
		}
		add("revocations", "%d", len(r.Revoked))
	case doctype.TOFU:
		t, err := trustmap.ParseTOFU(b)
		if err != nil {
			return nil, err
		}
		add("packages", "%d", len(t.Packages))
	case doctype.Approval, doctype.SignedApproval:
		a, err := trustmap.ParseApproval(b)
		if err != nil {
			return nil, err
		}
		add("package", "%s", a.Package)
		add("builder", "%s", a.BuilderID)
		add("buildType", "%s", a.BuildType)
		add("valid", "%s to %s", a.IssuedAt.UTC().Format(time.RFC3339), a.Expires.UTC().Format(time.RFC3339))
	case doctype.Capability:
		if _, p, err := attest.ParseStatement(b); err == nil {
			add("builder", "%s", p.Builder.Name())
			add("level", "Build L%d", p.SLSABuildLevel)
			add("valid", "%s to %s", p.ValidFrom.UTC().Format(time.RFC3339), p.ValidUntil.UTC().Format(time.RFC3339))
		}
	case doctype.VerifierTrust, doctype.SignedVerifierTrust:
		vt, err := trustmap.ParseVerifierTrust(b)
		if err != nil {
			return nil, err
		}
		add("issuedAt", "%s", vt.IssuedAt.UTC().Format(time.RFC3339))
		for _, v := range vt.Verifiers {
			add("verifier", "%s  resources %s  %s to %s", v.ID, v.ResourceURIRegexp,
				v.ValidFrom.UTC().Format(time.RFC3339), v.ValidUntil.UTC().Format(time.RFC3339))
		}
	case doctype.SerialState:
		st, err := trustmap.ParseSerialState(b)
		if err != nil {
			return nil, err
		}
		add("serials", "%d", len(st.Serials))
	case doctype.PublicKey:
		k, err := attest.ParsePublicKey(b)
		if err != nil {
			return nil, err
		}
		add("fingerprint", "%s", k.Fingerprint)
	case doctype.PrivateKey:
		add("contents", "not shown")
	case doctype.ProvenanceLines:
		add("documents", "%d (each shown below)", len(d.Lines))
	}
	return facts, nil
}
