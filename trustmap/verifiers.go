package trustmap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// VerifierTrustSchema identifies a verifier-trust document: a certifier's
// signed statement that VSAs from the verifiers it lists may be accepted.
const VerifierTrustSchema = "https://hallmark.build/verifier-trust/v1"

// VerifierTrustPayloadType is the DSSE payload type of a signed
// verifier-trust document.
const VerifierTrustPayloadType = "application/vnd.hallmark.verifier-trust+json"

// MaxVerifierTrustValidity is the longest window a verifier may be trusted
// for in one document, as for capability attestations.
const MaxVerifierTrustValidity = 366 * 24 * time.Hour

// VerifierTrust is the verifier-trust document a certifier signs.
type VerifierTrust struct {
	Schema    string            `json:"schema"`
	IssuedAt  time.Time         `json:"issuedAt"`
	Verifiers []TrustedVerifier `json:"verifiers"`
}

// TrustedVerifier is a verifier whose VSAs are accepted: for resources
// whose URI its pattern matches, for the tracks and up to the levels it
// lists, during its window. In a verifier-trust document CertifiedBy and
// AttestationDigest are absent; compile sets them in the roots.
type TrustedVerifier struct {
	// ID is the verifier.id its VSAs carry (an absolute URI).
	ID string `json:"id"`
	// Signer is the key (publicKey; keyFingerprint is filled in by
	// compile) or the Sigstore identity (oidcIssuer with san or sanRegexp)
	// that signs its VSAs.
	Signer Signer `json:"signer"`
	// ResourceURIRegexp is an anchored pattern on the resourceUri of the
	// VSAs it may vouch for ("pkg:npm/.*", "git\\+https://github\\.com/org/.*").
	ResourceURIRegexp string `json:"resourceUriRegexp"`
	// Levels are the highest level per track it may grant: {"BUILD": 3,
	// "SOURCE": 3}. A track it does not list is not trusted.
	Levels map[string]int `json:"levels"`
	// Properties are the other verifiedLevels values it may vouch for
	// (SLSA_SOURCE_TWO_PARTY_REVIEWED, organisation-defined levels).
	Properties []string  `json:"properties,omitempty"`
	ValidFrom  time.Time `json:"validFrom"`
	ValidUntil time.Time `json:"validUntil"`

	CertifiedBy       *CertifiedBy `json:"certifiedBy,omitempty"`
	AttestationDigest string       `json:"attestationDigest,omitempty"`
}

// Contains reports whether t is inside [ValidFrom, ValidUntil).
func (v *TrustedVerifier) Contains(t time.Time) bool {
	return !t.Before(v.ValidFrom) && t.Before(v.ValidUntil)
}

// trackLevelMax is the highest level each SLSA track defines; other tracks
// (organisation-defined) may go up to 9.
var trackLevelMax = map[string]int{"BUILD": 3, "SOURCE": 4}

var trackName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9]*$`) }) // compiled on first use, not at every start

// propertyName is the shape of a verifiedLevels value.
var propertyName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`) }) // compiled on first use, not at every start

// compiledVerifier is what validating a trusted verifier produced.
type compiledVerifier struct {
	key      *attest.PublicKey
	san      *regexp.Regexp
	resource *regexp.Regexp
}

// validateVerifier checks one trusted verifier: an absolute URI id, exactly
// one signer kind, an anchored resource pattern, known track names with
// levels in range, and a window.
func validateVerifier(v *TrustedVerifier, ev *entryValidator) (compiledVerifier, error) {
	var c compiledVerifier
	if err := (questionnaire.Builder{ID: v.ID}).Validate(); err != nil {
		return c, fmt.Errorf("id: %w", err)
	}
	if v.ResourceURIRegexp == "" {
		return c, errors.New("resourceUriRegexp: expected an anchored pattern on the resource URIs it may vouch for, got none")
	}
	re, err := questionnaire.CompileAnchored(v.ResourceURIRegexp)
	if err != nil {
		return c, fmt.Errorf("resourceUriRegexp: %w", err)
	}
	c.resource = re
	if len(v.Levels) == 0 && len(v.Properties) == 0 {
		return c, errors.New("levels: expected at least one track (BUILD, SOURCE) or property it may vouch for, got none")
	}
	for track, l := range v.Levels {
		if !trackName().MatchString(track) {
			return c, fmt.Errorf("levels: track %s: expected an upper-case name such as BUILD or SOURCE", safetext.Quote(track))
		}
		hi := trackLevelMax[track]
		if hi == 0 {
			hi = 9
		}
		if l < 1 || l > hi {
			return c, fmt.Errorf("levels: %s: expected 1-%d, got %d", track, hi, l)
		}
	}
	for _, p := range v.Properties {
		if !propertyName().MatchString(p) {
			return c, fmt.Errorf("properties: %s: expected an upper-case name such as SLSA_SOURCE_TWO_PARTY_REVIEWED", safetext.Quote(p))
		}
		if _, _, ok := parseLevelName(p); ok {
			return c, fmt.Errorf("properties: %s is a level: give it in levels", p)
		}
	}
	if v.ValidFrom.IsZero() || !v.ValidUntil.After(v.ValidFrom) {
		return c, errors.New("validUntil must be after validFrom")
	}
	// The signer is checked as a roots entry's signer is.
	probe := Entry{BuilderID: v.ID, Signer: v.Signer, SLSABuildLevel: 1, ValidFrom: v.ValidFrom, ValidUntil: v.ValidUntil}
	ce, err := ev.validate(&probe)
	if err != nil {
		return c, err
	}
	c.key, c.san = ce.key, ce.san
	return c, nil
}

// levelName matches SLSA_<TRACK>_LEVEL_<n> and SLSA_<TRACK>_LEVEL_UNEVALUATED.
var levelName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^SLSA_([A-Z][A-Z0-9]*)_LEVEL_([0-9]|UNEVALUATED)$`) }) // compiled on first use, not at every start

// parseLevelName reads "SLSA_BUILD_LEVEL_3" as ("BUILD", 3); UNEVALUATED is
// level -1.
func parseLevelName(s string) (track string, level int, ok bool) {
	m := levelName().FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	if m[2] == "UNEVALUATED" {
		return m[1], -1, true
	}
	return m[1], int(m[2][0] - '0'), true
}

// VerifierSet is the set of verifiers whose VSAs are accepted, indexed by
// signer. Build one from roots (Roots.VerifierSet) or, for a one-off
// check, from one verifier given directly (NewVerifierSet).
type VerifierSet struct {
	verifiers []TrustedVerifier
	compiled  []compiledVerifier
	keys      []*attest.PublicKey
	byKey     map[string][]int
	byIssuer  map[string][]int
	// Direct is set when the verifier was given on the command line
	// rather than compiled into signed roots.
	Direct bool
}

// NewVerifierSet validates and indexes trusted verifiers.
func NewVerifierSet(vs []TrustedVerifier) (*VerifierSet, error) {
	s := &VerifierSet{verifiers: slices.Clone(vs), byKey: map[string][]int{}, byIssuer: map[string][]int{}}
	ev := entryValidator{pemFP: map[string]string{}}
	seenKey := map[string]bool{}
	for i := range s.verifiers {
		v := &s.verifiers[i]
		c, err := validateVerifier(v, &ev)
		if err != nil {
			return nil, fmt.Errorf("%w: verifiers[%d] (%s): %w", ErrInvalidVerifier, i, safetext.Term(v.ID), err)
		}
		s.compiled = append(s.compiled, c)
		if c.key != nil {
			s.byKey[c.key.Fingerprint] = append(s.byKey[c.key.Fingerprint], i)
			if !seenKey[c.key.Fingerprint] {
				seenKey[c.key.Fingerprint] = true
				s.keys = append(s.keys, c.key)
			}
		} else {
			s.byIssuer[v.Signer.OIDCIssuer] = append(s.byIssuer[v.Signer.OIDCIssuer], i)
		}
	}
	return s, nil
}

// Len is the number of trusted verifiers.
func (s *VerifierSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.verifiers)
}

// Keys are the distinct keys of key-signed verifiers.
func (s *VerifierSet) Keys() []*attest.PublicKey {
	if s == nil {
		return nil
	}
	return s.keys
}

// candidates returns the verifiers whose signer is signer.
func (s *VerifierSet) candidates(signer Signer) []int {
	if signer.KeyFingerprint != "" {
		return s.byKey[signer.KeyFingerprint]
	}
	var out []int
	for _, i := range s.byIssuer[signer.OIDCIssuer] {
		v := &s.verifiers[i]
		if v.Signer.SAN == signer.SAN || (s.compiled[i].san != nil && s.compiled[i].san.MatchString(signer.SAN)) {
			out = append(out, i)
		}
	}
	return out
}

// VerifierSet returns the roots' trusted verifiers (empty for maps before
// v3).
func (r *Roots) VerifierSet() *VerifierSet { return r.verifierSet }

// ParseVerifierTrust decodes an unsigned verifier-trust document.
func ParseVerifierTrust(b []byte) (*VerifierTrust, error) {
	var t VerifierTrust
	if err := decodeDocument(b, &t, VerifierTrustSchema, MaxPolicyBytes, ErrInvalidVerifier); err != nil {
		return nil, err
	}
	if t.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: issuedAt: expected the time the document was issued, got none", ErrInvalidVerifier)
	}
	if len(t.Verifiers) == 0 {
		return nil, fmt.Errorf("%w: expected at least one verifier, got none", ErrInvalidVerifier)
	}
	seen := map[string]bool{}
	for i, v := range t.Verifiers {
		if v.CertifiedBy != nil || v.AttestationDigest != "" {
			return nil, fmt.Errorf("%w: verifiers[%d]: certifiedBy and attestationDigest are set by compile, not by the certifier", ErrInvalidVerifier, i)
		}
		if v.Signer.KeyFingerprint == "" && v.Signer.PublicKey != "" {
			k, err := attest.ParsePublicKey([]byte(v.Signer.PublicKey))
			if err != nil {
				return nil, fmt.Errorf("%w: verifiers[%d]: signer: %v", ErrInvalidVerifier, i, err)
			}
			t.Verifiers[i].Signer.KeyFingerprint = k.Fingerprint
		}
		if v.ValidUntil.Sub(v.ValidFrom) > MaxVerifierTrustValidity {
			return nil, fmt.Errorf("%w: verifiers[%d]: expected a window of at most 366 days, got %s to %s", ErrInvalidVerifier, i, v.ValidFrom.Format(time.RFC3339), v.ValidUntil.Format(time.RFC3339))
		}
		if v.ValidFrom.Before(t.IssuedAt.Add(-MaxVerifierTrustValidity)) {
			return nil, fmt.Errorf("%w: verifiers[%d]: validFrom %s is long before issuedAt %s", ErrInvalidVerifier, i, v.ValidFrom.Format(time.RFC3339), t.IssuedAt.Format(time.RFC3339))
		}
		k := v.ID + "\x00" + t.Verifiers[i].Signer.id()
		if seen[k] {
			return nil, fmt.Errorf("%w: verifiers[%d]: %s with this signer is listed twice", ErrInvalidVerifier, i, safetext.Term(v.ID))
		}
		seen[k] = true
	}
	if _, err := NewVerifierSet(t.Verifiers); err != nil {
		return nil, err
	}
	return &t, nil
}

// SignVerifierTrust signs a verifier-trust document as a certifier (or
// adds a signature to a signed one, see CoSign); the document is validated
// first.
func SignVerifierTrust(ctx context.Context, doc []byte, keys []*attest.PrivateKey, at time.Time) ([]byte, error) {
	return CoSign(ctx, doc, VerifierTrustPayloadType, keys, func(payload []byte) error {
		t, err := ParseVerifierTrust(payload)
		if err != nil {
			return err
		}
		for i, v := range t.Verifiers {
			if !at.Before(v.ValidUntil) {
				return fmt.Errorf("%w: verifiers[%d] (%s): trusted until %s, which has passed", ErrInvalidVerifier, i, safetext.Term(v.ID), v.ValidUntil.Format(time.RFC3339))
			}
		}
		return nil
	})
}

// compileVerifierTrust verifies one signed verifier-trust document against
// the certifiers that may certify verifiers and turns it into roots
// verifiers. A BUILD level above the certifier's maxLevel is lowered to it.
func compileVerifierTrust(ctx context.Context, a Attestation, certs *Certifiers, opts CompileOptions) ([]TrustedVerifier, string, error) {
	var keys []*attest.PublicKey
	byFP := map[string]*Certifier{}
	for i := range certs.Certifiers {
		c := &certs.Certifiers[i]
		byFP[c.key.Fingerprint] = c
		keys = append(keys, c.key)
	}
	env, err := attest.ParseEnvelope(a.Envelope)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidVerifier, err)
	}
	payload, fps, err := VerifyThreshold(ctx, env, VerifierTrustPayloadType, keys, 1)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrUntrustedCertifier, err)
	}
	var c *Certifier
	for _, fp := range fps {
		if byFP[fp].Verifiers {
			c = byFP[fp]
			break
		}
	}
	if c == nil {
		return nil, "", fmt.Errorf("%w: signed by %s, which the certifiers file does not let certify verifiers (set \"verifiers\": true)", ErrUntrustedCertifier, byFP[fps[0]].Name)
	}
	t, err := ParseVerifierTrust(payload)
	if err != nil {
		return nil, "", err
	}
	digest := sha256Hex(payload)
	var out []TrustedVerifier
	for i, v := range t.Verifiers {
		if why := opts.Revoked.revokedVerifier(digest, v.ID, t.IssuedAt); why != "" {
			return nil, digest, fmt.Errorf("%w: verifiers[%d] (%s): %s", ErrRevoked, i, safetext.Term(v.ID), why)
		}
		if !opts.At.Before(v.ValidUntil) {
			return nil, digest, fmt.Errorf("%w: verifiers[%d] (%s): trusted until %s, compiled at %s", ErrInvalidVerifier, i, safetext.Term(v.ID), v.ValidUntil.Format(time.RFC3339), opts.At.UTC().Format(time.RFC3339))
		}
		if l, ok := v.Levels["BUILD"]; ok && l > int(c.MaxLevel) {
			v.Levels = cloneLevels(v.Levels)
			v.Levels["BUILD"] = int(c.MaxLevel)
		}
		v.CertifiedBy = &CertifiedBy{Name: c.Name, KeyFingerprint: c.key.Fingerprint, AssessmentKind: "verifier-trust"}
		v.AttestationDigest = digest
		out = append(out, v)
	}
	return out, digest, nil
}

func cloneLevels(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// revokedVerifier returns why a verifier-trust document (by its payload
// digest) or a verifier in it is revoked, or "".
func (r *Revocations) revokedVerifier(digest, verifierID string, issuedAt time.Time) string {
	if r == nil {
		return ""
	}
	for _, x := range r.Revoked {
		if x.AttestationDigest != "" && x.AttestationDigest == digest {
			return "revoked: " + x.Reason
		}
		if x.VerifierID != "" && x.VerifierID == verifierID && issuedAt.Before(x.IssuedBefore) {
			return fmt.Sprintf("superseded (every verifier-trust document for %s issued before %s): %s", x.VerifierID, x.IssuedBefore.UTC().Format(time.RFC3339), x.Reason)
		}
	}
	return ""
}

// describeLevels renders a verifier's tracks for messages: "BUILD L3, SOURCE L2".
func describeLevels(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s L%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "no track"
	}
	return strings.Join(parts, ", ")
}

// sha256Hex is the lowercase hex sha256 of b: the identity of a signed
// document when b is its DSSE payload, a file's digest for
// inputAttestations when b is the file.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hexString(sum[:])
}

// hexString is hex.EncodeToString for a digest, with one allocation.
func hexString(sum []byte) string {
	var buf [2 * 64]byte
	return string(hex.AppendEncode(buf[:0], sum))
}
