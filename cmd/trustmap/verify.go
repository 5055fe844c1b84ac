package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
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
	// Source and dependency evidence: VSAs (files or directories) and the
	// dependencies' provenance.
	vsas, depProvenance []string
	vsaMaxAge           time.Duration
	vsaMaxAgeSet        bool
	resourceURI         string
	vsaDir              string
}

// inputs are the files a verification reads or updates: an output (-o,
// --vsa-out) may be none of them.
func (f *verifyFlags) inputs(args []string) []string {
	in := []string{f.roots, f.provenance, f.policy, f.vsaKey, f.trustedRoot, f.trustState, f.registryCA, f.batch}
	if !store.IsURI(f.tofu) {
		in = append(in, f.tofu)
	}
	in = append(in, f.rootsKeys...)
	in = append(in, f.policyKeys...)
	return append(in, args...)
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
			f.vsaMaxAgeSet = cmd.Flags().Changed("vsa-max-age")
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
	fl.StringVar(&f.vsaDir, "vsa-dir", "", "with --batch: write a signed VSA per item to DIR/line-N.vsa.json (needs --vsa-key and --verifier-id)")
	fl.StringVar(&f.resourceURI, "resource-uri", "", "resourceUri of the VSA: a purl, an OCI reference with digest, an https URL (default: pkg:generic/PACKAGE?checksum=sha256:…, or the pinned image)")
	addSupplyChainFlags(fl, &f)
	addRegistryFlags(fl, &f.registryFlags)
	return cmd
}

// addSupplyChainFlags adds the flags that give the evidence for a policy's
// source and dependencies.
func addSupplyChainFlags(fl *pflag.FlagSet, f *verifyFlags) {
	fl.StringArrayVar(&f.vsas, "vsa", nil, "VSA (DSSE envelope or Sigstore bundle) that may cover the source revision or a dependency; a directory gives every file in it (repeatable)")
	fl.StringArrayVar(&f.depProvenance, "dependency-provenance", nil, "provenance of a dependency, verified against the roots for the dependency's digest (repeatable)")
	fl.DurationVar(&f.vsaMaxAge, "vsa-max-age", trustmap.DefaultVSAMaxAge, "how old a VSA's timeVerified may be")
}

// verifier holds what every verification of one invocation shares.
type verifier struct {
	roots      *trustmap.Roots
	rootsData  []byte
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
	roots, rb, err := loadRootsFile(ctx, e, f, when)
	if err != nil {
		return nil, err
	}
	sigstore, err := loadSigstoreTrust(f.trustedRoot)
	if err != nil {
		return nil, err
	}
	v := &verifier{roots: roots, rootsData: rb, opts: trustmap.VerifyOptions{
		Sigstore: sigstore,
		At:       when, Package: f.pkg, MinLevel: min,
		AllowUncertifiedUnsafe:                min == 0,
		Expect:                                expect,
		NoExpectationsUnsafe:                  f.noExpectations,
		AllowLegacyPredicateUnsafe:            f.allowLegacy,
		IgnoreCertificationAtVerifyTimeUnsafe: f.ignoreExpiry,
	}}
	if v.opts.VSAs, err = readDocuments(f.vsas, "--vsa"); err != nil {
		return nil, err
	}
	if v.opts.DependencyProvenance, err = readDocuments(f.depProvenance, "--dependency-provenance"); err != nil {
		return nil, err
	}
	if f.vsaMaxAge < 0 || (f.vsaMaxAgeSet && f.vsaMaxAge == 0) {
		return nil, cli.Usage(fmt.Errorf("--vsa-max-age: expected a duration above 0, got %s", f.vsaMaxAge))
	}
	v.opts.VSAMaxAge = f.vsaMaxAge
	if f.policy != "" {
		keys, err := loadPublicKeys(f.policyKeys)
		if err != nil {
			return nil, err
		}
		if v.policyData, err = e.ReadInput(f.policy, trustmap.MaxPolicyBytes); err != nil {
			return nil, err
		}
		if err := cli.CheckKind("--policy "+f.policy, v.policyData, "an expectations policy, plain or signed (schema "+trustmap.PolicySchema+")", doctype.Policy, doctype.SignedPolicy); err != nil {
			return nil, err
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

// loadRootsFile reads --roots, checks its signature with --roots-key, its
// expiry and its serial (--roots-min-serial, --trust-state).
func loadRootsFile(ctx context.Context, e *env, f verifyFlags, when time.Time) (*trustmap.Roots, []byte, error) {
	rootsKeys, err := loadPublicKeys(f.rootsKeys)
	if err != nil {
		return nil, nil, err
	}
	rb, err := e.ReadInput(f.roots, trustmap.MaxRootsBytes)
	if err != nil {
		return nil, nil, err
	}
	if err := cli.CheckKind("--roots "+f.roots, rb, "roots of trust (from trustmap compile)", doctype.Roots, doctype.SignedRoots); err != nil {
		return nil, nil, err
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
			return nil, nil, cli.Failed(fmt.Errorf("%s: %w", f.roots, err))
		}
		return nil, nil, cli.Usage(fmt.Errorf("%s: %w", f.roots, err))
	}
	return roots, rb, nil
}

func runVerify(ctx context.Context, e *env, f verifyFlags, args []string) error {
	v, err := loadVerifier(ctx, e, f)
	if err != nil {
		return err
	}
	if f.batch != "" {
		if len(args) > 0 || f.provenance != "" || f.vsaOut != "" || f.tofu != "" {
			return cli.Usage(errors.New("--batch takes no artifacts, --provenance, --vsa-out or --tofu-store: the manifest names them (--vsa-dir writes a VSA per item)"))
		}
		if f.formatSet && f.format != "json" {
			return cli.Usage(fmt.Errorf("--batch writes one JSON line per item: --format %s is not supported there (leave --format out, or give --format json)", f.format))
		}
		if v.registry, err = registryClient(f.registryFlags); err != nil {
			return err
		}
		if v.policy != nil {
			v.registry = v.registry.WithVSAs()
		}
		if f.resourceURI != "" {
			return cli.Usage(errors.New("--resource-uri names one resource; --batch writes each item's VSA about its own package or artifact"))
		}
		var b batchVSA
		if f.vsaDir != "" || f.vsaKey != "" {
			if f.vsaDir == "" || f.vsaKey == "" || f.verifierID == "" {
				return cli.Usage(errors.New("--batch writes VSAs with --vsa-dir DIR, --vsa-key and --verifier-id together"))
			}
			if st, err := os.Stat(f.vsaDir); err != nil || !st.IsDir() {
				return cli.Usage(fmt.Errorf("--vsa-dir %s: expected an existing directory", f.vsaDir))
			}
			if b.key, err = e.LoadPrivateKey(f.vsaKey); err != nil {
				return cli.Usage(err)
			}
			b.dir, b.f = f.vsaDir, f
		}
		return runBatch(ctx, e, v, f.batch, &b)
	}
	if f.vsaDir != "" {
		return cli.Usage(errors.New("--vsa-dir is for --batch; give --vsa-out for one verification"))
	}
	image, err := imageArgs(args)
	if err != nil {
		return err
	}
	if !image {
		if err := imageWithoutScheme(args); err != nil {
			return err
		}
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
	vsaOut := cli.Output{Path: f.vsaOut, Force: f.force, Inputs: f.inputs(args), Flag: "--vsa-out"}
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
		var vsas []trustmap.VSAInput
		if img, prov, vsas, err = imageInputs(ctx, e, f, args[0]); err != nil {
			return err
		}
		v.opts.VSAs = append(v.opts.VSAs, vsas...)
		v.opts.InputDigests = true // the VSA's inputs: the documents from the registry
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
	// With --vsa-out -, standard output is the VSA alone: the result goes
	// to standard error.
	report := e.Stdout
	if f.vsaOut == cli.Stdio {
		report = e.Stderr
	}
	if f.format == "json" {
		enc := json.NewEncoder(report)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		writeResult(report, res)
	}
	if recorded {
		fmt.Fprintf(e.Stderr, "trust on first use: recorded %s in %s\n", safetext.Term(f.pkg), safetext.Term(store.Redact(f.tofu)))
	}
	if vsaKey != nil {
		env, err := writeVSA(ctx, e, vsaOut, f, v, res, arts, prov, img, vsaKey)
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

func writeVSA(ctx context.Context, e *env, out cli.Output, f verifyFlags, v *verifier, res *trustmap.Result, arts []*trustmap.Artifact, prov []byte, img *oci.Image, key *attest.PrivateKey) ([]byte, error) {
	subjects := map[string]string{}
	for _, a := range arts {
		d, err := a.Digest("sha256")
		if err != nil {
			return nil, cli.Usage(err)
		}
		subjects[filepath.Base(a.Name)] = d
	}
	first := filepath.Base(arts[0].Name)
	env, err := signedVSA(ctx, f, v, res, subjects, resourceURI(f, first, subjects[first], img), prov, img, key)
	if err != nil || f.vsaOut == "" {
		return env, err
	}
	return env, e.Write(out, env)
}

// resourceURI is the VSA's resourceUri: --resource-uri, the pinned image,
// or a generic purl of the package (or artifact) name with its sha256.
func resourceURI(f verifyFlags, artifact, sha256hex string, img *oci.Image) string {
	switch {
	case f.resourceURI != "":
		return f.resourceURI
	case img != nil:
		return img.Pinned
	case f.pkg != "":
		return trustmap.ResourceURIFor(f.pkg, sha256hex)
	}
	return trustmap.ResourceURIFor(artifact, sha256hex)
}

// signedVSA builds and signs the VSA of one verification: what it was
// checked against and the inputs it relied on.
func signedVSA(ctx context.Context, f verifyFlags, v *verifier, res *trustmap.Result, subjects map[string]string, resource string, prov []byte, img *oci.Image, key *attest.PrivateKey) ([]byte, error) {
	policyURI, policyData := expectationsRef(f, v)
	st, err := trustmap.NewVSA(res, trustmap.VSAOptions{
		VerifierID: f.verifierID, VerifierVersion: buildVersion(), ResourceURI: resource, Subjects: subjects,
		PolicyURI: policyURI, PolicyData: policyData, InputAttestations: inputAttestations(f, v, res, prov, img), At: v.opts.At,
	})
	if err != nil {
		return nil, cli.Usage(err)
	}
	return trustmap.SignVSA(ctx, st, key)
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
		flag := "--" + opt
		if opt == trustmap.InsecureUncertified {
			flag = "--min-level 0" // "min-level-0" names it in JSON
		}
		fmt.Fprintf(w, "WARNING: %s was given: this result is weaker than the default\n", flag)
	}
	for _, d := range res.Documents {
		fmt.Fprintf(w, "\nprovenance document %d of %d", d.Index+1, len(res.Documents))
		if d.BuilderID != "" {
			fmt.Fprintf(w, ": builder %s", t(d.BuilderID))
		}
		fmt.Fprintln(w)
		writeChecks(w, d.Checks)
	}
	for _, u := range res.VSAs {
		fmt.Fprintf(w, "\nrelied on VSA %s (sha256:%s) for %s\n", u.Name, u.PayloadDigest, u.For)
	}
	for _, u := range res.DependencyProvenance {
		fmt.Fprintf(w, "\nrelied on provenance %s (sha256:%s) for %s\n", u.Name, u.PayloadDigest, u.For)
	}
	if res.Error != "" {
		fmt.Fprintf(w, "\nerror: %s\n", res.Error)
	}
}

// writeChecks prints checks whose texts trustmap escaped.
func writeChecks(w io.Writer, checks []trustmap.Check) {
	for _, c := range checks {
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

// batchVSA writes a signed VSA per batch item when dir is set.
type batchVSA struct {
	dir string
	key *attest.PrivateKey
	f   verifyFlags
	// written holds the VSA path of each line that got one.
	written sync.Map
}

// write signs and writes the VSA of one item: DIR/line-N.vsa.json, a name
// that never comes from the manifest's text.
func (b *batchVSA) write(ctx context.Context, e *env, v *verifier, it trustmap.BatchItem, res *trustmap.Result, art *trustmap.Artifact, prov []byte) error {
	if b.dir == "" || res == nil {
		return nil
	}
	d, err := art.Digest("sha256")
	if err != nil {
		return err
	}
	f := b.f
	f.pkg, f.provenance = it.Package, it.Provenance
	base := filepath.Base(it.Artifact)
	env, err := signedVSA(ctx, f, v, res, map[string]string{base: d}, resourceURI(f, base, d, nil), prov, nil, b.key)
	if err != nil {
		return err
	}
	path := filepath.Join(b.dir, fmt.Sprintf("line-%d.vsa.json", it.Line))
	if err := e.Write(cli.Output{Path: path, Force: f.force}, env); err != nil {
		return err
	}
	b.written.Store(it.Line, path)
	return nil
}

func runBatch(ctx context.Context, e *env, v *verifier, manifest string, vsas *batchVSA) error {
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
		art := trustmap.FileArtifact(resolve(it.Artifact))
		res, verr := trustmap.Verify(ctx, v.roots, prov, []*trustmap.Artifact{art}, o)
		it.Provenance = resolve(it.Provenance)
		if err := vsas.write(ctx, e, v, it, res, art, prov); err != nil {
			return res, fmt.Errorf("write the VSA: %w", err)
		}
		return res, verr
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
		if p, ok := vsas.written.Load(r.Line); ok {
			r.VSA = safetext.Term(p.(string))
		}
		e.Stdout.Write(r.MarshalLine())
		done++
		if !r.Passed {
			failedN++
		}
		if e.StderrIsTerminal && (done%50 == 0 || done == total) {
			fmt.Fprintf(e.Stderr, "\r%s %d/%d, %d failed, %.0f/s ", progressBar(done, max(total, done), 30), done, max(total, done), failedN, float64(done)/max(e.Now().Sub(start).Seconds(), 0.001))
		}
	}
	if e.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(trustmap.BatchGCPercent))
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
	cobra.MarkFlagRequired(fl, "roots")
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
