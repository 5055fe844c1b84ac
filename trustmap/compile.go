package trustmap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// Attestation is a capability attestation file to compile.
type Attestation struct {
	Name     string // for messages: usually the file name
	Envelope []byte
}

// CompileOptions are the local decisions of a verifier.
type CompileOptions struct {
	// At is the time attestations are checked at. Required.
	At time.Time
	// Caps lowers the level of a builder.id.
	Caps map[string]questionnaire.Level
	// Deny rejects builder.ids outright.
	Deny map[string]bool
	// Revoked lists revoked or superseded attestations.
	Revoked *Revocations
	// Serial is the serial of the compiled map: larger than the serial of
	// every map compiled before, so verifiers can refuse those. 0 means 1.
	Serial uint64
	// ValidFor is how long the map is valid from At: DefaultRootsValidity
	// when zero, at most MaxRootsValidity.
	ValidFor time.Duration
	// RequireKeyTimestamp sets requireTimestamp on every key signer's
	// entry: their provenance then needs a verified transparency-log entry
	// or signed timestamp.
	RequireKeyTimestamp bool
	// VerifierTrust are signed verifier-trust documents: the verifiers
	// whose VSAs the map accepts (a v3 map).
	VerifierTrust []Attestation
}

// Rejection is an attestation that did not become a roots entry.
type Rejection struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Err    error  `json:"-"`
}

// Compiled is the result of Compile.
type Compiled struct {
	Roots    *Roots
	Accepted []Accepted
	Rejected []Rejection
}

// Accepted is an attestation that became roots entries.
type Accepted struct {
	Name string `json:"name"`
	// Digest is the attestation's identity: the sha256 of its DSSE payload,
	// what revocations name.
	Digest string `json:"digest"`
}

// Compile verifies each capability attestation against the certifiers at
// opts.At and turns the accepted ones into roots entries. The level of an
// entry is the minimum of the attested level, the certifier's ceiling and
// any local cap.
func Compile(ctx context.Context, certs *Certifiers, atts []Attestation, opts CompileOptions) (*Compiled, error) {
	if opts.At.IsZero() {
		return nil, errors.New("compile: no time given")
	}
	serial := opts.Serial
	if serial == 0 {
		serial = 1
	}
	validFor := opts.ValidFor
	if validFor == 0 {
		validFor = DefaultRootsValidity
	}
	if validFor < 0 || validFor > MaxRootsValidity {
		return nil, fmt.Errorf("compile: validity: expected at most %s (366 days), got %s", MaxRootsValidity, validFor)
	}
	keys := make([]*attest.PublicKey, len(certs.Certifiers))
	byFP := map[string]*Certifier{}
	for i := range certs.Certifiers {
		c := &certs.Certifiers[i]
		keys[i] = c.key
		byFP[c.key.Fingerprint] = c
	}
	out := &Compiled{}
	var entries []Entry
	for _, a := range atts {
		es, err := compileOne(ctx, a, keys, byFP, opts)
		if err != nil {
			out.Rejected = append(out.Rejected, Rejection{Name: a.Name, Reason: err.Error(), Err: err})
			continue
		}
		out.Accepted = append(out.Accepted, Accepted{Name: a.Name, Digest: es[0].AttestationDigest})
		entries = append(entries, es...)
	}
	var verifiers []TrustedVerifier
	for _, a := range opts.VerifierTrust {
		vs, digest, err := compileVerifierTrust(ctx, a, certs, opts)
		if err != nil {
			out.Rejected = append(out.Rejected, Rejection{Name: a.Name, Reason: err.Error(), Err: err})
			continue
		}
		out.Accepted = append(out.Accepted, Accepted{Name: a.Name, Digest: digest})
		verifiers = append(verifiers, vs...)
	}
	roots, err := NewRootsWithVerifiers(opts.At, entries, verifiers)
	if err != nil {
		return nil, err
	}
	roots.Serial = serial
	roots.Expires = opts.At.UTC().Add(validFor)
	out.Roots = roots
	return out, nil
}

// compileOne verifies one attestation and turns it into entries. Every
// check is made on this attestation alone, so a bad one is rejected on its
// own and the others are still compiled.
func compileOne(ctx context.Context, a Attestation, keys []*attest.PublicKey, byFP map[string]*Certifier, opts CompileOptions) ([]Entry, error) {
	v, err := attest.Verify(ctx, a.Envelope, keys, attest.VerifyOptions{At: opts.At})
	if err != nil {
		if errors.Is(err, attest.ErrBadSignature) {
			return nil, fmt.Errorf("%w: %v", ErrUntrustedCertifier, err)
		}
		return nil, err
	}
	c := byFP[v.Key.Fingerprint]
	p := v.Predicate
	kind := p.Assessment.Kind
	switch kind {
	case attest.SelfAssessment:
		if !c.SelfAttestation {
			return nil, fmt.Errorf("%w: %s signed a self-assessment and the certifiers file does not set selfAttestation for it", ErrSelfAttestationNotAccepted, c.Name)
		}
	case attest.ThirdPartyAssessment:
		if c.SelfAttestation {
			return nil, fmt.Errorf("%w: %s may self-attest (selfAttestation in the certifiers file), so its signature cannot vouch for a third-party assessment", ErrThirdPartySelfSigned, c.Name)
		}
		if d := p.Assessment.ReviewDigest; len(d) != 64 || !isLowerHex(d) {
			return nil, fmt.Errorf("%w: a third-party assessment needs reviewDigest, the sha256 (64 lowercase hex digits) of the review, got %q", ErrAssessmentKind, d)
		}
	default:
		return nil, fmt.Errorf("%w: expected %q or %q, got %q", ErrAssessmentKind, attest.SelfAssessment, attest.ThirdPartyAssessment, kind)
	}
	if c.ThirdPartyAbove != nil && p.SLSABuildLevel > *c.ThirdPartyAbove && kind != attest.ThirdPartyAssessment {
		return nil, fmt.Errorf("%w: %s above %s needs a third-party assessment, got %q", ErrThirdPartyRequired, p.SLSABuildLevel, *c.ThirdPartyAbove, kind)
	}
	if p.IssuedAt.IsZero() || p.IssuedAt.After(p.ValidUntil) {
		return nil, fmt.Errorf("%w: issuedAt %s is after validUntil %s", ErrInvalidAttestation, p.IssuedAt.Format(time.RFC3339), p.ValidUntil.Format(time.RFC3339))
	}
	if len(p.BestPracticeWaivers) > 0 && !c.AllowBestPracticeWaivers {
		var ids []string
		for _, w := range p.BestPracticeWaivers {
			ids = append(ids, w.Question)
		}
		return nil, fmt.Errorf("%w: %s waived %s and the certifiers file does not set allowBestPracticeWaivers for it", ErrWaiversNotAccepted, c.Name, strings.Join(ids, ", "))
	}
	covers, err := builderCovers(p.Builder)
	if err != nil {
		return nil, fmt.Errorf("%w: builder: %w", ErrInvalidAttestation, err)
	}
	for _, d := range sortedKeys(opts.Deny) {
		if opts.Deny[d] && covers(d) {
			return nil, fmt.Errorf("%w: %s %s", ErrDenied, describeBuilder(p.Builder), matchWord(p.Builder, d))
		}
	}
	if why := opts.Revoked.revoked(v, covers); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrRevoked, why)
	}
	level := min(p.SLSABuildLevel, c.MaxLevel)
	for _, id := range sortedKeys(opts.Caps) {
		if covers(id) {
			level = min(level, opts.Caps[id])
		}
	}
	if len(p.Builder.Signers) == 0 {
		return nil, fmt.Errorf("%w: the attestation names no provenance signer for %s", ErrInvalidAttestation, p.Builder.Name())
	}
	var out []Entry
	ev := entryValidator{}
	for i, s := range p.Builder.Signers {
		sig := Signer{PublicKey: s.PublicKey, OIDCIssuer: s.OIDCIssuer, SAN: s.SAN, SANRegexp: s.SANRegexp}
		if s.PublicKey != "" {
			k, err := attest.ParsePublicKey([]byte(s.PublicKey))
			if err != nil {
				return nil, fmt.Errorf("%w: builder.signers[%d]: %v", ErrInvalidAttestation, i, err)
			}
			if s.KeyFingerprint != "" && s.KeyFingerprint != k.Fingerprint {
				return nil, fmt.Errorf("%w: builder.signers[%d]: keyFingerprint %q does not match the public key (%s)", ErrInvalidAttestation, i, s.KeyFingerprint, k.Fingerprint)
			}
			sig.KeyFingerprint = k.Fingerprint
			sig.RequireTimestamp = opts.RequireKeyTimestamp
		} else if s.KeyFingerprint != "" {
			return nil, fmt.Errorf("%w: builder.signers[%d]: keyFingerprint without publicKey", ErrInvalidAttestation, i)
		}
		e := Entry{
			BuilderID: p.Builder.ID, BuilderIDRegexp: p.Builder.IDRegexp, Signer: sig, SLSABuildLevel: level,
			ValidFrom: p.ValidFrom, ValidUntil: p.ValidUntil,
			CertifiedBy:       CertifiedBy{Name: c.Name, KeyFingerprint: c.key.Fingerprint, AssessmentKind: kind},
			AttestationDigest: v.PayloadDigest,
		}
		if _, err := ev.validate(&e); err != nil {
			return nil, fmt.Errorf("%w: builder.signers[%d]: %w", ErrInvalidAttestation, i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// builderCovers returns whether a concrete builder.id (or a pattern given
// verbatim) falls under the attested builder: equal to its id, or matched by
// its anchored idRegexp. Deny, caps and revocations go through it, so a
// pattern cannot grant what they withdraw from a builder.id it matches.
func builderCovers(b attest.Builder) (func(string) bool, error) {
	qb := questionnaire.Builder{ID: b.ID, IDRegexp: b.IDRegexp}
	if err := qb.Validate(); err != nil {
		return nil, err
	}
	if b.IDRegexp == "" {
		return func(id string) bool { return id == b.ID }, nil
	}
	re, err := questionnaire.CompileAnchored(b.IDRegexp)
	if err != nil {
		return nil, err
	}
	return func(id string) bool { return id == b.IDRegexp || re.MatchString(id) }, nil
}

func describeBuilder(b attest.Builder) string {
	if b.IDRegexp != "" {
		return "builder.idRegexp " + b.IDRegexp
	}
	return b.ID
}

func matchWord(b attest.Builder, id string) string {
	if b.IDRegexp != "" && id != b.IDRegexp {
		return "matches the denied builder.id " + id
	}
	return "is denied"
}
