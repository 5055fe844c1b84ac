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

// Revocation revokes one attestation (by the sha256 of its envelope file),
// or every attestation for a builder.id issued before a time (superseded).
type Revocation struct {
	AttestationDigest string    `json:"attestationDigest,omitempty"`
	BuilderID         string    `json:"builderId,omitempty"`
	IssuedBefore      time.Time `json:"issuedBefore,omitzero"`
	Reason            string    `json:"reason"`
}

// ParseRevocations decodes a revocations file.
func ParseRevocations(b []byte) (*Revocations, error) {
	var r Revocations
	if err := decodeDocument(b, &r, RevocationsSchema, MaxRevocationsBytes, ErrMalformedRevocations); err != nil {
		return nil, err
	}
	for i, x := range r.Revoked {
		byDigest := x.AttestationDigest != ""
		byBuilder := x.BuilderID != "" && !x.IssuedBefore.IsZero()
		if byDigest == byBuilder {
			return nil, fmt.Errorf("%w: revoked[%d]: give attestationDigest, or builderId with issuedBefore", ErrMalformedRevocations, i)
		}
	}
	return &r, nil
}

// revoked returns the reason an attestation is revoked, or "".
func (r *Revocations) revoked(digest string, v *attest.Verified) string {
	if r == nil {
		return ""
	}
	for _, x := range r.Revoked {
		if x.AttestationDigest != "" && x.AttestationDigest == digest {
			return "revoked: " + x.Reason
		}
		if x.BuilderID == v.Predicate.Builder.Name() && v.Predicate.IssuedAt.Before(x.IssuedBefore) {
			return "superseded: " + x.Reason
		}
	}
	return ""
}
