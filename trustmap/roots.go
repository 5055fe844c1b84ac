package trustmap

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/canonical"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// RootsSchema identifies the roots-of-trust format.
const RootsSchema = "https://hallmark.build/roots/v1"

// RootsPayloadType is the DSSE payload type of a signed roots map.
const RootsPayloadType = "application/vnd.hallmark.roots+json"

// Roots is a verifier's roots of trust: which signer may sign provenance for
// which builder.id, at which level, during which window.
type Roots struct {
	Schema     string    `json:"schema"`
	CompiledAt time.Time `json:"compiledAt"`
	Entries    []Entry   `json:"entries"`

	index     map[string][]int // signerKey + "\x00" + builderID -> entries
	byIssuer  map[string][]int // OIDC issuer -> Sigstore entries
	sanRegexp map[int]*regexp.Regexp
	// Entries whose builder is a pattern, by signer key, and all of them.
	patterns      map[string][]int
	builderRegexp map[int]*regexp.Regexp
	builders      map[string]bool
	keys          []*attest.PublicKey
	keyByFP       map[string]*attest.PublicKey
}

// Entry is one root of trust.
type Entry struct {
	BuilderID string `json:"builderId,omitempty"`
	// BuilderIDRegexp pairs the signer with every builder.id this anchored
	// pattern matches (for example all release tags of a reusable
	// workflow), instead of one BuilderID.
	BuilderIDRegexp   string              `json:"builderIdRegexp,omitempty"`
	Signer            Signer              `json:"signer"`
	SLSABuildLevel    questionnaire.Level `json:"slsaBuildLevel"`
	ValidFrom         time.Time           `json:"validFrom"`
	ValidUntil        time.Time           `json:"validUntil"`
	CertifiedBy       CertifiedBy         `json:"certifiedBy"`
	AttestationDigest string              `json:"attestationDigest"`
}

// Signer identifies a provenance signer: a public key, or a Sigstore
// identity (OIDC issuer and certificate SAN, exact or anchored pattern).
type Signer struct {
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	PublicKey      string `json:"publicKey,omitempty"`
	OIDCIssuer     string `json:"oidcIssuer,omitempty"`
	SAN            string `json:"san,omitempty"`
	SANRegexp      string `json:"sanRegexp,omitempty"`
}

// id is the index key of a signer.
func (s Signer) id() string {
	if s.KeyFingerprint != "" {
		return s.KeyFingerprint
	}
	return "sigstore:" + s.OIDCIssuer + "\x00" + s.SAN + "\x00" + s.SANRegexp
}

// CertifiedBy names the certifier whose attestation produced an entry.
type CertifiedBy struct {
	Name           string `json:"name"`
	KeyFingerprint string `json:"keyFingerprint"`
	AssessmentKind string `json:"assessmentKind"`
}

// Contains reports whether t is inside [ValidFrom, ValidUntil).
func (e *Entry) Contains(t time.Time) bool { return !t.Before(e.ValidFrom) && t.Before(e.ValidUntil) }

// NewRoots builds an indexed roots map from entries, sorted for
// reproducible output.
func NewRoots(compiledAt time.Time, entries []Entry) (*Roots, error) {
	r := &Roots{Schema: RootsSchema, CompiledAt: compiledAt.UTC(), Entries: slices.Clone(entries)}
	if r.Entries == nil {
		r.Entries = []Entry{}
	}
	slices.SortFunc(r.Entries, func(a, b Entry) int {
		return cmp.Or(
			cmp.Compare(a.BuilderID, b.BuilderID),
			cmp.Compare(a.BuilderIDRegexp, b.BuilderIDRegexp),
			cmp.Compare(a.Signer.id(), b.Signer.id()),
			a.ValidFrom.Compare(b.ValidFrom),
			cmp.Compare(a.AttestationDigest, b.AttestationDigest),
		)
	})
	if err := r.buildIndex(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Roots) buildIndex() error {
	r.index = make(map[string][]int, len(r.Entries))
	r.byIssuer = map[string][]int{}
	r.sanRegexp = map[int]*regexp.Regexp{}
	r.patterns = map[string][]int{}
	r.builderRegexp = map[int]*regexp.Regexp{}
	r.builders = map[string]bool{}
	r.keyByFP = map[string]*attest.PublicKey{}
	r.keys = nil
	pemFP := map[string]string{}
	for i := range r.Entries {
		e := &r.Entries[i]
		b := questionnaire.Builder{ID: e.BuilderID, IDRegexp: e.BuilderIDRegexp}
		if err := b.Validate(); err != nil {
			return fmt.Errorf("%w: entries[%d]: builder: %v", ErrMalformedRoots, i, err)
		}
		if !e.SLSABuildLevel.Valid() || !e.ValidUntil.After(e.ValidFrom) {
			return fmt.Errorf("%w: entries[%d]: needs a level 0-3 and validUntil after validFrom", ErrMalformedRoots, i)
		}
		switch {
		case e.Signer.PublicKey != "":
			// Every entry's key must match its fingerprint; a key is parsed
			// once per distinct PEM text.
			if pemFP[e.Signer.PublicKey] != e.Signer.KeyFingerprint {
				k, err := attest.ParsePublicKey([]byte(e.Signer.PublicKey))
				if err != nil {
					return fmt.Errorf("%w: entries[%d]: %v", ErrMalformedRoots, i, err)
				}
				if k.Fingerprint != e.Signer.KeyFingerprint {
					return fmt.Errorf("%w: entries[%d]: keyFingerprint %q does not match the public key (%s)", ErrMalformedRoots, i, e.Signer.KeyFingerprint, k.Fingerprint)
				}
				pemFP[e.Signer.PublicKey] = k.Fingerprint
				if _, ok := r.keyByFP[k.Fingerprint]; !ok {
					r.keyByFP[k.Fingerprint] = k
					r.keys = append(r.keys, k)
				}
			}
		case e.Signer.OIDCIssuer != "":
			s := questionnaire.Signer{OIDCIssuer: e.Signer.OIDCIssuer, SAN: e.Signer.SAN, SANRegexp: e.Signer.SANRegexp}
			if err := s.Validate(); err != nil {
				return fmt.Errorf("%w: entries[%d]: %v", ErrMalformedRoots, i, err)
			}
			if e.Signer.SANRegexp != "" {
				r.sanRegexp[i] = regexp.MustCompile(questionnaire.AnchorRegexp(e.Signer.SANRegexp)) // validated above
			}
			r.byIssuer[e.Signer.OIDCIssuer] = append(r.byIssuer[e.Signer.OIDCIssuer], i)
		default:
			return fmt.Errorf("%w: entries[%d]: signer needs publicKey or oidcIssuer", ErrMalformedRoots, i)
		}
		if e.BuilderIDRegexp != "" {
			r.builderRegexp[i] = regexp.MustCompile(questionnaire.AnchorRegexp(e.BuilderIDRegexp)) // validated above
			r.patterns[e.Signer.id()] = append(r.patterns[e.Signer.id()], i)
			continue
		}
		k := e.Signer.id() + "\x00" + e.BuilderID
		r.index[k] = append(r.index[k], i)
		r.builders[e.BuilderID] = true
	}
	return nil
}

// Keys returns the distinct public keys of the roots.
func (r *Roots) Keys() []*attest.PublicKey { return r.keys }

// Marshal encodes the roots reproducibly: same entries, same bytes.
func (r *Roots) Marshal() ([]byte, error) { return canonical.JSON(r) }

// ParseRoots decodes an unsigned roots map.
func ParseRoots(b []byte) (*Roots, error) {
	var r Roots
	if err := decodeDocument(b, &r, RootsSchema, MaxRootsBytes, ErrMalformedRoots); err != nil {
		return nil, err
	}
	if err := r.buildIndex(); err != nil {
		return nil, err
	}
	return &r, nil
}

// LoadRoots reads a roots file, which is a plain roots map or a DSSE
// envelope around one. With keys, the map must be a DSSE envelope signed by
// one of them; a signed map without keys is refused, since its signature
// could not be checked.
func LoadRoots(ctx context.Context, b []byte, keys []*attest.PublicKey) (*Roots, error) {
	signed := isEnvelope(b)
	switch {
	case !signed && len(keys) > 0:
		return nil, fmt.Errorf("%w: expected a DSSE envelope signed by %s, got an unsigned map", ErrRootsUnsigned, fingerprints(keys))
	case !signed:
		return ParseRoots(b)
	case len(keys) == 0:
		return nil, fmt.Errorf("%w: the roots map is signed; give the signer's key (--roots-key) to check it", ErrRootsUnsigned)
	}
	env, err := attest.ParseEnvelope(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedRoots, err)
	}
	payload, _, err := attest.VerifyEnvelope(ctx, env, RootsPayloadType, keys)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRootsUnsigned, err)
	}
	return ParseRoots(payload)
}

// Sign wraps the roots map in a DSSE envelope signed by key.
func (r *Roots) Sign(ctx context.Context, key *attest.PrivateKey) ([]byte, error) {
	b, err := r.Marshal()
	if err != nil {
		return nil, err
	}
	env, err := attest.Sign(ctx, RootsPayloadType, b, key)
	if err != nil {
		return nil, err
	}
	return attest.MarshalEnvelope(env)
}

// isEnvelope reports whether b looks like a DSSE envelope.
func isEnvelope(b []byte) bool {
	// Only a probe of the format: a document with a payloadType in any
	// case is read as an envelope, and the strict decoder then refuses
	// duplicate and case-variant names with their own error.
	var probe map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(b), &probe) != nil {
		return false
	}
	for k := range probe {
		if strings.EqualFold(k, "payloadType") {
			return true
		}
	}
	return false
}

func fingerprints(keys []*attest.PublicKey) string {
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Fingerprint
	}
	return fmt.Sprint(fps)
}

// LookupResult is the outcome of looking up a (signer, builder.id) pair.
type LookupResult struct {
	Level questionnaire.Level
	Entry *Entry // nil when the pair is not in the roots
	// Reason explains the level in words.
	Reason string
}

// Lookup returns the highest level the roots grant to provenance signed by
// signer for builderID, built at buildTime and verified at verifyTime. The
// cost does not depend on the number of entries. Errors: ErrSignerNotPaired
// when the builder.id is in the roots only with other signers,
// ErrNoBuildTime, ErrOutsideCertifiedWindow, ErrCertificationExpired,
// ErrUntrustedBuilder. A builder that is not certified for this signer at
// these times is level 0, and the error says why.
func (r *Roots) Lookup(signer Signer, builderID string, buildTime, verifyTime time.Time, checkVerifyTime bool) (LookupResult, error) {
	var idx []int
	if signer.OIDCIssuer != "" {
		// A Sigstore identity is recognised only through an entry: issuer
		// exact, SAN exact or anchored pattern. The cost grows with the
		// entries of that issuer only.
		known := false
		for _, i := range r.byIssuer[signer.OIDCIssuer] {
			e := &r.Entries[i]
			if e.Signer.SAN == signer.SAN || (r.sanRegexp[i] != nil && r.sanRegexp[i].MatchString(signer.SAN)) {
				known = true
				if r.builderMatches(i, builderID) {
					idx = append(idx, i)
				}
			}
		}
		if len(idx) == 0 {
			if known || r.builderKnown(builderID) {
				return LookupResult{}, fmt.Errorf("%w: certificate %s (issuer %s) is not paired with %s in the roots of trust", ErrSignerNotPaired, safetext.Term(signer.SAN), safetext.Term(signer.OIDCIssuer), safetext.Term(builderID))
			}
			return LookupResult{}, fmt.Errorf("%w: expected a certificate identity from the roots of trust, got %s (issuer %s)", ErrUnknownSigner, safetext.Term(signer.SAN), safetext.Term(signer.OIDCIssuer))
		}
	} else {
		idx = r.index[signer.id()+"\x00"+builderID]
		for _, i := range r.patterns[signer.id()] {
			if r.builderRegexp[i].MatchString(builderID) {
				idx = append(idx, i)
			}
		}
	}
	if len(idx) == 0 {
		if r.builderKnown(builderID) {
			return LookupResult{}, fmt.Errorf("%w: %s is in the roots of trust, but not with this signer", ErrSignerNotPaired, safetext.Term(builderID))
		}
		return LookupResult{Reason: "not in the roots of trust: level 0"}, fmt.Errorf("%w: expected a builder.id certified in the roots of trust, got %s (level 0)", ErrUntrustedBuilder, safetext.Term(builderID))
	}
	if buildTime.IsZero() {
		return LookupResult{}, fmt.Errorf("%w: runDetails.metadata has neither finishedOn nor startedOn, so the certified window cannot be checked", ErrNoBuildTime)
	}
	var best *Entry
	var windowErr error
	for _, i := range idx {
		e := &r.Entries[i]
		if !e.Contains(buildTime) {
			windowErr = fmt.Errorf("%w: built at %s, outside the certified window %s to %s (level 0)", ErrOutsideCertifiedWindow, buildTime.UTC().Format(time.RFC3339), e.ValidFrom.Format(time.RFC3339), e.ValidUntil.Format(time.RFC3339))
			continue
		}
		if checkVerifyTime && !e.Contains(verifyTime) {
			windowErr = certificationErr(e, verifyTime)
			continue
		}
		if best == nil || e.SLSABuildLevel > best.SLSABuildLevel {
			best = e
		}
	}
	if best == nil {
		return LookupResult{Reason: "level 0: " + windowErr.Error()}, windowErr
	}
	return LookupResult{Level: best.SLSABuildLevel, Entry: best,
		Reason: fmt.Sprintf("certified by %s until %s", best.CertifiedBy.Name, best.ValidUntil.Format(time.RFC3339))}, nil
}

// certificationErr says why a certification is not valid at verifyTime.
func certificationErr(e *Entry, verifyTime time.Time) error {
	if verifyTime.Before(e.ValidFrom) {
		return fmt.Errorf("%w: certified from %s, verified at %s (level 0)", ErrCertificationExpired, e.ValidFrom.Format(time.RFC3339), verifyTime.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%w: certification expired on %s, verified at %s (level 0)", ErrCertificationExpired, e.ValidUntil.Format(time.RFC3339), verifyTime.UTC().Format(time.RFC3339))
}

// builderMatches reports whether entry i covers builderID.
func (r *Roots) builderMatches(i int, builderID string) bool {
	if re := r.builderRegexp[i]; re != nil {
		return re.MatchString(builderID)
	}
	return r.Entries[i].BuilderID == builderID
}

// builderKnown reports whether any entry, with any signer, covers builderID.
// Pattern entries are scanned, so their number (not the map's size) is the
// cost.
func (r *Roots) builderKnown(builderID string) bool {
	if r.builders[builderID] {
		return true
	}
	for i, re := range r.builderRegexp {
		if re.MatchString(builderID) && r.Entries[i].BuilderIDRegexp != "" {
			return true
		}
	}
	return false
}
