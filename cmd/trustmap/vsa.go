package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/trustmap"
)

func newSignVerifiersCmd(e *env) *cobra.Command {
	var cs coSigner
	cmd := &cobra.Command{
		Use:   "sign-verifiers VERIFIERS.json --key CERTIFIER.key -o verifiers.signed.json",
		Short: "Sign a verifier-trust document: the verifiers whose VSAs roots will accept",
		Long: `sign-verifiers signs a verifier-trust document (schema
https://hallmark.build/verifier-trust/v1) with a certifier's key. The
document lists verifiers (source-control verifiers, other registries' gates)
whose VSAs may vouch for sources and dependencies: each with its id, its
signer (a public key, or a Sigstore issuer with san or sanRegexp), the
resource URIs it may vouch for (resourceUriRegexp), the highest level per
track (levels: {"SOURCE": 3, "BUILD": 2}), other verifiedLevels values it
may vouch for (properties), and a window of at most 366 days.

trustmap compile --verifiers turns signed documents into the roots' verifiers,
when the certifiers file gives the signer "verifiers": true.`,
		Example: `  trustmap sign-verifiers verifiers.json --key certifier.key -o verifiers.signed.json
  trustmap compile --certifiers certifiers.json builder.capability.json --verifiers verifiers.signed.json -o roots.json`,
		Args: cli.ExactArgs("the verifier-trust document to sign (- for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return cs.run(cmd.Context(), e, args[0], trustmap.MaxPolicyBytes, trustmap.SignVerifierTrust, "a verifier-trust document (schema "+trustmap.VerifierTrustSchema+") or a signed one to add a signature to", doctype.VerifierTrust, doctype.SignedVerifierTrust)
		},
	}
	cs.flags(cmd.Flags(), "verifier-trust document")
	return cmd
}

type verifyVSAFlags struct {
	roots, at, format, vsa, resourceURI, trustedRoot string
	rootsKeys, levels, digests                       []string
	rootsMinSerial                                   uint64
	trustState                                       string
	maxAge                                           time.Duration
	// One verifier trusted directly instead of --roots.
	key, verifierID                            string
	certIdentity, certIdentityRegexp, certOIDC string
}

func newVerifyVSACmd(e *env) *cobra.Command {
	var f verifyVSAFlags
	cmd := &cobra.Command{
		Use:   "verify-vsa --roots roots.json --vsa FILE --resource-uri URI --level LEVEL (ARTIFACT | --digest ALG:VALUE)",
		Short: "Verify a SLSA Verification Summary Attestation (VSA) for an artifact or a digest",
		Long: `verify-vsa follows the SLSA VSA verification procedure:

  1. the VSA (a DSSE envelope, or a Sigstore bundle verified offline) is
     signed by a trusted verifier: one of the roots' verifiers (trustmap
     compile --verifiers), or one given directly with --key and
     --verifier-id (or --certificate-identity[-regexp] and
     --certificate-oidc-issuer for keyless VSAs);
  2. the signer is the verifier its verifier.id names, trusted at
     timeVerified and now;
  3. a subject has the artifact's digest (or the --digest given: any
     algorithm of the in-toto digest set, such as sha256 or gitCommit);
  4. resourceUri is exactly --resource-uri (a purl, an oci:// reference, an
     https URL, a git+https repository...), and the verifier may vouch for it;
  5. verificationResult is PASSED;
  6. verifiedLevels has every --level: SLSA_<TRACK>_LEVEL_<n> (a higher
     level of the track implies it; 3 and L3 mean SLSA_BUILD_LEVEL_3) or a
     property such as SLSA_SOURCE_TWO_PARTY_REVIEWED, and the verifier is
     trusted for that track up to that level (for that property);
  7. timeVerified is at most --max-age old, and not in the future.

VSA v1.0 and v1.1 field sets are read; unknown fields are ignored, as in-toto
requires, but duplicate or case-variant names are refused.

Exit codes: 0 pass; 1 verification failed; 2 bad usage or unreadable input.`,
		Example: `  trustmap verify-vsa --roots roots.json --vsa app.vsa.json --resource-uri pkg:npm/app@1.2.3 \
      --level SLSA_BUILD_LEVEL_3 app-1.2.3.tgz
  trustmap verify-vsa --roots roots.json --vsa source.vsa.json --resource-uri git+https://github.com/org/app \
      --level SLSA_SOURCE_LEVEL_3 --digest gitCommit:3f786850e387550fdab836ed7e6dc881de23001b
  trustmap verify-vsa --key gate.pub --verifier-id https://registry.example/gate --vsa app.vsa.json \
      --resource-uri oci://registry.example/app@sha256:… --level 3 --digest sha256:…`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyVSA(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.roots, "roots", "", "roots of trust with verifiers (trustmap compile --verifiers)")
	fl.StringArrayVar(&f.rootsKeys, "roots-key", nil, "require the roots map to be signed by this public key (repeatable)")
	fl.Uint64Var(&f.rootsMinSerial, "roots-min-serial", 0, "refuse a roots map with a smaller serial")
	fl.StringVar(&f.trustState, "trust-state", "", "remember the highest serial of the signed roots accepted in this file, and refuse older ones")
	fl.StringVar(&f.vsa, "vsa", "", "the VSA: a DSSE envelope or a Sigstore bundle (- for standard input)")
	fl.StringVar(&f.resourceURI, "resource-uri", "", "the resourceUri the VSA must carry, exactly")
	fl.StringArrayVar(&f.levels, "level", nil, "a verified level or property required (SLSA_BUILD_LEVEL_3, SLSA_SOURCE_LEVEL_2, SLSA_SOURCE_TWO_PARTY_REVIEWED; 3 or L3 for SLSA_BUILD_LEVEL_3) (repeatable)")
	fl.StringArrayVar(&f.digests, "digest", nil, "the resource's digest ALG:VALUE instead of an artifact file (repeatable)")
	fl.DurationVar(&f.maxAge, "max-age", trustmap.DefaultVSAMaxAge, "how old timeVerified may be")
	fl.StringVar(&f.at, "at", "", "verification time (RFC 3339); default now")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json for keyless VSAs (default: the embedded public-good root)")
	fl.StringVar(&f.key, "key", "", "trust the verifier with this public key directly (with --verifier-id), instead of --roots")
	fl.StringVar(&f.verifierID, "verifier-id", "", "the verifier.id of the verifier trusted directly")
	fl.StringVar(&f.certIdentity, "certificate-identity", "", "trust the keyless verifier with this certificate SAN directly (with --certificate-oidc-issuer and --verifier-id)")
	fl.StringVar(&f.certIdentityRegexp, "certificate-identity-regexp", "", "like --certificate-identity, an anchored regular expression")
	fl.StringVar(&f.certOIDC, "certificate-oidc-issuer", "", "the OIDC issuer of the keyless verifier trusted directly")
	cli.FormatVar(fl, &f.format, "text", "json")
	return cmd
}

func runVerifyVSA(ctx context.Context, e *env, f verifyVSAFlags, args []string) error {
	when, err := parseTime("--at", f.at, e.Now())
	if err != nil {
		return err
	}
	switch {
	case f.vsa == "":
		return cli.Usage(fmt.Errorf("%w: give --vsa FILE", trustmap.ErrNoVSA))
	case f.resourceURI == "":
		return cli.Usage(errors.New("--resource-uri is required: the resource the VSA must be about (pkg:…, oci://…, git+https://…)"))
	case len(f.levels) == 0:
		return cli.Usage(errors.New("--level is required: what the VSA must verify (SLSA_BUILD_LEVEL_3, SLSA_SOURCE_LEVEL_2, …)"))
	case len(args) > 1:
		return cli.Usage(fmt.Errorf("expected one artifact, got %d", len(args)))
	case len(args) == 1 && len(f.digests) > 0:
		return cli.Usage(errors.New("give an artifact or --digest, not both"))
	case len(args) == 0 && len(f.digests) == 0:
		return cli.Usage(fmt.Errorf("%w: name the artifact, or give --digest ALG:VALUE", trustmap.ErrNoArtifacts))
	case f.maxAge <= 0:
		return cli.Usage(fmt.Errorf("--max-age: expected a duration above 0, got %s", f.maxAge))
	}
	var levels []trustmap.LevelRequirement
	for _, l := range f.levels {
		r, err := trustmap.ParseLevelRequirement(l)
		if err != nil {
			return cli.Usage(fmt.Errorf("--level: %w", err))
		}
		levels = append(levels, r)
	}
	var res trustmap.VSAResource
	if len(args) == 1 {
		if err := cli.CheckFile(args[0]); err != nil {
			return err
		}
		res.Artifact = trustmap.FileArtifact(args[0])
	} else {
		res.Digests = map[string]string{}
		for _, d := range f.digests {
			alg, v, err := trustmap.ParseDigest(d)
			if err != nil {
				return cli.Usage(fmt.Errorf("--digest: %w", err))
			}
			if prev, dup := res.Digests[alg]; dup && prev != v {
				return cli.Usage(fmt.Errorf("--digest: %s given twice with different values", alg))
			}
			res.Digests[alg] = v
		}
	}
	set, err := vsaVerifiers(ctx, e, f, when)
	if err != nil {
		return err
	}
	sigstore, err := loadSigstoreTrust(f.trustedRoot)
	if err != nil {
		return err
	}
	raw, err := e.ReadInput(f.vsa, trustmap.MaxVSABytes)
	if err != nil {
		return err
	}
	out, verr := trustmap.VerifyVSA(ctx, set, trustmap.VSAInput{Name: f.vsa, Raw: raw}, res, trustmap.VerifyVSAOptions{
		At: when, MaxAge: f.maxAge, ResourceURI: f.resourceURI, Levels: levels, Sigstore: sigstore,
	})
	if f.format == "json" {
		if err := cli.WriteJSON(e.Stdout, out); err != nil {
			return err
		}
	} else {
		writeVSAResult(e.Stdout, out)
	}
	if verr != nil {
		return cli.FailedQuiet()
	}
	return nil
}

// vsaVerifiers is the set of trusted verifiers: the roots', or one given
// directly on the command line.
func vsaVerifiers(ctx context.Context, e *env, f verifyVSAFlags, when time.Time) (*trustmap.VerifierSet, error) {
	direct := f.key != "" || f.certIdentity != "" || f.certIdentityRegexp != "" || f.certOIDC != ""
	switch {
	case direct && f.roots != "":
		return nil, cli.Usage(errors.New("give --roots, or a verifier directly (--key or --certificate-identity with --verifier-id), not both"))
	case !direct && f.roots == "":
		return nil, cli.Usage(errors.New("--roots is required (or trust one verifier directly with --key or --certificate-identity, and --verifier-id)"))
	case !direct:
		roots, _, err := loadRootsFile(ctx, e, verifyFlags{roots: f.roots, rootsKeys: f.rootsKeys, rootsMinSerial: f.rootsMinSerial, trustState: f.trustState}, when)
		if err != nil {
			return nil, err
		}
		if roots.VerifierSet().Len() == 0 {
			return nil, cli.Usage(fmt.Errorf("%s has no verifiers: compile it with --verifiers (a signed verifier-trust document), or trust one verifier with --key/--certificate-identity and --verifier-id", f.roots))
		}
		return roots.VerifierSet(), nil
	case f.verifierID == "":
		return nil, cli.Usage(errors.New("--verifier-id is required with --key or --certificate-identity: the verifier.id the VSA must name"))
	case f.key != "" && (f.certIdentity != "" || f.certIdentityRegexp != "" || f.certOIDC != ""):
		return nil, cli.Usage(errors.New("give --key or --certificate-identity, not both"))
	}
	var signer trustmap.Signer
	if f.key != "" {
		k, err := attest.LoadPublicKeyFile(f.key)
		if err != nil {
			return nil, cli.Usage(err)
		}
		pem, err := k.MarshalPEM()
		if err != nil {
			return nil, err
		}
		signer = trustmap.Signer{PublicKey: string(pem), KeyFingerprint: k.Fingerprint}
	} else {
		if f.certOIDC == "" || (f.certIdentity == "") == (f.certIdentityRegexp == "") {
			return nil, cli.Usage(errors.New("a keyless verifier needs --certificate-oidc-issuer and one of --certificate-identity or --certificate-identity-regexp"))
		}
		signer = trustmap.Signer{OIDCIssuer: f.certOIDC, SAN: f.certIdentity, SANRegexp: f.certIdentityRegexp}
	}
	// Trusted for what is asked of it, on this resource only, now.
	tv := trustmap.TrustedVerifier{ID: f.verifierID, Signer: signer, ResourceURIRegexp: regexp.QuoteMeta(f.resourceURI),
		Levels: map[string]int{}, ValidFrom: time.Unix(1, 0).UTC(), ValidUntil: when.Add(time.Second)}
	for _, l := range f.levels {
		r, _ := trustmap.ParseLevelRequirement(l)
		if r.Track == "" {
			tv.Properties = append(tv.Properties, r.Name)
		} else {
			tv.Levels[r.Track] = max(tv.Levels[r.Track], r.Level)
		}
	}
	set, err := trustmap.NewVerifierSet([]trustmap.TrustedVerifier{tv})
	if err != nil {
		return nil, cli.Usage(err)
	}
	set.Direct = true
	return set, nil
}

func writeVSAResult(w io.Writer, r *trustmap.VSAResult) {
	verdict := "FAILED"
	if r.Passed {
		verdict = "PASSED"
	}
	fmt.Fprintf(w, "%s  %s  %s\n", verdict, r.Resource, safetext.Term(strings.Join(r.Required, ", ")))
	fmt.Fprintf(w, "resource URI: %s\n", r.ResourceURI)
	if r.VerifierID != "" {
		fmt.Fprintf(w, "verifier: %s (trusted through %s)\n", r.VerifierID, r.Trust)
	}
	if !r.TimeVerified.IsZero() {
		fmt.Fprintf(w, "verified at: %s\n", r.TimeVerified.UTC().Format(time.RFC3339))
	}
	writeChecks(w, r.Checks)
	if r.Error != "" {
		fmt.Fprintf(w, "\nerror: %s\n", r.Error)
	}
}
