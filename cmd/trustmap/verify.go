package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/statefile"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

type verifyFlags struct {
	roots, provenance, policy, pkg, at, format, tofu, batch string
	rootsKeys, policyKeys                                   []string
	policyThreshold                                         int
	minLevel                                                questionnaire.Level
	allowLegacy, ignoreExpiry                               bool
	policyThresholdSet, formatSet, force                    bool
	sourceURI, sourceRef                                    string
	builderIDs, buildTypes                                  []string
	noExpectations                                          bool
	vsaOut, vsaKey, verifierID                              string
	trustedRoot                                             string
	rootsMinSerial, policyMinSerial                         uint64
	trustState                                              string
	registryFlags
	attachVSA bool
}

func newVerifyCmd(e *env) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --roots roots.json --provenance FILE ARTIFACT...",
		Short: "Verify artifacts and their SLSA provenance against the roots of trust",
		Long: `verify follows the SLSA verification procedure for each artifact:

  1. the provenance signature verifies with a key in the roots of trust;
  2. an in-toto subject has the artifact's digest (sha256 or sha512; never md5);
  3. the predicate is SLSA Provenance v1 (v0.2 only with
     --insecure-allow-legacy-predicate);
  4. the level is looked up by (signer, builder.id) in the roots, inside the
     builder's certified window at build time and at verification time; a
     builder that is not certified (not in the roots, expired, built outside
     its window) is level 0, below the default --min-level 1;
  5. the expectations, which are required: a policy (--policy --package:
     minimum level, builder ids, buildType, externalParameters (unknown ones
     fail), internalParameters), a trust-on-first-use store (--tofu-store), or
     inline flags (--source-uri, optionally --source-ref, --builder-id,
     --build-type). Without any, verification fails;
     --insecure-no-expectations skips them, says so, and never writes a
     PASSED VSA.

--provenance is a DSSE envelope, a Sigstore bundle (v0.1-v0.3, keyless), or
JSON Lines of either (.intoto.jsonl), recognised by content: it passes when
one document passes completely. No provenance is a failure. Sigstore bundles
are verified offline (certificate chain, SCTs, transparency-log inclusion or
signed timestamp) against --trusted-root, or the public-good trusted root
embedded in trustmap; nothing is fetched.

An image (oci://REGISTRY/REPO:TAG or @sha256:…, oci-layout://DIR:TAG or
@sha256:…) is resolved once to its digest, which is printed; its provenance
is found where it lives (OCI 1.1 referrers, the sha256-HEX referrers tag,
cosign's sha256-HEX.att tag), every manifest and blob read once, by digest,
size-capped. Registry credentials come from the Docker config and its
credential helpers; TLS uses the system roots plus --registry-ca; plain HTTP
only for loopback registries.

Exit codes: 0 pass; 1 verification failed; 2 bad usage or unreadable input.`,
		Example: `  trustmap verify --roots roots.json --source-uri github.com/org/app --source-ref 'refs/tags/v*' \
      --provenance app.intoto.jsonl app.tar.gz
  trustmap verify --roots roots.json --roots-key verifier.pub --policy policy.json --package app \
      --provenance app.intoto.jsonl --format json app.tar.gz
  trustmap verify --roots roots.json --batch manifest.jsonl
  trustmap verify --roots roots.json --policy policy.json --package app oci://ghcr.io/org/app:v1.2.3
  trustmap verify --roots roots.json --policy policy.json --package app oci-layout://./app-oci@sha256:…
  trustmap verify --roots roots.json --policy policy.json --package app --vsa-key vsa.key \
      --verifier-id https://registry.example/verifier --attach-vsa oci://registry.example/app@sha256:…`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.policyThresholdSet = cmd.Flags().Changed("policy-threshold")
			f.formatSet = cmd.Flags().Changed("format")
			return runVerify(cmd.Context(), e, f, args)
		},
	}
	fl := cmd.Flags()
	addVerifyInputFlags(fl, &f)
	cli.FormatVar(fl, &f.format, "text", "json")
	fl.StringVar(&f.vsaOut, "vsa-out", "", "write a signed SLSA VSA v1 of the result to this file (- for standard output)")
	fl.BoolVar(&f.force, "force", false, "replace an existing --vsa-out file")
	fl.StringVar(&f.vsaKey, "vsa-key", "", "private key that signs the VSA")
	fl.StringVar(&f.verifierID, "verifier-id", "", "URI identifying this verifier in the VSA")
	fl.StringVar(&f.batch, "batch", "", "verify every line of a JSON Lines manifest {artifact, provenance, package}")
	fl.BoolVar(&f.attachVSA, "attach-vsa", false, "push the signed VSA to the registry as a referrer of the verified image (needs --vsa-key and --verifier-id)")
	addRegistryFlags(fl, &f.registryFlags)
	return cmd
}

// verifier holds what every verification of one invocation shares.
type verifier struct {
	roots      *trustmap.Roots
	policy     *trustmap.Policy
	policyData []byte
	opts       trustmap.VerifyOptions
	registry   *oci.Client // images named by batch lines
}

func loadVerifier(ctx context.Context, e *env, f verifyFlags) (*verifier, error) {
	if f.roots == "" {
		return nil, cli.Usage(errors.New("--roots is required"))
	}
	if f.format != "text" && f.format != "json" {
		return nil, cli.Usage(fmt.Errorf("--format: expected text or json, got %q", f.format))
	}
	when, err := parseTime("--at", f.at, e.Now())
	if err != nil {
		return nil, err
	}
	min := f.minLevel
	if f.policyThresholdSet && len(f.policyKeys) == 0 {
		return nil, cli.Usage(errors.New("--policy-threshold needs --policy-key: without keys there is no signature to count"))
	}
	if f.policyThresholdSet {
		if err := cli.CheckThreshold("--policy-threshold", f.policyThreshold, "--policy-key", len(f.policyKeys)); err != nil {
			return nil, err
		}
	}
	var expect *trustmap.Expectations
	if f.sourceURI != "" || f.sourceRef != "" || len(f.builderIDs) > 0 || len(f.buildTypes) > 0 {
		if f.policy != "" {
			return nil, cli.Usage(errors.New("give --policy or inline expectations (--source-uri, --source-ref, --builder-id, --build-type), not both"))
		}
		expect = &trustmap.Expectations{SourceURI: f.sourceURI, SourceRef: f.sourceRef, BuilderIDs: f.builderIDs, BuildTypes: f.buildTypes}
		if err := expect.Validate(); err != nil {
			return nil, cli.Usage(err)
		}
	}
	if f.noExpectations && (expect != nil || f.policy != "" || f.tofu != "") {
		return nil, cli.Usage(errors.New("--insecure-no-expectations contradicts the expectations given (--policy, --tofu-store or inline flags)"))
	}
	rootsKeys, err := loadPublicKeys(f.rootsKeys)
	if err != nil {
		return nil, err
	}
	rb, err := limitio.ReadFile(f.roots, trustmap.MaxRootsBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	var roots *trustmap.Roots
	err = withSerialState(ctx, f.trustState, trustmap.SerialRoots, rootsKeys, f.rootsMinSerial, func(min uint64) (uint64, error) {
		var err error
		if roots, err = trustmap.LoadRoots(ctx, rb, rootsKeys, trustmap.LoadOptions{At: when, MinSerial: min}); err != nil {
			return 0, err
		}
		return roots.Serial, nil
	})
	if err != nil {
		if isTrustFailure(err) {
			return nil, cli.Failed(fmt.Errorf("%s: %w", f.roots, err))
		}
		return nil, cli.Usage(fmt.Errorf("%s: %w", f.roots, err))
	}
	sigstore, err := loadSigstoreTrust(f.trustedRoot)
	if err != nil {
		return nil, err
	}
	v := &verifier{roots: roots, opts: trustmap.VerifyOptions{
		Sigstore: sigstore,
		At:       when, Package: f.pkg, MinLevel: min,
		AllowUncertifiedUnsafe:                min == 0,
		Expect:                                expect,
		NoExpectationsUnsafe:                  f.noExpectations,
		AllowLegacyPredicateUnsafe:            f.allowLegacy,
		IgnoreCertificationAtVerifyTimeUnsafe: f.ignoreExpiry,
	}}
	if f.policy != "" {
		keys, err := loadPublicKeys(f.policyKeys)
		if err != nil {
			return nil, err
		}
		if v.policyData, err = limitio.ReadFile(f.policy, trustmap.MaxPolicyBytes); err != nil {
			return nil, cli.Usage(err)
		}
		err = withSerialState(ctx, f.trustState, trustmap.SerialPolicy, keys, f.policyMinSerial, func(min uint64) (uint64, error) {
			var err error
			if v.policy, err = trustmap.LoadPolicy(ctx, v.policyData, keys, f.policyThreshold, trustmap.LoadOptions{At: when, MinSerial: min}); err != nil {
				return 0, err
			}
			return v.policy.Serial, nil
		})
		if err != nil {
			if isTrustFailure(err) {
				return nil, cli.Failed(fmt.Errorf("%s: %w", f.policy, err))
			}
			return nil, cli.Usage(fmt.Errorf("%s: %w", f.policy, err))
		}
		v.opts.Policy = v.policy
	} else if len(f.policyKeys) > 0 {
		return nil, cli.Usage(errors.New("--policy-key needs --policy"))
	}
	return v, nil
}

func runVerify(ctx context.Context, e *env, f verifyFlags, args []string) error {
	v, err := loadVerifier(ctx, e, f)
	if err != nil {
		return err
	}
	if f.batch != "" {
		if len(args) > 0 || f.provenance != "" || f.vsaOut != "" || f.tofu != "" {
			return cli.Usage(errors.New("--batch takes no artifacts, --provenance, --vsa-out or --tofu-store: the manifest names them"))
		}
		if f.formatSet && f.format != "json" {
			return cli.Usage(fmt.Errorf("--batch writes one JSON line per item: --format %s is not supported there (leave --format out, or give --format json)", f.format))
		}
		if v.registry, err = registryClient(f.registryFlags); err != nil {
			return err
		}
		return runBatch(ctx, e, v, f.batch)
	}
	image, err := imageArgs(args)
	if err != nil {
		return err
	}
	if f.provenance == "" && !image {
		return cli.Usage(fmt.Errorf("%w: give --provenance", trustmap.ErrNoProvenance))
	}
	if f.attachVSA && !image {
		return cli.Usage(errors.New("--attach-vsa needs an image (oci://…) to attach to"))
	}
	if len(args) == 0 {
		return cli.Usage(fmt.Errorf("%w: name at least one artifact", trustmap.ErrNoArtifacts))
	}
	if wantVSA := f.vsaOut != "" || f.attachVSA; wantVSA != (f.vsaKey != "") || (wantVSA && f.verifierID == "") {
		return cli.Usage(errors.New("--vsa-out and --attach-vsa need --vsa-key and --verifier-id"))
	}
	if f.policy != "" && f.pkg == "" {
		return cli.Usage(fmt.Errorf("--policy needs --package: the policy holds expectations per package; name the package of this artifact (%s lists: %s)", f.policy, strings.Join(policyPackages(v.policy), ", ")))
	}
	vsaOut := cli.Output{Path: f.vsaOut, Force: f.force, Inputs: append([]string{f.roots, f.provenance, f.policy, f.tofu, f.vsaKey, f.trustedRoot}, args...)}
	if f.vsaOut != "" {
		if err := vsaOut.Check(); err != nil {
			return err
		}
	}
	var vsaKey *attest.PrivateKey
	if f.vsaKey != "" {
		if vsaKey, err = e.LoadPrivateKey(f.vsaKey); err != nil {
			return cli.Usage(err)
		}
	}
	var prov []byte
	var arts []*trustmap.Artifact
	var img *oci.Image
	if image {
		if img, prov, err = imageInputs(ctx, e, f, args[0]); err != nil {
			return err
		}
		arts = append(arts, img.Artifact())
	} else if prov, err = e.ReadInput(f.provenance, trustmap.MaxProvenanceBytes); err != nil {
		return err
	}
	for _, a := range args[len(arts):] {
		if err := cli.CheckFile(a); err != nil {
			return err
		}
		arts = append(arts, trustmap.FileArtifact(a))
	}
	if !image {
		if err := checkProvenanceInput(f.provenance, prov, args); err != nil {
			return err
		}
	}
	res, verr, recorded, err := verifyWithTOFU(ctx, v, f, prov, arts)
	if err != nil {
		return err
	}
	if f.format == "json" {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		writeResult(e.Stdout, res)
	}
	if recorded {
		fmt.Fprintf(e.Stderr, "trust on first use: recorded %s in %s\n", safetext.Term(f.pkg), safetext.Term(store.Redact(f.tofu)))
	}
	if vsaKey != nil {
		env, err := writeVSA(ctx, e, vsaOut, f, v, res, arts, vsaKey)
		if err != nil {
			return err
		}
		if f.attachVSA {
			if err := attachVSA(ctx, e, f, img, env); err != nil {
				return err
			}
		}
		switch {
		case f.vsaOut == "":
		case res.Passed && res.NoExpectations():
			fmt.Fprintf(e.Stderr, "wrote VSA %s (FAILED: --insecure-no-expectations checked no expectations)\n", safetext.Term(f.vsaOut))
		default:
			fmt.Fprintf(e.Stderr, "wrote VSA %s (%s)\n", safetext.Term(f.vsaOut), map[bool]string{true: "PASSED", false: "FAILED"}[res.Passed])
		}
	}
	if verr != nil {
		return cli.FailedQuiet()
	}
	return nil
}

func writeVSA(ctx context.Context, e *env, out cli.Output, f verifyFlags, v *verifier, res *trustmap.Result, arts []*trustmap.Artifact, key *attest.PrivateKey) ([]byte, error) {
	subjects := map[string]string{}
	for _, a := range arts {
		d, err := a.Digest("sha256")
		if err != nil {
			return nil, cli.Usage(err)
		}
		subjects[filepath.Base(a.Name)] = d
	}
	resource := f.pkg
	if resource == "" {
		resource = filepath.Base(arts[0].Name)
	}
	st, err := trustmap.NewVSA(res, trustmap.VSAOptions{
		VerifierID: f.verifierID, ResourceURI: resource, Subjects: subjects,
		PolicyURI: f.policy, PolicyData: v.policyData, ProvenanceURI: f.provenance, At: v.opts.At,
	})
	if err != nil {
		return nil, cli.Usage(err)
	}
	env, err := trustmap.SignVSA(ctx, st, key)
	if err != nil || f.vsaOut == "" {
		return env, err
	}
	return env, e.Write(out, env)
}

func writeResult(w io.Writer, res *trustmap.Result) {
	// Every string below may come from the provenance or the command line:
	// escaped, so that no escape sequence can repaint the verdict. The
	// checks' texts, the expectations and the error were escaped by
	// trustmap; names given on the command line are escaped here.
	t := safetext.Term
	verdict := "FAILED"
	if res.Passed {
		verdict = "PASSED"
	}
	arts := make([]string, len(res.Artifacts))
	for i, a := range res.Artifacts {
		arts[i] = t(a)
	}
	fmt.Fprintf(w, "%s  %s", verdict, strings.Join(arts, ", "))
	if res.Package != "" {
		fmt.Fprintf(w, "  (package %s)", t(res.Package))
	}
	if res.Passed {
		fmt.Fprintf(w, "  SLSA Build %s", res.Level)
	}
	fmt.Fprintln(w)
	if res.Expectations != "" {
		fmt.Fprintf(w, "expectations: %s\n", res.Expectations)
	}
	for _, opt := range res.Insecure {
		fmt.Fprintf(w, "WARNING: --%s was given: this result is weaker than the default\n", opt)
	}
	for _, d := range res.Documents {
		fmt.Fprintf(w, "\nprovenance document %d of %d", d.Index+1, len(res.Documents))
		if d.BuilderID != "" {
			fmt.Fprintf(w, ": builder %s", t(d.BuilderID))
		}
		fmt.Fprintln(w)
		for _, c := range d.Checks {
			mark := "ok  "
			if !c.Passed {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "  %s  %s\n", mark, c.ID)
			if c.Expected != "" {
				fmt.Fprintf(w, "          expected  %s\n", c.Expected)
			}
			if c.Found != "" {
				fmt.Fprintf(w, "          found     %s\n", c.Found)
			}
			if c.Error != "" {
				fmt.Fprintf(w, "          error     %s\n", c.Error)
			}
		}
	}
	if res.Error != "" {
		fmt.Fprintf(w, "\nerror: %s\n", res.Error)
	}
}

// verifyWithTOFU verifies; with --tofu-store, inside one locked
// read-modify-write of the package's pin.
func verifyWithTOFU(ctx context.Context, v *verifier, f verifyFlags, prov []byte, arts []*trustmap.Artifact) (res *trustmap.Result, verr error, recorded bool, err error) {
	if f.tofu == "" {
		res, verr = trustmap.Verify(ctx, v.roots, prov, arts, v.opts)
		return res, verr, false, nil
	}
	err = updateTOFU(ctx, f.tofu, f.pkg, func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
		o := v.opts
		o.TOFU = trustmap.TOFUFor(f.pkg, cur)
		res, verr = trustmap.Verify(ctx, v.roots, prov, arts, o)
		next := o.TOFU.Pin(f.pkg)
		recorded = next != nil
		return next, nil
	})
	if err != nil {
		return nil, nil, false, cli.Usage(fmt.Errorf("%s: %w", store.Redact(f.tofu), err))
	}
	return res, verr, recorded, nil
}

// withSerialState loads a signed document with the larger of flagMin and
// the serial last accepted in the state file, and records the serial it
// accepted, all under the state file's lock. Without a state file or keys
// (an unsigned document's serial proves nothing) it only applies flagMin.
func withSerialState(ctx context.Context, path, kind string, keys []*attest.PublicKey, flagMin uint64, load func(min uint64) (uint64, error)) error {
	if path == "" || len(keys) == 0 {
		_, err := load(flagMin)
		return err
	}
	var loadErr error
	err := statefile.Update(ctx, path, func(st *trustmap.SerialState) (bool, error) {
		serial, err := load(max(flagMin, st.Min(kind, keys)))
		if err != nil {
			loadErr = err
			return false, nil
		}
		return st.Accept(kind, keys, serial)
	})
	if err != nil {
		return cli.Usage(fmt.Errorf("--trust-state %s: %w", path, err))
	}
	return loadErr
}

// isTrustFailure reports a roots map or policy refused for what it is
// (unsigned, expired, older than accepted): exit 1, not bad usage.
func isTrustFailure(err error) bool {
	for _, s := range []error{trustmap.ErrRootsUnsigned, trustmap.ErrPolicyUnsigned, trustmap.ErrNoSerial,
		trustmap.ErrRootsExpired, trustmap.ErrRootsRollback, trustmap.ErrPolicyExpired, trustmap.ErrPolicyRollback} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func runBatch(ctx context.Context, e *env, v *verifier, manifest string) error {
	f, err := limitio.OpenRegular(manifest)
	if err != nil {
		return cli.Usage(err)
	}
	defer f.Close()
	base := filepath.Dir(manifest)
	resolve := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	verify := func(ctx context.Context, it trustmap.BatchItem) (*trustmap.Result, error) {
		if oci.IsReference(it.Artifact) {
			return verifyBatchImage(ctx, v, it, resolve)
		}
		if it.Provenance == "" {
			return nil, fmt.Errorf("%w: a file needs its provenance", trustmap.ErrNoProvenance)
		}
		prov, err := limitio.ReadFile(resolve(it.Provenance), trustmap.MaxProvenanceBytes)
		if err != nil {
			return nil, err
		}
		o := v.opts
		o.Package = it.Package
		return trustmap.Verify(ctx, v.roots, prov, []*trustmap.Artifact{trustmap.FileArtifact(resolve(it.Artifact))}, o)
	}
	total := 0
	if e.StderrIsTerminal {
		// Count the lines first (streaming) so the bar knows its length.
		if total, err = countLines(manifest); err != nil {
			return cli.Usage(err)
		}
	}
	done, failedN := 0, 0
	start := e.Now()
	emit := func(r trustmap.BatchResult) {
		e.Stdout.Write(r.MarshalLine())
		done++
		if !r.Passed {
			failedN++
		}
		if e.StderrIsTerminal && (done%50 == 0 || done == total) {
			fmt.Fprintf(e.Stderr, "\r%s %d/%d, %d failed, %.0f/s ", progressBar(done, max(total, done), 30), done, max(total, done), failedN, float64(done)/max(e.Now().Sub(start).Seconds(), 0.001))
		}
	}
	failed, err := trustmap.RunBatch(ctx, f, e.Workers, verify, emit)
	if e.StderrIsTerminal {
		fmt.Fprintf(e.Stderr, "\r%-80s\n", fmt.Sprintf("%d verified, %d failed in %s", done, failed, e.Now().Sub(start).Round(time.Millisecond)))
	}
	if err != nil {
		return cli.Usage(err)
	}
	if done == 0 {
		return cli.Failed(fmt.Errorf("%w: the manifest lists nothing", trustmap.ErrNoArtifacts))
	}
	if failed > 0 {
		return cli.Failed(fmt.Errorf("%d of %d items failed", failed, done))
	}
	return nil
}

// addVerifyInputFlags declares what verify and expectations approve share:
// the trust inputs, the expectations and the loudly named loosenings.
func addVerifyInputFlags(fl *pflag.FlagSet, f *verifyFlags) {
	fl.StringVar(&f.roots, "roots", "", "roots of trust (from trustmap compile)")
	fl.StringArrayVar(&f.rootsKeys, "roots-key", nil, "require the roots map to be signed by this public key")
	fl.StringVar(&f.provenance, "provenance", "", "provenance: DSSE envelope(s) or Sigstore bundle(s), one or JSON Lines")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json for keyless provenance (default: the embedded public-good root)")
	fl.StringVar(&f.policy, "policy", "", "expectations policy (plain or DSSE-signed)")
	fl.StringArrayVar(&f.policyKeys, "policy-key", nil, "public key the policy must be signed by (repeatable)")
	fl.IntVar(&f.policyThreshold, "policy-threshold", 1, "how many distinct --policy-key keys must have signed the policy (needs --policy-key)")
	fl.Uint64Var(&f.rootsMinSerial, "roots-min-serial", 0, "refuse a roots map with a smaller serial (the last one you accepted): no rollback")
	fl.Uint64Var(&f.policyMinSerial, "policy-min-serial", 0, "refuse a signed policy with a smaller serial (the last one you accepted): no rollback")
	fl.StringVar(&f.trustState, "trust-state", "", "remember the highest serial of the signed roots and policy accepted (per signing keys) in this file, and refuse older ones")
	fl.StringVar(&f.pkg, "package", "", "package name: selects the policy entry and the TOFU record")
	cli.LevelVar(fl, &f.minLevel, "min-level", 1, "minimum SLSA Build level required (0 accepts builders that are not certified)")
	fl.StringVar(&f.at, "at", "", "verification time (RFC 3339); default now")
	fl.StringVar(&f.tofu, "tofu-store", "", "trust on first use: record the first passing provenance per package and refuse later changes")
	fl.StringVar(&f.sourceURI, "source-uri", "", "inline expectation: the source repository the build must come from (github.com/org/repo)")
	fl.StringVar(&f.sourceRef, "source-ref", "", "inline expectation: glob on the source ref ('refs/tags/v*'; '*' does not cross '/')")
	fl.StringArrayVar(&f.builderIDs, "builder-id", nil, "inline expectation: an allowed builder.id (repeatable)")
	fl.StringArrayVar(&f.buildTypes, "build-type", nil, "inline expectation: an allowed buildType (repeatable)")
	fl.BoolVar(&f.noExpectations, "insecure-no-expectations", false, "INSECURE: verify without any expectations (the result says so; no PASSED VSA)")
	fl.BoolVar(&f.allowLegacy, "insecure-allow-legacy-predicate", false, "INSECURE: also accept SLSA provenance v0.2")
	fl.BoolVar(&f.ignoreExpiry, "insecure-ignore-certification-expiry", false, "INSECURE: accept a builder certification that covered the build time but has expired since")
	// The names these options had before they were marked insecure.
	fl.BoolVar(&f.allowLegacy, "allow-legacy-predicate", false, "")
	fl.BoolVar(&f.ignoreExpiry, "ignore-certification-expiry", false, "")
	fl.MarkDeprecated("allow-legacy-predicate", "use --insecure-allow-legacy-predicate")
	fl.MarkDeprecated("ignore-certification-expiry", "use --insecure-ignore-certification-expiry")
}

func loadSigstoreTrust(path string) (*trustmap.SigstoreTrust, error) {
	if path == "" {
		// Parsed on first use: key-signed provenance never needs it.
		return trustmap.LazyPublicGoodTrust(), nil
	}
	b, err := limitio.ReadFile(path, trustmap.MaxRootsBytes)
	if err != nil {
		return nil, cli.Usage(err)
	}
	t, err := trustmap.ParseTrustedRoot(b)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("%s: %w", path, err))
	}
	t.Description = path + " (" + t.Description + ")"
	return t, nil
}

// progressBar renders [#####-----] for done of total.
func progressBar(done, total, width int) string {
	filled := width
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat("-", width-filled) + "]"
}

func countLines(path string) (int, error) {
	f, err := limitio.OpenRegular(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 64<<10)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
