package trustmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/internal/strictjson"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// VerifyOptions controls Verify.
type VerifyOptions struct {
	// At is the verification time. Required.
	At time.Time
	// Policy and Package select the expectations; with a policy, a package
	// name is required and must be in it.
	Policy  *Policy
	Package string
	// MinLevel is required on top of the policy's minLevel. Below 1 it is
	// 1 unless AllowUncertifiedUnsafe: a builder that is not certified
	// (not in the roots, certification expired, build outside its window)
	// is level 0.
	MinLevel questionnaire.Level
	// InputDigests asks for Result.InputDigests: the sha256 of each
	// provenance document read (a VSA's inputs when the documents came
	// from a registry rather than a file the caller hashes itself).
	InputDigests bool
	// AllowUncertifiedUnsafe lets MinLevel 0 accept a builder that is not
	// certified (--min-level 0).
	AllowUncertifiedUnsafe bool
	// TOFU, when set, pins what a package's first passing provenance shows.
	TOFU *TOFU
	// Expect are inline expectations (source repository, ref, builder,
	// buildType), the alternative to a Policy.
	Expect *Expectations
	// NoExpectationsUnsafe verifies without any expectations (no Policy,
	// TOFU or Expect): the result says so and never yields a PASSED VSA.
	// Without it, verification with no expectations fails with
	// ErrNoExpectations.
	NoExpectationsUnsafe bool
	// Sigstore is the trusted material for keyless provenance (Sigstore
	// bundles). Without it, bundles are refused.
	Sigstore *SigstoreTrust
	// AllowLegacyPredicateUnsafe accepts SLSA provenance v0.2.
	AllowLegacyPredicateUnsafe bool
	// IgnoreCertificationAtVerifyTimeUnsafe accepts provenance whose
	// builder certification covered the build time but has since expired.
	IgnoreCertificationAtVerifyTimeUnsafe bool

	// VSAs are the verification summaries that may vouch for the source
	// revision and the dependencies (a policy's source and dependencies).
	VSAs []VSAInput
	// DependencyProvenance is provenance of dependencies: a dependency is
	// covered by a document that verifies for its digest at the required
	// level against the roots.
	DependencyProvenance []VSAInput
	// Verifiers are the verifiers whose VSAs are accepted; nil: the
	// roots' verifiers.
	Verifiers *VerifierSet
	// VSAMaxAge is how old a VSA may be (DefaultVSAMaxAge when zero).
	VSAMaxAge time.Duration

	// budget bounds the signature checks of one provenance file.
	budget *attest.SignatureBudget
}

// Check is one verification step with what was expected and found.
type Check struct {
	ID       string `json:"id"`
	Passed   bool   `json:"passed"`
	Expected string `json:"expected,omitempty"`
	Found    string `json:"found,omitempty"`
	Error    string `json:"error,omitempty"`
	err      error
}

// Document is the verification of one provenance document.
type Document struct {
	Index         int                 `json:"index"`
	PayloadDigest string              `json:"payloadDigest,omitempty"`
	BuilderID     string              `json:"builderId,omitempty"`
	BuildType     string              `json:"buildType,omitempty"`
	Level         questionnaire.Level `json:"level"`
	Passed        bool                `json:"passed"`
	Checks        []Check             `json:"checks"`
	provenance    *Provenance
	err           error
}

// Err is the first failed check's error.
func (d *Document) Err() error { return d.err }

// MarshalJSON writes the result with "passing" (the index of the document
// that passed) only when one did: never the -1 of a failure.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		plain
		Passing *int `json:"passing,omitempty"`
	}{plain: plain(r)}
	if r.Passing >= 0 {
		p := r.Passing
		out.Passing = &p
	}
	return json.Marshal(out)
}

// Result is the outcome of verifying artifacts against provenance.
type Result struct {
	Passed    bool                `json:"passed"`
	Package   string              `json:"package,omitempty"`
	Artifacts []string            `json:"artifacts"`
	Level     questionnaire.Level `json:"level"`
	// Passing is the index of the document that passed, or -1. JSON has
	// it only when a document passed (see MarshalJSON).
	Passing   int        `json:"-"`
	Documents []Document `json:"documents"`
	Error     string     `json:"error,omitempty"`
	// Expectations says what the provenance was checked against: a policy
	// package, inline expectations, trust on first use, or none.
	Expectations string `json:"expectations"`
	// Insecure lists the loosening options this verification used; a
	// result with any is weaker than the default.
	Insecure []string `json:"insecure,omitempty"`
	// SignatureChecks is the number of signature checks made (bounded per
	// provenance file: keyids select keys, the rest is capped).
	SignatureChecks int `json:"signatureChecks,omitempty"`
	// InputDigests are the sha256 of each provenance document read, in
	// order, when VerifyOptions.InputDigests asks for them (nil
	// otherwise): most verifications never need them.
	InputDigests []string `json:"-"`
	// VSAs are the VSAs the source and dependency checks relied on, and
	// DependencyProvenance the dependencies' provenance.
	VSAs                 []UsedVSA `json:"vsas,omitempty"`
	DependencyProvenance []UsedVSA `json:"dependencyProvenance,omitempty"`
	// DependencyLevels counts the dependencies checked at each level
	// (SLSA_BUILD_LEVEL_n), as a VSA's dependencyLevels.
	DependencyLevels map[string]uint64 `json:"dependencyLevels,omitempty"`
}

// NoExpectations reports whether the verification checked no expectations
// (NoExpectationsUnsafe): such a result must never become a PASSED VSA.
func (r *Result) NoExpectations() bool { return slices.Contains(r.Insecure, InsecureNoExpectations) }

// Names of the loosening options in Result.Insecure, as the command-line
// flags name them.
const (
	InsecureNoExpectations   = "insecure-no-expectations"
	InsecureUncertified      = "min-level-0"
	InsecureLegacyPredicate  = "insecure-allow-legacy-predicate"
	InsecureIgnoreCertExpiry = "insecure-ignore-certification-expiry"
)

func (o *VerifyOptions) insecure() []string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{
		{o.NoExpectationsUnsafe && o.Policy == nil && o.Expect == nil && o.TOFU == nil, InsecureNoExpectations},
		{o.AllowUncertifiedUnsafe && o.MinLevel < 1, InsecureUncertified},
		{o.AllowLegacyPredicateUnsafe, InsecureLegacyPredicate},
		{o.IgnoreCertificationAtVerifyTimeUnsafe, InsecureIgnoreCertExpiry},
	} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return out
}

// Verify checks provenance (a DSSE envelope or JSON Lines of envelopes)
// against the roots of trust, for the given artifacts, following the SLSA
// verification procedure. It passes when one document passes every check;
// fields are never combined across documents. The error wraps the sentinel
// of the failure (errors.Join of each document's failure when several).
func Verify(ctx context.Context, roots *Roots, provenance []byte, artifacts []*Artifact, o VerifyOptions) (*Result, error) {
	res := &Result{Passing: -1, Package: o.Package, Documents: []Document{}, Insecure: o.insecure()}
	for _, a := range artifacts {
		res.Artifacts = append(res.Artifacts, a.Name)
	}
	o.budget = attest.NewIndexedSignatureBudget(roots.keys, roots.keyByFP)
	defer func() { res.SignatureChecks = o.budget.Used }()
	fail := func(err error) (*Result, error) {
		res.Error = safetext.Term(err.Error())
		return res, err
	}
	if o.At.IsZero() {
		return fail(errors.New("verify: no verification time"))
	}
	if len(artifacts) == 0 {
		return fail(ErrNoArtifacts)
	}
	if len(bytes.TrimSpace(provenance)) == 0 {
		return fail(fmt.Errorf("%w: the provenance file is empty", ErrNoProvenance))
	}
	var pkg *PackagePolicy
	kinds := make([]string, 0, 2)
	switch {
	case o.Policy != nil:
		kinds = append(kinds, fmt.Sprintf("policy, package %s", o.Package))
	case o.Expect != nil:
		if err := o.Expect.Validate(); err != nil {
			return fail(err)
		}
		kinds = append(kinds, o.Expect.describe())
	}
	if o.TOFU != nil {
		kinds = append(kinds, "trust on first use, package "+o.Package)
	}
	if o.Policy != nil && o.Expect != nil {
		return fail(fmt.Errorf("%w: give a policy or inline expectations, not both", ErrNoExpectations))
	}
	if len(kinds) == 0 {
		if !o.NoExpectationsUnsafe {
			return fail(fmt.Errorf("%w: expected a policy, a trust-on-first-use store or inline expectations (source repository, builder, buildType) to check the provenance against, got none", ErrNoExpectations))
		}
		kinds = []string{"none (insecure: no expectations were checked)"}
	}
	res.Expectations = safetext.Term(strings.Join(kinds, "; "))
	if o.Policy != nil {
		if o.Package == "" {
			return fail(fmt.Errorf("%w: a policy is given but no package name", ErrUnknownPackage))
		}
		pp, ok := o.Policy.Packages[o.Package]
		if !ok {
			return fail(fmt.Errorf("%w: %q (the policy has %s)", ErrUnknownPackage, o.Package, strings.Join(sortedKeys(o.Policy.Packages), ", ")))
		}
		pkg = &pp
	}
	docs, err := splitDocuments(provenance)
	if err != nil {
		return fail(err)
	}
	var errs []error
	var chain *supplyChain
	for i, raw := range docs {
		d := verifyDocument(ctx, roots, raw, artifacts, pkg, o)
		d.Index = i
		if d.Passed && pkg != nil && (pkg.Source != nil || pkg.Dependencies != nil) {
			// The source and dependencies of this document, never of
			// another: fields are not combined across documents.
			if chain == nil {
				chain = newSupplyChain(ctx, roots, o, res)
			}
			chain.reset()
			if pkg.Source != nil {
				chain.checkSource(&d, d.provenance, pkg.Source)
			}
			if pkg.Dependencies != nil && d.err == nil {
				chain.checkDependencies(&d, d.provenance, pkg.Dependencies)
			}
			d.Passed = d.err == nil
			if !d.Passed {
				res.VSAs, res.DependencyProvenance, res.DependencyLevels = nil, nil, nil
			}
		}
		res.Documents = append(res.Documents, d)
		if o.InputDigests {
			res.InputDigests = append(res.InputDigests, sha256Hex(raw))
		}
		if d.Passed {
			res.Passed, res.Passing, res.Level = true, i, d.Level
			break
		}
		errs = append(errs, d.err)
	}
	if !res.Passed {
		if len(errs) == 1 {
			return fail(errs[0])
		}
		return fail(fmt.Errorf("none of the %d provenance documents passed: %w", len(errs), documentErrors(errs)))
	}
	if o.TOFU != nil {
		d := &res.Documents[res.Passing]
		c := o.TOFU.check(o.Package, d.provenance, pkg, o.At)
		d.add(c)
		if !c.Passed {
			res.Passed, res.Passing = false, -1
			return fail(c.err)
		}
	}
	return res, nil
}

// documentErrors is every document's failure, on one line (errors.Join's
// newlines would reach a terminal escaped), each still found by errors.Is.
type documentErrors []error

func (e documentErrors) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = fmt.Sprintf("document %d: %v", i+1, err)
	}
	return strings.Join(parts, "; ")
}

func (e documentErrors) Unwrap() []error { return e }

// add records a check. Its texts quote the input (keyids, types, builder
// ids, parameter values, SANs), so they are escaped here, once, for every
// report: text, JSON, batch lines, the server.
func (d *Document) add(c Check) {
	c.ID, c.Expected, c.Found = safetext.Term(c.ID), safetext.Term(c.Expected), safetext.Term(c.Found)
	if c.err != nil {
		c.Error = safetext.Term(c.err.Error())
	}
	d.Checks = append(d.Checks, c)
	if !c.Passed && d.err == nil {
		d.err = c.err
	}
}

func pass(id, expected, found string) Check {
	return Check{ID: id, Passed: true, Expected: expected, Found: found}
}

func failed(id, expected, found string, err error) Check {
	return Check{ID: id, Expected: expected, Found: found, err: err}
}

func verifyDocument(ctx context.Context, roots *Roots, raw []byte, artifacts []*Artifact, pkg *PackagePolicy, o VerifyOptions) (d Document) {
	d.Checks = make([]Check, 0, 12)
	defer func() { d.Passed = d.err == nil }()

	var payload []byte
	var signer Signer
	var signedAt time.Time
	// An envelope in plain form has DSSE's members only: it is not a
	// bundle, and is read once. Anything else is a bundle or an envelope
	// the strict decoder reads.
	env, plain, err := attest.ParsePlainEnvelope(raw)
	var bundle bool
	if !plain {
		var b *parsedBundle
		if bundle, b, err = readBundle(raw); bundle {
			sv, ok := verifyBundle(ctx, &d, b, err, roots, o)
			if !ok {
				return d
			}
			payload, signer, signedAt = sv.payload, sv.signer, sv.signedAt
		} else {
			env, err = attest.ParseEnvelope(raw)
		}
	}
	if !bundle {
		if err != nil {
			if !errors.Is(err, ErrMalformedEnvelope) {
				err = fmt.Errorf("%w: %v", ErrMalformedEnvelope, err)
			}
			d.add(failed("envelope", "a DSSE envelope or Sigstore bundle", "", err))
			return d
		}
		if env.PayloadType != InTotoPayloadType {
			d.add(failed("payload-type", InTotoPayloadType, env.PayloadType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPayloadType, InTotoPayloadType, trunc(env.PayloadType))))
			return d
		}
		p, key, err := attest.VerifyEnvelopeBudget(ctx, env, InTotoPayloadType, roots.Keys(), o.budget)
		if err != nil {
			d.add(signatureFailure(env, roots, err))
			return d
		}
		payload, signer = p, Signer{KeyFingerprint: key.Fingerprint}
		d.add(pass("signature", "a key in the roots of trust", key.Fingerprint))
	}
	verifyStatement(&d, roots, payload, signer, signedAt, artifacts, pkg, o)
	return d
}

// verifyStatement checks a verified payload signed by signer; signedAt is
// the verified signing time of keyless provenance (zero for keys).
func verifyStatement(d *Document, roots *Roots, payload []byte, signer Signer, signedAt time.Time, artifacts []*Artifact, pkg *PackagePolicy, o VerifyOptions) {
	d.PayloadDigest = sha256Hex(payload)

	// From here on only the verified payload is read.
	// One pass for the common case (provenance v1 in plain form): the
	// strict decoder's reading and the in-toto library's at once.
	// Otherwise the strict decoder reads it (duplicate and case-variant
	// names refused, unknown members ignored, as in-toto requires), in one
	// decoding for provenance v1, or with the predicate kept raw and
	// decoded by type below; and the in-toto library reads it too.
	st, prov, inTotoRead := readStatementFast(payload)
	var provErr error
	decoded := inTotoRead
	if !decoded {
		// Read in full: provenance v1 in one decoding, or the statement
		// with its predicate kept raw.
		var v1 statementV1
		if strictjson.UnmarshalOpen(payload, &v1) == nil && v1.PredicateType == ProvenanceV1 {
			st = statement{Type: v1.Type, Subject: v1.Subject, PredicateType: v1.PredicateType}
			prov, provErr = v1.Predicate.provenance(ProvenanceV1)
			decoded = true
		}
	}
	if !decoded {
		if err := strictjson.UnmarshalOpen(payload, &st); err != nil {
			d.add(failed("statement", "an in-toto statement", "", fmt.Errorf("%w: %w", ErrMalformedStatement, err)))
			return
		}
	}
	if st.Type != StatementV1 && st.Type != StatementV01 {
		d.add(failed("statement", StatementV1, st.Type, fmt.Errorf("%w: expected %q, got %q", ErrUnknownStatementType, StatementV1, trunc(st.Type))))
		return
	}
	d.add(pass("statement", StatementV1, st.Type))

	wantPred := ProvenanceV1
	if st.PredicateType != ProvenanceV1 && !(o.AllowLegacyPredicateUnsafe && st.PredicateType == ProvenanceV02) {
		d.add(failed("predicate-type", wantPred, st.PredicateType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPredicateType, wantPred, trunc(st.PredicateType))))
		return
	}
	d.add(pass("predicate-type", wantPred, st.PredicateType))

	d.add(checkSubjects(st.Subject, artifacts))

	if !decoded {
		prov, provErr = parseProvenance(st.PredicateType, st.Predicate)
	}
	if provErr != nil {
		d.add(failed("provenance", "SLSA provenance with builder.id and buildType", "", provErr))
		return
	}
	// Other in-toto tools must read the same statement: the in-toto
	// attestation library parses and validates it too.
	if d.err == nil && !inTotoRead {
		if err := inTotoAccepts(payload, st.PredicateType == ProvenanceV1); err != nil {
			d.add(failed("in-toto", "a statement the in-toto attestation library accepts", "", err))
			return
		}
	}
	d.provenance = prov
	d.BuilderID, d.BuildType = prov.BuilderID, prov.BuildType

	required := o.MinLevel
	if required < 1 && !o.AllowUncertifiedUnsafe {
		required = 1
	}
	if pkg != nil && pkg.MinLevel != nil {
		required = max(required, *pkg.MinLevel)
	}
	if err := checkTimes(prov, signedAt, o.At); err != nil {
		d.add(failed("build-time", "startedOn <= finishedOn <= signing time <= verification time", "", err))
		return
	}
	buildTime := prov.BuildTime()
	if buildTime.IsZero() {
		// No time in the provenance: a verified Sigstore signing time
		// (transparency log or timestamp authority) bounds the build.
		buildTime = signedAt
	}
	lr, lerr := roots.Lookup(signer, prov.BuilderID, buildTime, o.At, !o.IgnoreCertificationAtVerifyTimeUnsafe)
	if lerr == nil && !signedAt.IsZero() && !lr.Entry.Contains(signedAt) {
		// The provenance's own times are claims; the verified signing time
		// is not, and it must lie inside the certified window too.
		lerr = fmt.Errorf("%w: signed at %s (verified), outside the certified window %s to %s (level 0)", ErrSigningTimeOutsideWindow,
			signedAt.UTC().Format(time.RFC3339), lr.Entry.ValidFrom.Format(time.RFC3339), lr.Entry.ValidUntil.Format(time.RFC3339))
		lr = LookupResult{}
	}
	if lerr == nil && lr.Entry != nil && lr.Entry.Signer.RequireTimestamp && signedAt.IsZero() {
		lerr = fmt.Errorf("%w: the roots require a transparency-log entry or signed timestamp with signatures by %s, and this provenance has none (level 0)", ErrNoVerifiedTimestamp, signer.KeyFingerprint)
		lr = LookupResult{}
	}
	d.Level = lr.Level
	switch {
	case lerr != nil && (errors.Is(lerr, ErrSignerNotPaired) || errors.Is(lerr, ErrUnknownSigner) || required >= 1):
		d.add(failed("builder", "builder.id certified for this signer in the roots of trust", prov.BuilderID, lerr))
	case lerr != nil:
		// --min-level 0: an uncertified builder accepted explicitly.
		d.add(pass("builder", "any builder (minimum level 0)", prov.BuilderID+" (level 0: "+lerr.Error()+")"))
	default:
		d.add(pass("builder", "builder.id certified for this signer in the roots of trust", prov.BuilderID+" ("+lr.Reason+")"))
	}
	if lr.Level < required {
		d.add(failed("level", slsaBuild(required), slsaBuild(lr.Level), fmt.Errorf("%w: expected %s, the roots grant %s to %s", ErrLevelTooLow, required, lr.Level, prov.BuilderID)))
	} else {
		d.add(pass("level", slsaBuild(required), slsaBuild(lr.Level)))
	}
	switch {
	case pkg != nil:
		checkExpectations(d, prov, pkg)
	case o.Expect != nil:
		checkInline(d, prov, o.Expect)
	}
}

// slsaBuild names a level as checks do: "SLSA Build L2".
func slsaBuild(l questionnaire.Level) string {
	if l >= 0 && int(l) < len(slsaBuildNames) {
		return slsaBuildNames[l]
	}
	return "SLSA Build " + l.String()
}

var slsaBuildNames = [...]string{"SLSA Build L0", "SLSA Build L1", "SLSA Build L2", "SLSA Build L3"}

func signatureFailure(env *attest.Envelope, roots *Roots, err error) Check {
	if errors.Is(err, ErrMalformedEnvelope) {
		return failed("signature", "", "", err)
	}
	if errors.Is(err, ErrTooManySignatureChecks) {
		return failed("signature", "a signature whose keyid names a key in the roots, or few signatures", fmt.Sprintf("%d signatures", len(env.Signatures)), err)
	}
	// keyids are hints: a signature that names a roots key but does not
	// verify was tampered with; otherwise the signer is unknown.
	for _, s := range env.Signatures {
		if _, ok := roots.keyByFP[s.KeyID]; ok {
			return failed("signature", "a valid signature by "+s.KeyID, "a signature that does not verify", fmt.Errorf("%w: keyid %s is in the roots of trust, but its signature does not verify over this payload", ErrBadSignature, s.KeyID))
		}
	}
	ids := make([]string, len(env.Signatures))
	for i, s := range env.Signatures {
		ids[i] = s.KeyID
	}
	return failed("signature", "a key in the roots of trust", "keyids "+strings.Join(ids, ", "), fmt.Errorf("%w: no key in the roots of trust verifies any of the %d signatures", ErrUnknownSigner, len(env.Signatures)))
}

func checkSubjects(subjects []subject, artifacts []*Artifact) Check {
	if len(subjects) == 0 {
		return failed("subject", "at least one subject", "none", fmt.Errorf("%w: expected at least one subject with a digest, got none", ErrNoSubject))
	}
	if len(subjects) > MaxSubjects {
		return failed("subject", "", "", fmt.Errorf("%w: more than %d subjects", ErrMalformedStatement, MaxSubjects))
	}
	supported := false
	for i, s := range subjects {
		if len(s.Digest) == 0 {
			return failed("subject", "a digest on every subject", fmt.Sprintf("subject %d without digest", i), fmt.Errorf("%w: expected a digest on every subject, subject %d (%q) has none", ErrSubjectWithoutDigest, i, trunc(s.Name)))
		}
		for _, alg := range digestAlgorithms {
			if _, ok := s.Digest[alg]; ok {
				supported = true
			}
		}
	}
	if !supported {
		algs := map[string]bool{}
		for _, s := range subjects {
			for alg := range s.Digest {
				algs[alg] = true
			}
		}
		found := strings.Join(sortedKeys(algs), ", ")
		return failed("subject", "sha256 or sha512 digests", found, fmt.Errorf("%w: expected sha256 or sha512 subject digests, got only %s (md5 is never accepted)", ErrNoSupportedDigest, found))
	}
	var found []string
	for _, a := range artifacts {
		matched, err := matchArtifact(a, subjects)
		if err != nil {
			return failed("subject", "", "", err)
		}
		if matched == "" {
			d, _ := a.Digest("sha256")
			return failed("subject", "a subject with the artifact's digest", fmt.Sprintf("%s has sha256:%s", a.Name, d),
				fmt.Errorf("%w: %s (sha256:%s) is not among the %d subjects", ErrSubjectMismatch, a.Name, d, len(subjects)))
		}
		found = append(found, matched)
	}
	return pass("subject", "every artifact's digest among the subjects", strings.Join(found, ", "))
}

// matchArtifact returns "alg:digest" of the first subject digest equal to
// the artifact's, trying sha256 first and sha512 only when needed.
func matchArtifact(a *Artifact, subjects []subject) (string, error) {
	for _, alg := range []string{"sha256", "sha512"} {
		wanted := false
		for _, s := range subjects {
			if _, ok := s.Digest[alg]; ok {
				wanted = true
				break
			}
		}
		if !wanted {
			continue
		}
		d, err := a.Digest(alg)
		if err != nil {
			return "", err
		}
		for _, s := range subjects {
			if s.Digest[alg] == d { // lowercase hex only
				return alg + ":" + d, nil
			}
		}
	}
	return "", nil
}

func checkExpectations(d *Document, prov *Provenance, pkg *PackagePolicy) {
	// A parsed policy always names builders and buildTypes.
	d.add(matchOne("policy-builder", pkg.BuilderIDs, prov.BuilderID, ErrBuilderNotAllowed))
	d.add(matchOne("build-type", pkg.BuildTypes, prov.BuildType, ErrBuildTypeMismatch))
	ext, internal, err := prov.Parameters()
	if err != nil {
		d.add(failed("external-parameters", "JSON objects", "", err))
		return
	}
	d.add(checkParameters("external-parameters", any(ext), pkg.ExternalParameters, pkg.IgnoreParameters, true))
	if len(pkg.InternalParameters) > 0 {
		d.add(checkParameters("internal-parameters", any(internal), pkg.InternalParameters, nil, false))
	}
}

// checkParameters compares parameters with matchers. With strict, every
// parameter must be covered by a matcher or ignored.
func checkParameters(id string, params any, matchers map[string]Matcher, ignore []string, strict bool) Check {
	mismatch := ErrParameterMismatch
	missing := ErrMissingParameter
	if !strict {
		mismatch, missing = ErrInternalParameter, ErrInternalParameter
	}
	for _, k := range sortedKeys(matchers) {
		m := matchers[k]
		v, ok := lookupPointer(params, k)
		if !ok {
			return failed(id+":"+k, plainJSON(m.describe()), "absent", fmt.Errorf("%w: %s: expected %s, not present", missing, k, m.describe()))
		}
		okm, err := m.match(v)
		if err != nil || !okm {
			fv, _ := json.Marshal(v)
			sentinel := mismatch
			if m.Pattern != "" && strict {
				sentinel = ErrRefNotAllowed
			}
			return failed(id+":"+k, plainJSON(m.describe()), plainJSON(string(fv)), fmt.Errorf("%w: %s: expected %s, got %s", sentinel, k, m.describe(), trunc(string(fv))))
		}
	}
	if strict {
		flat := map[string]any{}
		leaves("", params, flat)
		for _, p := range sortedKeys(flat) {
			if !coveredBy(p, sortedKeys(matchers)) && !coveredBy(p, ignore) {
				fv, _ := json.Marshal(flat[p])
				return failed(id, "only the parameters the policy names", p+"="+trunc(string(fv)), fmt.Errorf("%w: %s (not in the policy and not ignored)", ErrUnexpectedParameter, p))
			}
		}
	}
	return pass(id, fmt.Sprintf("%d expected, others refused", len(matchers)), "as expected")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func trunc(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// verifyBundle verifies a Sigstore bundle (a document readBundle found to
// be one, with what it read) and adds its checks.
func verifyBundle(ctx context.Context, d *Document, b *parsedBundle, err error, roots *Roots, o VerifyOptions) (*sigstoreVerified, bool) {
	if err == nil && isKeySigned(b) {
		return verifyKeySignedBundle(ctx, d, b, roots, o)
	}
	if o.Sigstore == nil {
		d.add(failed("sigstore", "a Sigstore trusted root", "none", fmt.Errorf("%w: no Sigstore trusted root configured", ErrSigstoreVerification)))
		return nil, false
	}
	if err != nil {
		d.add(failed("bundle", "a Sigstore bundle v0.1-v0.3", "", err))
		return nil, false
	}
	sv, err := verifySigstoreEntity(b, o.Sigstore)
	if err != nil {
		d.add(failed("signature", "a Sigstore signature verified offline against the "+o.Sigstore.Description, "", err))
		return nil, false
	}
	if sv.payloadType != InTotoPayloadType {
		d.add(failed("payload-type", InTotoPayloadType, sv.payloadType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPayloadType, InTotoPayloadType, trunc(sv.payloadType))))
		return nil, false
	}
	d.add(pass("signature", "certificate chain, SCT and transparency log or timestamp ("+o.Sigstore.Description+")",
		sv.extensions+", signed "+sv.signedAt.UTC().Format(time.RFC3339)))
	return sv, true
}

// verifyKeySignedBundle verifies a bundle signed with a key (cosign v3
// --new-bundle-format --key): its envelope as a plain DSSE envelope with the
// roots' keys, then the log entries and timestamps it carries.
func verifyKeySignedBundle(ctx context.Context, d *Document, b verify.SignedEntity, roots *Roots, o VerifyOptions) (*sigstoreVerified, bool) {
	env, err := bundleEnvelope(b)
	if err != nil {
		d.add(failed("envelope", "a DSSE envelope in the bundle", "", err))
		return nil, false
	}
	if env.PayloadType != InTotoPayloadType {
		d.add(failed("payload-type", InTotoPayloadType, env.PayloadType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPayloadType, InTotoPayloadType, trunc(env.PayloadType))))
		return nil, false
	}
	payload, key, err := attest.VerifyEnvelopeBudget(ctx, env, InTotoPayloadType, roots.Keys(), o.budget)
	if err != nil {
		d.add(signatureFailure(env, roots, err))
		return nil, false
	}
	at, err := keyBundleSignedAt(b, key, o.Sigstore)
	if err != nil {
		d.add(failed("signature", "transparency-log entries and timestamps that verify", "", err))
		return nil, false
	}
	found := key.Fingerprint + " (key-signed Sigstore bundle)"
	if !at.IsZero() {
		found += ", signed " + at.UTC().Format(time.RFC3339)
	}
	d.add(pass("signature", "a key in the roots of trust", found))
	return &sigstoreVerified{payloadType: env.PayloadType, payload: payload, signer: Signer{KeyFingerprint: key.Fingerprint}, signedAt: at}, true
}
