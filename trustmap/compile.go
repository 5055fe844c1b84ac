package trustmap

import (
	"context"
	"errors"
	"fmt"
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
	Accepted []string
	Rejected []Rejection
}

// Compile verifies each capability attestation against the certifiers at
// opts.At and turns the accepted ones into roots entries. The level of an
// entry is the minimum of the attested level, the certifier's ceiling and
// any local cap.
func Compile(ctx context.Context, certs *Certifiers, atts []Attestation, opts CompileOptions) (*Compiled, error) {
	if opts.At.IsZero() {
		return nil, errors.New("compile: no time given")
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
		out.Accepted = append(out.Accepted, a.Name)
		entries = append(entries, es...)
	}
	roots, err := NewRoots(opts.At, entries)
	if err != nil {
		return nil, err
	}
	out.Roots = roots
	return out, nil
}

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
	if kind == attest.SelfAssessment && !c.SelfAttestation {
		return nil, fmt.Errorf("%w: %s signed a self-assessment and the certifiers file does not set selfAttestation for it", ErrSelfAttestationNotAccepted, c.Name)
	}
	if c.ThirdPartyAbove != nil && p.SLSABuildLevel > *c.ThirdPartyAbove && kind != attest.ThirdPartyAssessment {
		return nil, fmt.Errorf("%w: %s above %s needs a third-party assessment, got %q", ErrThirdPartyRequired, p.SLSABuildLevel, *c.ThirdPartyAbove, kind)
	}
	if opts.Deny[p.Builder.Name()] {
		return nil, fmt.Errorf("%w: %s", ErrDenied, p.Builder.Name())
	}
	if why := opts.Revoked.revoked(v.EnvelopeDigest, v); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrRevoked, why)
	}
	level := min(p.SLSABuildLevel, c.MaxLevel)
	if capped, ok := opts.Caps[p.Builder.Name()]; ok {
		level = min(level, capped)
	}
	if len(p.Builder.Signers) == 0 {
		return nil, fmt.Errorf("%w: the attestation names no provenance signer for %s", attest.ErrMalformedStatement, p.Builder.Name())
	}
	var out []Entry
	for _, s := range p.Builder.Signers {
		sig := Signer{PublicKey: s.PublicKey, OIDCIssuer: s.OIDCIssuer, SAN: s.SAN, SANRegexp: s.SANRegexp}
		if s.PublicKey != "" {
			k, err := attest.ParsePublicKey([]byte(s.PublicKey))
			if err != nil {
				return nil, fmt.Errorf("%w: builder signer: %v", attest.ErrMalformedStatement, err)
			}
			sig.KeyFingerprint = k.Fingerprint
		}
		out = append(out, Entry{
			BuilderID: p.Builder.ID, BuilderIDRegexp: p.Builder.IDRegexp, Signer: sig, SLSABuildLevel: level,
			ValidFrom: p.ValidFrom, ValidUntil: p.ValidUntil,
			CertifiedBy:       CertifiedBy{Name: c.Name, KeyFingerprint: c.key.Fingerprint, AssessmentKind: kind},
			AttestationDigest: v.EnvelopeDigest,
		})
	}
	return out, nil
}
