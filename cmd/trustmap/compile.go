package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

func newCompileCmd(e *env) *cobra.Command {
	var certifiers, out, at, revoked, signKey, format string
	var validFor time.Duration
	var serial uint64
	var caps, deny, verifierTrust []string
	var requireKeyTimestamp bool
	cmd := &cobra.Command{
		Use:   "compile --certifiers certifiers.json ATTESTATION... -o roots.json",
		Short: "Compile trusted capability attestations into roots of trust",
		Long: `compile verifies each builder capability attestation against the certifiers
you trust (signature, validity at --at, revocation) and writes the accepted
ones as roots of trust: builder.id + provenance signer -> SLSA Build level,
with the certified window. The level is the minimum of the attested level,
the certifier's maxLevel and any --cap.

The output is sorted and byte-for-byte reproducible for the same inputs and
--at. With --sign-key it is a DSSE envelope that verify checks with
--roots-key.

Every map has a serial and an expiry. The serial is --serial, or one more
than the serial of the map already at -o; a serial not larger than that one
is refused, so serials only grow and verify (--roots-min-serial) can refuse
an older map replayed in place of a newer one. The map expires --valid-for
after --at (default 30d, at most 366d; 720h works too); verify refuses
an expired map.

--verifiers adds signed verifier-trust documents: the verifiers whose VSAs
verify and verify-vsa accept (for sources and dependencies), each with the
resource URIs, tracks and levels it may vouch for. A certifier signs them
only if the certifiers file gives it "verifiers": true. A map with verifiers
is a roots/v3 map.

Each accepted attestation is shown with its identity, the sha256 of its DSSE
payload: revocations name attestations by it, so re-encoding an envelope
does not escape a revocation.

Exit codes: 0 every attestation was accepted; 1 some were rejected (the
accepted ones are still written) or none was accepted; 2 bad usage.`,
		Example: `  trustmap compile --certifiers certifiers.json builder.capability.json -o roots.json
  trustmap compile --certifiers certifiers.json builder.capability.json --verifiers verifiers.signed.json -o roots.json
  trustmap compile --certifiers certifiers.json *.capability.json --cap https://ci.example/b@v1=2 \
      --revoked revoked.json --sign-key verifier.key -o roots.json`,
		Args: cli.MinArgs("the capability attestations to compile (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if certifiers == "" {
				return cli.Usage(errors.New("--certifiers is required: the file naming whom you trust to certify builders"))
			}
			// compile replaces the map at -o on purpose (its serial only
			// grows), but never one of its inputs.
			output := cli.Output{Path: out, Force: true, Inputs: append(append([]string{certifiers, revoked, signKey}, args...), verifierTrust...)}
			if err := output.Check(); err != nil {
				return err
			}
			// Roots record whole seconds: compiledAt never carries the
			// nanoseconds of the clock.
			when, err := parseTime("--at", at, e.Now().UTC().Truncate(time.Second))
			if err != nil {
				return err
			}
			next, err := nextSerial(out, serial)
			if err != nil {
				return err
			}
			opts := trustmap.CompileOptions{At: when, Caps: map[string]questionnaire.Level{}, Deny: map[string]bool{}, Serial: next, ValidFor: validFor, RequireKeyTimestamp: requireKeyTimestamp}
			for _, c := range caps {
				// The level is after the last "=": a builder.id may hold one.
				i := strings.LastIndex(c, "=")
				id, lv := c[:max(i, 0)], c[i+1:]
				l, err := questionnaire.ParseLevel(lv)
				if i < 0 || err != nil || id == "" {
					return cli.Usage(fmt.Errorf("--cap: expected BUILDER_ID=LEVEL with a level 0-3 such as 2 or L2, got %s", safetext.Quote(c)))
				}
				opts.Caps[id] = l
			}
			for _, d := range deny {
				opts.Deny[d] = true
			}
			cb, err := e.ReadInput(certifiers, trustmap.MaxCertifiersBytes)
			if err != nil {
				return err
			}
			if err := cli.CheckKind("--certifiers "+certifiers, cb, "a certifiers file (schema "+trustmap.CertifiersSchema+")", doctype.Certifiers); err != nil {
				return err
			}
			certs, err := trustmap.ParseCertifiers(cb)
			if err != nil {
				return cli.Usage(fmt.Errorf("%s: %w", certifiers, err))
			}
			if revoked != "" {
				rb, err := e.ReadInput(revoked, trustmap.MaxRevocationsBytes)
				if err != nil {
					return err
				}
				if err := cli.CheckKind("--revoked "+revoked, rb, "a revocations file (schema "+trustmap.RevocationsSchema+")", doctype.Revocations); err != nil {
					return err
				}
				if opts.Revoked, err = trustmap.ParseRevocations(rb); err != nil {
					return cli.Usage(fmt.Errorf("%s: %w", revoked, err))
				}
			}
			var key *attest.PrivateKey
			if signKey != "" {
				if key, err = e.LoadPrivateKey(signKey); err != nil {
					return cli.Usage(err)
				}
			}
			var atts []trustmap.Attestation
			for _, a := range args {
				b, err := e.ReadInput(a, attest.MaxEnvelopeBytes)
				if err != nil {
					return err
				}
				if err := cli.CheckKind(a, b, "a builder capability attestation (from hallmark attest)", doctype.Capability); err != nil {
					return err
				}
				atts = append(atts, trustmap.Attestation{Name: filepath.Base(a), Envelope: b})
			}
			for _, a := range verifierTrust {
				b, err := limitio.ReadFile(a, attest.MaxEnvelopeBytes)
				if err != nil {
					return cli.Usage(err)
				}
				opts.VerifierTrust = append(opts.VerifierTrust, trustmap.Attestation{Name: filepath.Base(a), Envelope: b})
			}
			res, err := trustmap.Compile(cmd.Context(), certs, atts, opts)
			if err != nil {
				return cli.Usage(err)
			}
			var data []byte
			if key != nil {
				data, err = res.Roots.Sign(cmd.Context(), key)
			} else {
				data, err = res.Roots.Marshal()
			}
			if err != nil {
				return err
			}
			if err := e.Write(output, data); err != nil {
				return err
			}
			signed := "unsigned"
			if key != nil {
				signed = "signed by " + key.Fingerprint()
			}
			w := e.Info(output)
			if format == "json" {
				if err := cli.WriteJSON(w, compileReport{Output: out, Entries: len(res.Roots.Entries),
					Accepted: append([]trustmap.Accepted{}, res.Accepted...), Rejected: append([]trustmap.Rejection{}, res.Rejected...),
					Signed: signed, CheckedAt: when.UTC().Format(time.RFC3339), Serial: res.Roots.Serial, Expires: res.Roots.Expires.UTC().Format(time.RFC3339)}); err != nil {
					return err
				}
			} else {
				for _, a := range res.Accepted {
					fmt.Fprintf(w, "accepted  %s  sha256:%s\n", safetext.Term(a.Name), a.Digest)
				}
				for _, r := range res.Rejected {
					fmt.Fprintf(w, "REJECTED  %s: %s\n", safetext.Term(r.Name), safetext.Term(r.Reason))
				}
				fmt.Fprintf(w, "Wrote %s: %s from %s (%s), checked at %s, serial %d, expires %s\n", out,
					cli.Count(len(res.Roots.Entries), "entry", "entries"), cli.Count(len(res.Accepted), "attestation", "attestations"),
					signed, when.UTC().Format(time.RFC3339), res.Roots.Serial, res.Roots.Expires.UTC().Format(time.RFC3339))
			}
			switch {
			case len(res.Accepted) == 0:
				return cli.Failed(errors.New("no attestation was accepted: the roots of trust are empty"))
			case len(res.Rejected) > 0:
				return cli.Failed(fmt.Errorf("%d of %d attestations rejected", len(res.Rejected), len(args)+len(verifierTrust)))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&certifiers, "certifiers", "", "certifiers file: whom you trust to certify builders")
	fl.StringVarP(&out, "output", "o", "", "where to write the roots of trust (- for standard output); an existing map there is replaced")
	cli.FormatVar(fl, &format, "text", "json")
	fl.StringVar(&at, "at", "", "check attestations at this time (RFC 3339); default now")
	fl.StringArrayVar(&caps, "cap", nil, "lower a builder's level: BUILDER_ID=LEVEL (repeatable)")
	fl.StringArrayVar(&deny, "deny", nil, "never trust this builder.id (repeatable)")
	fl.StringArrayVar(&verifierTrust, "verifiers", nil, "signed verifier-trust document (trustmap sign-verifiers): verifiers whose VSAs the roots accept (repeatable)")
	fl.StringVar(&revoked, "revoked", "", "revocations file")
	fl.StringVar(&signKey, "sign-key", "", "sign the roots map with this private key")
	fl.Uint64Var(&serial, "serial", 0, "serial of the map (default: one more than the map at -o, or 1)")
	cmd.MarkFlagRequired("certifiers")
	cli.ValidityMaxVar(fl, &validFor, "valid-for", "30d", trustmap.MaxRootsValidity, "how long the map is valid, such as 30d or 168h, at most 366d")
	fl.BoolVar(&requireKeyTimestamp, "require-key-timestamp", false, "key signers' provenance must carry a verified transparency-log entry or signed timestamp (a logged key-signed Sigstore bundle)")
	return cmd
}

// compileReport is compile's JSON output.
type compileReport struct {
	Output    string               `json:"output"`
	Entries   int                  `json:"entries"`
	Accepted  []trustmap.Accepted  `json:"accepted"`
	Rejected  []trustmap.Rejection `json:"rejected"`
	Signed    string               `json:"signed"`
	CheckedAt string               `json:"checkedAt"`
	Serial    uint64               `json:"serial"`
	Expires   string               `json:"expires"`
}

// nextSerial returns the serial of the map to write at out: given, or one
// more than the serial of the map already there. A given serial not larger
// than that one is refused. The map at out is our own output, read without
// checking its signature: its serial only decides the next one.
func nextSerial(out string, given uint64) (uint64, error) {
	prev := uint64(0)
	b, err := limitio.ReadFile(out, trustmap.MaxRootsBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, cli.Usage(err)
	default:
		if prev, err = trustmap.RootsSerial(b); err != nil {
			return 0, cli.Usage(fmt.Errorf("%s (to find the next serial): %w", out, err))
		}
	}
	switch {
	case given == 0 && prev == math.MaxUint64:
		return 0, cli.Usage(fmt.Errorf("--serial: %s has the largest serial there is (%d): no later map can be numbered; start a new series with other signing keys", out, prev))
	case given == 0:
		return prev + 1, nil
	case given <= prev:
		return 0, cli.Usage(fmt.Errorf("--serial: expected more than %d (the serial of %s), got %d: serials only grow", prev, out, given))
	}
	return given, nil
}
