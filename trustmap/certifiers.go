package trustmap

import (
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// CertifiersSchema identifies the certifiers file format.
const CertifiersSchema = "https://hallmark.build/certifiers/v1"

// Certifiers is whom a verifier trusts to certify builders.
type Certifiers struct {
	Schema     string      `json:"schema"`
	Certifiers []Certifier `json:"certifiers"`
}

// Certifier is one trusted certifier.
type Certifier struct {
	Name      string `json:"name"`
	PublicKey string `json:"publicKey"`
	// MaxLevel is the highest level this certifier may grant.
	MaxLevel questionnaire.Level `json:"maxLevel"`
	// SelfAttestation accepts attestations of kind "self" signed by this
	// key (an operator certifying its own platform).
	SelfAttestation bool `json:"selfAttestation"`
	// ThirdPartyAbove, when set, requires a third-party assessment for
	// levels above it: with 2, an L3 grant needs kind "third-party".
	ThirdPartyAbove *questionnaire.Level `json:"thirdPartyAbove,omitempty"`
	// AllowBestPracticeWaivers accepts attestations that waive best-practice
	// findings (hallmark attest --waive). Absent or false: such an
	// attestation is rejected.
	AllowBestPracticeWaivers bool `json:"allowBestPracticeWaivers,omitempty"`
	// Verifiers lets this certifier sign verifier-trust documents (which
	// verifiers' VSAs are accepted). Absent or false: it certifies
	// builders only.
	Verifiers bool `json:"verifiers,omitempty"`

	key *attest.PublicKey
}

// Key returns the certifier's parsed public key.
func (c *Certifier) Key() *attest.PublicKey { return c.key }

// ParseCertifiers decodes and validates a certifiers file.
func ParseCertifiers(b []byte) (*Certifiers, error) {
	var c Certifiers
	if err := decodeDocument(b, &c, CertifiersSchema, MaxCertifiersBytes, ErrMalformedCertifiers); err != nil {
		return nil, err
	}
	if len(c.Certifiers) == 0 {
		return nil, fmt.Errorf("%w: no certifiers", ErrMalformedCertifiers)
	}
	seen := map[string]string{}
	for i := range c.Certifiers {
		ce := &c.Certifiers[i]
		if strings.TrimSpace(ce.Name) == "" {
			return nil, fmt.Errorf("%w: certifiers[%d]: missing name", ErrMalformedCertifiers, i)
		}
		k, err := attest.ParsePublicKey([]byte(ce.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("%w: certifier %q: %v", ErrMalformedCertifiers, ce.Name, err)
		}
		if other, dup := seen[k.Fingerprint]; dup {
			return nil, fmt.Errorf("%w: certifiers %q and %q have the same key", ErrMalformedCertifiers, other, ce.Name)
		}
		seen[k.Fingerprint] = ce.Name
		if ce.MaxLevel < 1 {
			return nil, fmt.Errorf("%w: certifier %q: maxLevel must be 1-3", ErrMalformedCertifiers, ce.Name)
		}
		ce.key = k
	}
	return &c, nil
}

// RevocationsSchema identifies the revocations file format.
const RevocationsSchema = "https://hallmark.build/revocations/v1"

// Revocations lists capability attestations a verifier no longer accepts.
type Revocations struct {
	Schema  string       `json:"schema"`
	Revoked []Revocation `json:"revoked"`
}

// Revocation revokes one attestation, or every attestation for a builder.id
// issued before a time (superseded).
//
// AttestationDigest is the attestation's identity: the sha256 of its DSSE
// payload (the signed statement, shown by compile and written as the roots
// entries' attestationDigest). Any re-encoding of the envelope — whitespace,
// base64 alphabet, extra signatures, changed keyids — has the same payload
// digest, so it stays revoked. The sha256 of an envelope file (what v1
// revocations used) is still honoured, but only stops files with exactly
// those bytes.
//
// BuilderID revokes attestations for that builder.id, including pattern
// attestations (builder.idRegexp) whose pattern matches it, and an
// attestation whose idRegexp is exactly this text.
type Revocation struct {
	AttestationDigest string `json:"attestationDigest,omitempty"`
	BuilderID         string `json:"builderId,omitempty"`
	// VerifierID revokes verifier-trust documents for that verifier.id
	// issued before IssuedBefore.
	VerifierID   string    `json:"verifierId,omitempty"`
	IssuedBefore time.Time `json:"issuedBefore,omitzero"`
	Reason       string    `json:"reason"`
}

// ParseRevocations decodes a revocations file.
func ParseRevocations(b []byte) (*Revocations, error) {
	var r Revocations
	if err := decodeDocument(b, &r, RevocationsSchema, MaxRevocationsBytes, ErrMalformedRevocations); err != nil {
		return nil, err
	}
	for i, x := range r.Revoked {
		byDigest := x.AttestationDigest != ""
		byName := x.BuilderID != "" || x.VerifierID != "" || !x.IssuedBefore.IsZero()
		if byDigest == byName || (byName && ((x.BuilderID == "") == (x.VerifierID == "") || x.IssuedBefore.IsZero())) {
			return nil, fmt.Errorf("%w: revoked[%d]: give attestationDigest, or builderId or verifierId with issuedBefore", ErrMalformedRevocations, i)
		}
		if byDigest && (len(x.AttestationDigest) != 64 || !isLowerHex(x.AttestationDigest)) {
			return nil, fmt.Errorf("%w: revoked[%d]: attestationDigest: expected 64 lowercase hex digits (the sha256 of the DSSE payload), got %q", ErrMalformedRevocations, i, x.AttestationDigest)
		}
	}
	return &r, nil
}

// revoked returns the reason an attestation is revoked, or "". covers
// reports whether the attestation's builder (an id or a pattern) covers a
// builder.id.
func (r *Revocations) revoked(v *attest.Verified, covers func(string) bool) string {
	if r == nil {
		return ""
	}
	for _, x := range r.Revoked {
		if x.AttestationDigest != "" && (x.AttestationDigest == v.PayloadDigest || x.AttestationDigest == v.EnvelopeDigest) {
			return "revoked: " + x.Reason
		}
		if x.BuilderID != "" && covers(x.BuilderID) && v.Predicate.IssuedAt.Before(x.IssuedBefore) {
			return fmt.Sprintf("superseded (every attestation for %s issued before %s): %s", x.BuilderID, x.IssuedBefore.UTC().Format(time.RFC3339), x.Reason)
		}
	}
	return ""
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
