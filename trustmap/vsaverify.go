package trustmap

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	vsa1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// MaxVSABytes bounds one VSA file.
const MaxVSABytes = 4 << 20

// VSAInput is one VSA document as given (a DSSE envelope or a Sigstore
// bundle); Name is where it came from (a file name, a registry reference).
type VSAInput struct {
	Name string
	Raw  []byte
}

// LevelRequirement is a verified level or property a VSA must carry:
// SLSA_<TRACK>_LEVEL_<n> (a higher level of the track implies it), or any
// other verifiedLevels value (SLSA_SOURCE_TWO_PARTY_REVIEWED, an
// organisation-defined level), which must be present as it is.
type LevelRequirement struct {
	Name  string
	Track string // "" for a property
	Level int
}

// ParseLevelRequirement reads "SLSA_BUILD_LEVEL_3" or a property name;
// "3" and "L3" are SLSA_BUILD_LEVEL_3, as levels are written elsewhere.
func ParseLevelRequirement(s string) (LevelRequirement, error) {
	if m := shortLevel().FindStringSubmatch(s); m != nil {
		s = "SLSA_BUILD_LEVEL_" + m[1]
	}
	if track, l, ok := parseLevelName(s); ok {
		if l < 1 {
			return LevelRequirement{}, fmt.Errorf("level %s: expected a level of 1 or more to require, got %s", safetext.Quote(s), map[bool]string{true: "UNEVALUATED", false: "0"}[l < 0])
		}
		return LevelRequirement{Name: s, Track: track, Level: l}, nil
	}
	if s == "FAILED" || !requiredProperty().MatchString(s) {
		return LevelRequirement{}, fmt.Errorf("level %s: expected SLSA_<TRACK>_LEVEL_<n> (SLSA_BUILD_LEVEL_3, SLSA_SOURCE_LEVEL_2) or a property such as SLSA_SOURCE_TWO_PARTY_REVIEWED", safetext.Quote(s))
	}
	return LevelRequirement{Name: s}, nil
}

var shortLevel = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[Ll]?([0-9])$`) })

// requiredProperty is a verifiedLevels value one may require: upper-case
// words joined by underscores (SLSA_SOURCE_TWO_PARTY_REVIEWED).
var requiredProperty = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`) })

// VerifyVSAOptions are what a VSA is checked against.
type VerifyVSAOptions struct {
	// At is the verification time. Required.
	At time.Time
	// MaxAge is how old timeVerified may be at At. Required (above 0).
	MaxAge time.Duration
	// ResourceURI is the resourceUri the VSA must carry, exactly.
	ResourceURI string
	// Levels are required, each.
	Levels []LevelRequirement
	// Sigstore is the trusted material for VSAs in Sigstore bundles.
	Sigstore *SigstoreTrust
}

// VSAResult is the outcome of VerifyVSA.
type VSAResult struct {
	Passed         bool      `json:"passed"`
	Resource       string    `json:"resource"`
	ResourceURI    string    `json:"resourceUri"`
	Required       []string  `json:"required"`
	VerifierID     string    `json:"verifierId,omitempty"`
	TimeVerified   time.Time `json:"timeVerified,omitzero"`
	VerifiedLevels []string  `json:"verifiedLevels,omitempty"`
	PayloadDigest  string    `json:"payloadDigest,omitempty"`
	// Trust is where the verifier's trust came from: the roots (and the
	// certifier), or a key or identity given directly.
	Trust  string  `json:"trust,omitempty"`
	Checks []Check `json:"checks"`
	Error  string  `json:"error,omitempty"`
}

// vsaStatement is a VSA statement as the strict decoder reads it.
type vsaStatement struct {
	Type          string       `json:"_type"`
	Subject       []subject    `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     vsaPredicate `json:"predicate"`
}

// vsaPredicate holds the VSA v1.0 and v1.1 fields a verifier reads; others
// are ignored, as in-toto requires.
type vsaPredicate struct {
	Verifier struct {
		ID      string            `json:"id"`
		Version map[string]string `json:"version"`
	} `json:"verifier"`
	TimeVerified       *time.Time `json:"timeVerified"`
	ResourceURI        string     `json:"resourceUri"`
	Policy             *VSARef    `json:"policy"`
	VerificationResult string     `json:"verificationResult"`
	VerifiedLevels     []string   `json:"verifiedLevels"`
	SLSAVersion        string     `json:"slsaVersion"`
}

// vsaClaim is a VSA whose signature, statement and verifier were checked;
// what it says about its subject is checked by covers.
type vsaClaim struct {
	name          string
	payloadDigest string
	subjects      []subject
	pred          vsaPredicate
	levels        map[string]int // track -> level, -1 for UNEVALUATED
	properties    map[string]bool
	set           *VerifierSet
	verifiers     []int // trusted verifiers this VSA's signer and verifier.id match
}

// readVSA checks what does not depend on the resource: the signature by a
// trusted verifier, the statement and predicate, the verifier.id against
// the signer, the verifier's window and the VSA's age.
func readVSA(ctx context.Context, set *VerifierSet, in VSAInput, o VerifyVSAOptions, d *Document) *vsaClaim {
	if set.Len() == 0 {
		d.add(failed("verifier", "a trusted verifier (roots verifiers, or --key/--certificate-identity)", "none", fmt.Errorf("%w: no verifiers are trusted: the roots have none", ErrVSAUntrustedVerifier)))
		return nil
	}
	if len(in.Raw) > MaxVSABytes {
		d.add(failed("envelope", fmt.Sprintf("at most %d bytes", MaxVSABytes), fmt.Sprintf("%d bytes", len(in.Raw)), fmt.Errorf("%w: %s is larger than %d bytes", ErrMalformedVSA, safetext.Term(in.Name), MaxVSABytes)))
		return nil
	}
	raw := bytes.TrimSpace(in.Raw)
	if len(raw) == 0 {
		d.add(failed("envelope", "a DSSE envelope or Sigstore bundle", "an empty file", fmt.Errorf("%w: %s is empty", ErrNoVSA, safetext.Term(in.Name))))
		return nil
	}
	var payload []byte
	var signer Signer
	if bundle, b, err := readBundle(raw); bundle {
		if err != nil {
			d.add(failed("bundle", "a Sigstore bundle v0.1-v0.3", "", err))
			return nil
		}
		if isKeySigned(b) {
			env, err := bundleEnvelope(b)
			if err != nil {
				d.add(failed("envelope", "a DSSE envelope in the bundle", "", err))
				return nil
			}
			p, key, ok := verifyVSAEnvelope(ctx, d, env, set)
			if !ok {
				return nil
			}
			if _, err := keyBundleSignedAt(b, key, o.Sigstore); err != nil {
				d.add(failed("signature", "transparency-log entries and timestamps that verify", "", err))
				return nil
			}
			payload, signer = p, Signer{KeyFingerprint: key.Fingerprint}
		} else {
			p, sg, ok := verifyVSAEntity(d, b, o)
			if !ok {
				return nil
			}
			payload, signer = p, sg
		}
	} else {
		env, err := attest.ParseEnvelope(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedEnvelope) {
				err = fmt.Errorf("%w: %v", ErrMalformedEnvelope, err)
			}
			d.add(failed("envelope", "a DSSE envelope or Sigstore bundle", "", err))
			return nil
		}
		p, key, ok := verifyVSAEnvelope(ctx, d, env, set)
		if !ok {
			return nil
		}
		payload, signer = p, Signer{KeyFingerprint: key.Fingerprint}
	}
	return readVSAStatement(set, in.Name, payload, signer, o, d)
}

// verifyVSAEntity verifies a keyless VSA (a Sigstore bundle) offline.
func verifyVSAEntity(d *Document, entity verify.SignedEntity, o VerifyVSAOptions) ([]byte, Signer, bool) {
	if o.Sigstore == nil {
		d.add(failed("sigstore", "a Sigstore trusted root", "none", fmt.Errorf("%w: no Sigstore trusted root configured", ErrSigstoreVerification)))
		return nil, Signer{}, false
	}
	sv, err := verifySigstoreEntity(entity, o.Sigstore)
	if err != nil {
		d.add(failed("signature", "a Sigstore signature verified offline against the "+o.Sigstore.Description, "", err))
		return nil, Signer{}, false
	}
	if sv.payloadType != InTotoPayloadType {
		d.add(failed("payload-type", InTotoPayloadType, sv.payloadType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPayloadType, InTotoPayloadType, trunc(sv.payloadType))))
		return nil, Signer{}, false
	}
	d.add(pass("signature", "a Sigstore certificate ("+o.Sigstore.Description+")", sv.signer.SAN+" (issuer "+sv.signer.OIDCIssuer+")"))
	return sv.payload, sv.signer, true
}

// readVSAStatement reads a verified VSA payload signed by signer.
func readVSAStatement(set *VerifierSet, name string, payload []byte, signer Signer, o VerifyVSAOptions, d *Document) *vsaClaim {
	c := &vsaClaim{name: name, set: set}
	c.payloadDigest = sha256Hex(payload)
	d.PayloadDigest = c.payloadDigest

	// Only the verified payload is read from here on, with one reading.
	var st vsaStatement
	if err := strictjson.UnmarshalOpen(payload, &st); err != nil {
		d.add(failed("statement", "an in-toto statement", "", fmt.Errorf("%w: %w", ErrMalformedStatement, err)))
		return nil
	}
	if st.Type != StatementV1 && st.Type != StatementV01 {
		d.add(failed("statement", StatementV1, st.Type, fmt.Errorf("%w: expected %q, got %q", ErrUnknownStatementType, StatementV1, trunc(st.Type))))
		return nil
	}
	if st.PredicateType != VSAPredicateType {
		d.add(failed("predicate-type", VSAPredicateType, st.PredicateType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPredicateType, VSAPredicateType, trunc(st.PredicateType))))
		return nil
	}
	d.add(pass("predicate-type", VSAPredicateType, st.PredicateType))
	if err := inTotoParseVSA(payload); err != nil {
		d.add(failed("in-toto", "a statement the in-toto attestation library accepts", "", err))
		return nil
	}
	if err := checkVSAShape(&st); err != nil {
		d.add(failed("vsa", "verifier.id, timeVerified, resourceUri, verificationResult and one level per track", "", err))
		return nil
	}
	c.subjects, c.pred = st.Subject, st.Predicate
	c.levels, c.properties = map[string]int{}, map[string]bool{}
	for _, l := range c.pred.VerifiedLevels {
		if track, n, ok := parseLevelName(l); ok {
			c.levels[track] = n
		} else {
			c.properties[l] = true
		}
	}
	p := &c.pred

	// The verifier: the signer must be trusted as the verifier the VSA
	// names, at the time it verified and now.
	cands := set.candidates(signer)
	who := signer.KeyFingerprint
	if who == "" {
		who = signer.SAN + " (issuer " + signer.OIDCIssuer + ")"
	}
	if len(cands) == 0 {
		d.add(failed("verifier", "a signer trusted as a verifier", who, fmt.Errorf("%w: expected a signature by a trusted verifier, got %s", ErrVSAUntrustedVerifier, safetext.Term(who))))
		return nil
	}
	var ids []string
	var named []int
	for _, i := range cands {
		ids = append(ids, set.verifiers[i].ID)
		if set.verifiers[i].ID == p.Verifier.ID {
			named = append(named, i)
		}
	}
	if len(named) == 0 {
		d.add(failed("verifier", strings.Join(ids, " | "), p.Verifier.ID, fmt.Errorf("%w: %s is trusted as %s, but the VSA names verifier.id %s", ErrVSAVerifierMismatch, safetext.Term(who), safetext.Term(strings.Join(ids, ", ")), safetext.Quote(p.Verifier.ID))))
		return nil
	}
	tv := *p.TimeVerified
	var windowErr error
	for _, i := range named {
		v := &set.verifiers[i]
		switch {
		case !v.Contains(tv):
			windowErr = fmt.Errorf("%w: %s is trusted from %s to %s, the VSA was verified at %s", ErrVSAUntrustedVerifier, safetext.Term(v.ID), v.ValidFrom.Format(time.RFC3339), v.ValidUntil.Format(time.RFC3339), tv.UTC().Format(time.RFC3339))
		case !v.Contains(o.At):
			windowErr = fmt.Errorf("%w: %s is trusted from %s to %s, checked at %s", ErrVSAUntrustedVerifier, safetext.Term(v.ID), v.ValidFrom.Format(time.RFC3339), v.ValidUntil.Format(time.RFC3339), o.At.UTC().Format(time.RFC3339))
		default:
			c.verifiers = append(c.verifiers, i)
		}
	}
	if len(c.verifiers) == 0 {
		d.add(failed("verifier", "a verifier trusted at timeVerified and now", p.Verifier.ID, windowErr))
		return nil
	}
	d.add(pass("verifier", "a signer trusted as the VSA's verifier.id", p.Verifier.ID+" ("+who+")"))

	switch age := o.At.Sub(tv); {
	case o.MaxAge <= 0:
		d.add(failed("time-verified", "a maximum age", "none", fmt.Errorf("%w: no maximum age given", ErrVSAStale)))
		return nil
	case age < 0:
		d.add(failed("time-verified", "at or before "+o.At.UTC().Format(time.RFC3339), tv.UTC().Format(time.RFC3339), fmt.Errorf("%w: timeVerified %s is after the verification time %s", ErrVSAStale, tv.UTC().Format(time.RFC3339), o.At.UTC().Format(time.RFC3339))))
		return nil
	case age > o.MaxAge:
		d.add(failed("time-verified", "within "+o.MaxAge.String(), tv.UTC().Format(time.RFC3339), fmt.Errorf("%w: timeVerified %s is %s old, expected at most %s", ErrVSAStale, tv.UTC().Format(time.RFC3339), age.Round(time.Second), o.MaxAge)))
		return nil
	}
	d.add(pass("time-verified", "within "+o.MaxAge.String(), tv.UTC().Format(time.RFC3339)))
	return c
}

// verifyVSAEnvelope checks a DSSE envelope's signature with the trusted
// verifiers' keys (never the builders' keys).
func verifyVSAEnvelope(ctx context.Context, d *Document, env *attest.Envelope, set *VerifierSet) ([]byte, *attest.PublicKey, bool) {
	if env.PayloadType != InTotoPayloadType {
		d.add(failed("payload-type", InTotoPayloadType, env.PayloadType, fmt.Errorf("%w: expected %q, got %q", ErrWrongPayloadType, InTotoPayloadType, trunc(env.PayloadType))))
		return nil, nil, false
	}
	if len(set.Keys()) == 0 {
		d.add(failed("signature", "a key of a trusted verifier", "none", fmt.Errorf("%w: the VSA is signed with a key, and no trusted verifier has one", ErrVSAUntrustedVerifier)))
		return nil, nil, false
	}
	p, key, err := attest.VerifyEnvelopeBudget(ctx, env, InTotoPayloadType, set.Keys(), attest.NewSignatureBudget(set.Keys()))
	if err != nil {
		if errors.Is(err, ErrMalformedEnvelope) || errors.Is(err, ErrTooManySignatureChecks) {
			d.add(failed("signature", "a signature by a trusted verifier", "", err))
		} else {
			d.add(failed("signature", "a signature by a trusted verifier's key", fmt.Sprintf("%d signatures", len(env.Signatures)), fmt.Errorf("%w: no trusted verifier's key verifies any of the %d signatures", ErrVSAUntrustedVerifier, len(env.Signatures))))
		}
		return nil, nil, false
	}
	d.add(pass("signature", "a trusted verifier's key", key.Fingerprint))
	return p, key, true
}

// inTotoParseVSA reads the statement and its VSA predicate with the in-toto
// attestation library too, so that trustmap and other in-toto tools agree
// on what was signed.
func inTotoParseVSA(payload []byte) error {
	st, _, err := inTotoParse(payload, false)
	if err != nil {
		return err
	}
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	var p vsa1.VerificationSummary
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	return nil
}

// checkVSAShape checks the fields every VSA must have and that its levels
// are one reading: one level per track, FAILED only in a failed VSA.
func checkVSAShape(st *vsaStatement) error {
	p := &st.Predicate
	switch {
	case len(st.Subject) == 0:
		return fmt.Errorf("%w: expected at least one subject, got none", ErrNoSubject)
	case len(st.Subject) > MaxSubjects:
		return fmt.Errorf("%w: more than %d subjects", ErrMalformedVSA, MaxSubjects)
	case p.Verifier.ID == "":
		return fmt.Errorf("%w: verifier.id: expected the verifier's URI, got none", ErrMalformedVSA)
	case p.TimeVerified == nil || p.TimeVerified.IsZero() || p.TimeVerified.Unix() == 0:
		return fmt.Errorf("%w: timeVerified: expected the time of verification, got none", ErrMalformedVSA)
	case p.ResourceURI == "":
		return fmt.Errorf("%w: resourceUri: expected the URI of the verified resource, got none", ErrMalformedVSA)
	case p.VerificationResult != "PASSED" && p.VerificationResult != "FAILED":
		return fmt.Errorf("%w: verificationResult: expected PASSED or FAILED, got %s", ErrMalformedVSA, safetext.Quote(trunc(p.VerificationResult)))
	case len(p.VerifiedLevels) == 0:
		return fmt.Errorf("%w: verifiedLevels: expected at least one level, got none", ErrMalformedVSA)
	}
	for i, s := range st.Subject {
		if len(s.Digest) == 0 {
			return fmt.Errorf("%w: subject %d has no digest", ErrSubjectWithoutDigest, i)
		}
	}
	tracks := map[string]string{}
	for _, l := range p.VerifiedLevels {
		if l == "FAILED" {
			if p.VerificationResult == "PASSED" {
				return fmt.Errorf("%w: verifiedLevels has FAILED in a PASSED VSA", ErrMalformedVSA)
			}
			continue
		}
		track, _, ok := parseLevelName(l)
		if !ok {
			if !propertyName().MatchString(l) {
				return fmt.Errorf("%w: verifiedLevels: %s is not a level or property name", ErrMalformedVSA, safetext.Quote(trunc(l)))
			}
			continue
		}
		if prev, dup := tracks[track]; dup {
			return fmt.Errorf("%w: verifiedLevels: %s and %s are two levels of the %s track (one per track)", ErrMalformedVSA, prev, l, track)
		}
		tracks[track] = l
	}
	return nil
}

// subjectMatch reports "alg:digest" of a subject digest equal to one of
// want's (lowercase hex, no md5), or "". A subject that has one of want's
// algorithms with another value does not match, whatever else it has.
func subjectMatch(subjects []subject, want map[string]string) string {
	for _, s := range subjects {
		match, conflict := "", false
		for _, alg := range sortedKeys(want) {
			got, ok := s.Digest[alg]
			switch {
			case !ok || alg == "md5":
			case got == want[alg]:
				if match == "" {
					match = alg + ":" + got
				}
			default:
				conflict = true
			}
		}
		if match != "" && !conflict {
			return match
		}
	}
	return ""
}

// vsaTarget is what a VSA must be about.
type vsaTarget struct {
	// digests of the resource; artifact, when set, supplies sha256/sha512
	// on demand instead.
	digests  map[string]string
	artifact *Artifact
	// resourceURI must equal the VSA's resourceUri (or sameResource says
	// it names the same resource).
	resourceURI  string
	sameResource func(vsaURI string) bool
	levels       []LevelRequirement
}

// covers checks what the VSA says about target: subject, resourceUri,
// result, levels and the verifier's trust for them. It adds the checks to
// d and returns the first failure.
func (c *vsaClaim) covers(d *Document, t vsaTarget) error {
	_, err := c.coverLevel(d, t)
	return err
}

// coverLevel is covers, returning the level it grants on the track of the
// first required level: what the VSA says, never above what its verifier
// is trusted for.
func (c *vsaClaim) coverLevel(d *Document, t vsaTarget) (int, error) {
	first := func(ch Check) (int, error) {
		d.add(ch)
		return 0, ch.err
	}
	// Subject.
	if t.artifact != nil {
		m, err := matchArtifact(t.artifact, c.subjects)
		if err != nil {
			return first(failed("subject", "", "", err))
		}
		if m == "" {
			dg, _ := t.artifact.Digest("sha256")
			return first(failed("subject", "a subject with the artifact's digest", "sha256:"+dg,
				fmt.Errorf("%w: %s (sha256:%s) is not among the VSA's %d subjects", ErrSubjectMismatch, t.artifact.Name, dg, len(c.subjects))))
		}
		d.add(pass("subject", "the artifact's digest among the subjects", m))
	} else {
		m := subjectMatch(c.subjects, t.digests)
		if m == "" {
			want := describeDigests(t.digests)
			return first(failed("subject", want, describeSubjects(c.subjects), fmt.Errorf("%w: expected a subject with %s, got %s", ErrSubjectMismatch, want, describeSubjects(c.subjects))))
		}
		d.add(pass("subject", describeDigests(t.digests), m))
	}
	// Resource URI: what the user expects, and what the verifier may
	// vouch for.
	p := &c.pred
	same := p.ResourceURI == t.resourceURI || (t.sameResource != nil && t.sameResource(p.ResourceURI))
	if !same {
		return first(failed("resource-uri", t.resourceURI, p.ResourceURI, fmt.Errorf("%w: expected %s, got %s", ErrVSAResourceMismatch, safetext.Quote(t.resourceURI), safetext.Quote(p.ResourceURI))))
	}
	var trusted []int
	for _, i := range c.verifiers {
		if c.set.compiled[i].resource.MatchString(p.ResourceURI) {
			trusted = append(trusted, i)
		}
	}
	if len(trusted) == 0 {
		pats := make([]string, len(c.verifiers))
		for k, i := range c.verifiers {
			pats[k] = c.set.verifiers[i].ResourceURIRegexp
		}
		return first(failed("resource-uri", "a resource URI the verifier is trusted for", p.ResourceURI, fmt.Errorf("%w: %s is trusted for resource URIs matching %s, got %s", ErrVSAResourceNotTrusted, safetext.Term(p.Verifier.ID), safetext.Term(strings.Join(pats, " | ")), safetext.Quote(p.ResourceURI))))
	}
	d.add(pass("resource-uri", t.resourceURI, p.ResourceURI))
	if p.VerificationResult != "PASSED" {
		return first(failed("result", "PASSED", p.VerificationResult, fmt.Errorf("%w: expected PASSED, got %s (verifiedLevels %s)", ErrVSAFailed, safetext.Quote(p.VerificationResult), safetext.Term(strings.Join(p.VerifiedLevels, ", ")))))
	}
	d.add(pass("result", "PASSED", "PASSED"))
	// A verdict reached with a loosened check (trustmap writes one
	// HALLMARK_… property per --insecure option) vouches for nothing.
	for _, l := range p.VerifiedLevels {
		if strings.HasPrefix(l, loosenedPrefix) {
			return first(failed("result", "a verdict without loosened checks", l, fmt.Errorf("%w: expected a VSA reached with every check, got %s in verifiedLevels", ErrVSALoosened, safetext.Quote(l))))
		}
	}
	granted := 0
	for i, req := range t.levels {
		g, err := c.checkLevel(d, req, trusted)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			granted = g
		}
	}
	return granted, nil
}

// loosenedPrefix starts the verifiedLevels values trustmap writes for the
// loosening options a verdict used (HALLMARK_INSECURE_…, HALLMARK_MIN_LEVEL_0).
const loosenedPrefix = "HALLMARK_"

// checkLevel checks one required level against the VSA and the trust of
// its verifier.
func (c *vsaClaim) checkLevel(d *Document, req LevelRequirement, trusted []int) (int, error) {
	p := &c.pred
	id := "level:" + req.Name
	found := strings.Join(p.VerifiedLevels, ", ")
	if req.Track == "" {
		if !c.properties[req.Name] {
			ch := failed(id, req.Name, found, fmt.Errorf("%w: expected %s in verifiedLevels, got %s", ErrVSALevelTooLow, req.Name, safetext.Term(found)))
			d.add(ch)
			return 0, ch.err
		}
		for _, i := range trusted {
			if slices.Contains(c.set.verifiers[i].Properties, req.Name) {
				d.add(pass(id, req.Name, req.Name))
				return 0, nil
			}
		}
		ch := failed(id, "a verifier trusted for "+req.Name, p.Verifier.ID, fmt.Errorf("%w: %s is not trusted to vouch for %s", ErrVSAUntrustedTrack, safetext.Term(p.Verifier.ID), req.Name))
		d.add(ch)
		return 0, ch.err
	}
	got, ok := c.levels[req.Track]
	if !ok || got < req.Level {
		what := "no " + req.Track + " level"
		switch {
		case ok && got < 0:
			what = "SLSA_" + req.Track + "_LEVEL_UNEVALUATED"
		case ok:
			what = fmt.Sprintf("SLSA_%s_LEVEL_%d", req.Track, got)
		}
		ch := failed(id, req.Name+" or higher", found, fmt.Errorf("%w: expected %s or higher, got %s", ErrVSALevelTooLow, req.Name, what))
		d.add(ch)
		return 0, ch.err
	}
	best := 0
	for _, i := range trusted {
		best = max(best, c.set.verifiers[i].Levels[req.Track])
	}
	if best < req.Level {
		var what string
		if best == 0 {
			what = "not trusted for the " + req.Track + " track"
		} else {
			what = fmt.Sprintf("trusted for %s up to level %d", req.Track, best)
		}
		ch := failed(id, fmt.Sprintf("a verifier trusted for %s level %d", req.Track, req.Level), p.Verifier.ID+" ("+what+")", fmt.Errorf("%w: %s is %s, %s is required", ErrVSAUntrustedTrack, safetext.Term(p.Verifier.ID), what, req.Name))
		d.add(ch)
		return 0, ch.err
	}
	granted := min(got, best)
	d.add(pass(id, req.Name+" or higher", fmt.Sprintf("SLSA_%s_LEVEL_%d (verifier trusted up to %d)", req.Track, got, best)))
	return granted, nil
}

func describeDigests(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, alg := range sortedKeys(m) {
		parts = append(parts, alg+":"+m[alg])
	}
	return strings.Join(parts, ", ")
}

func describeSubjects(ss []subject) string {
	var parts []string
	for i, s := range ss {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ss)-3))
			break
		}
		parts = append(parts, describeDigests(s.Digest))
	}
	return safetext.Term(strings.Join(parts, "; "))
}

// VSAResource is what verify-vsa checks a VSA for: a file, or digests
// given directly (--digest sha256:…, gitCommit:…).
type VSAResource struct {
	Artifact *Artifact
	Digests  map[string]string
}

func (r VSAResource) name() string {
	if r.Artifact != nil {
		return r.Artifact.Name
	}
	return describeDigests(r.Digests)
}

var digestAlgName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,31}$`) }) // compiled on first use, not at every start

// ParseDigest reads "ALG:VALUE" for --digest: any algorithm name the
// in-toto digest set allows (sha256, sha512, gitCommit, dirHash, custom
// names), never md5; the known ones must be lowercase hex of their length.
func ParseDigest(s string) (alg, value string, err error) {
	alg, value, ok := strings.Cut(s, ":")
	switch {
	case !ok || value == "":
		return "", "", fmt.Errorf("%w: expected ALG:VALUE (sha256:…, gitCommit:…), got %s", ErrNoSupportedDigest, safetext.Quote(s))
	case !digestAlgName().MatchString(alg):
		return "", "", fmt.Errorf("%w: %s is not an algorithm name", ErrNoSupportedDigest, safetext.Quote(alg))
	case alg == "md5":
		return "", "", fmt.Errorf("%w: md5 is never accepted", ErrNoSupportedDigest)
	}
	if n := ita1.HashAlgorithm(alg).HexLength(); n > 0 {
		if b, err := hex.DecodeString(value); err != nil || len(b) != n || strings.ToLower(value) != value {
			return "", "", fmt.Errorf("%w: %s: expected %d lowercase hex digits, got %s", ErrNoSupportedDigest, alg, 2*n, safetext.Quote(trunc(value)))
		}
	}
	return alg, value, nil
}

// VerifyVSA follows the SLSA VSA verification procedure for one VSA and one
// resource: signed by a trusted verifier whose id it names, about the
// resource (subject digest), for the expected resourceUri, PASSED, with
// the required levels, from a verifier trusted for those tracks and levels
// and for that resource, verified within o.MaxAge. The error wraps the
// sentinel of the first failure.
func VerifyVSA(ctx context.Context, set *VerifierSet, in VSAInput, res VSAResource, o VerifyVSAOptions) (*VSAResult, error) {
	out := &VSAResult{Resource: safetext.Term(res.name()), ResourceURI: safetext.Term(o.ResourceURI), Checks: []Check{}}
	for _, l := range o.Levels {
		out.Required = append(out.Required, l.Name)
	}
	if set != nil && set.Direct {
		out.Trust = "a verifier given directly (--key or --certificate-identity)"
	} else {
		out.Trust = "the roots of trust"
	}
	fail := func(err error) (*VSAResult, error) {
		out.Error = safetext.Term(err.Error())
		return out, err
	}
	switch {
	case o.At.IsZero():
		return fail(errors.New("verify-vsa: no verification time"))
	case o.ResourceURI == "":
		return fail(fmt.Errorf("%w: no expected resource URI", ErrVSAResourceMismatch))
	case len(o.Levels) == 0:
		return fail(fmt.Errorf("%w: no required level", ErrVSALevelTooLow))
	case res.Artifact == nil && len(res.Digests) == 0:
		return fail(ErrNoArtifacts)
	}
	d := &Document{}
	c := readVSA(ctx, set, in, o, d)
	if c != nil {
		out.VerifierID = safetext.Term(c.pred.Verifier.ID)
		out.TimeVerified = c.pred.TimeVerified.UTC()
		for _, l := range c.pred.VerifiedLevels {
			out.VerifiedLevels = append(out.VerifiedLevels, safetext.Term(l))
		}
		_ = c.covers(d, vsaTarget{digests: res.Digests, artifact: res.Artifact, resourceURI: o.ResourceURI, levels: o.Levels})
	}
	out.Checks, out.PayloadDigest = d.Checks, d.PayloadDigest
	if d.err != nil {
		return fail(d.err)
	}
	out.Passed = true
	return out, nil
}
