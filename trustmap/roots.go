package trustmap

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/canonical"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// RootsSchema identifies the roots-of-trust format written today (v2: a
// serial, an expiry, and entries that name attestations by the sha256 of
// their DSSE payload).
const RootsSchema = "https://hallmark.build/roots/v2"

// RootsSchemaV3 is v2 plus trusted verifiers (whose VSAs are accepted).
// Compile writes it only for a map that has verifiers, so maps without
// them stay readable by trustmap releases that know v2 only.
const RootsSchemaV3 = "https://hallmark.build/roots/v3"

// RootsSchemaV1 is the first roots format: no serial, no expiry, entries
// name attestations by the sha256 of their envelope file. It is still read
// when unsigned; signed, it is refused (it could be an old map replayed).
const RootsSchemaV1 = "https://hallmark.build/roots/v1"

// RootsPayloadType is the DSSE payload type of a signed roots map.
const RootsPayloadType = "application/vnd.hallmark.roots+json"

// Roots validity: how long a compiled map is valid when compile is given no
// --valid-for, and the longest it may be.
const (
	DefaultRootsValidity = 30 * 24 * time.Hour
	MaxRootsValidity     = 366 * 24 * time.Hour
)

// Roots is a verifier's roots of trust: which signer may sign provenance for
// which builder.id, at which level, during which window.
type Roots struct {
	Schema string `json:"schema"`
	// Serial numbers the maps of one verifier: each compile writes a larger
	// one, and verify refuses a serial below the last one it accepted, so
	// an older map (from before a revocation) cannot be replayed.
	Serial uint64 `json:"serial,omitempty"`
	// Expires is when the map stops being valid: verify refuses it from
	// then on, so a stale map cannot be served forever.
	Expires    time.Time `json:"expires,omitzero"`
	CompiledAt time.Time `json:"compiledAt"`
	Entries    []Entry   `json:"entries"`
	// Verifiers (v3) are the verifiers whose VSAs are accepted, for
	// sources and dependencies and for verify-vsa.
	Verifiers []TrustedVerifier `json:"verifiers,omitempty"`

	verifierSet *VerifierSet

	// The cost of Lookup does not grow with the entries: exact builder.ids
	// and SANs are indexed, and patterns are matched once per distinct
	// builder.id or SAN (memo), not per entry per call.
	index     map[pair][]int // (signer key, builderID) -> entries
	bySAN     map[pair][]int // (issuer, exact SAN) -> entries
	reasons   []string       // each entry's LookupResult.Reason
	sanRegexp map[int]*regexp.Regexp
	// Entries whose SAN is a pattern, by issuer.
	sanPatterns map[string][]int
	// Entries whose builder is a pattern, by signer key, and all of them.
	patterns      map[string][]int
	builderRegexp map[int]*regexp.Regexp
	builderPats   []int
	builders      map[string]bool
	keys          []*attest.PublicKey
	keyByFP       map[string]*attest.PublicKey
	memo          *lookupMemo
}

// maxMemo bounds each memo of pattern matches (distinct builder.ids and
// SANs); a full memo starts over.
const maxMemo = 4096

// lookupMemo remembers which pattern entries match a builder.id, and
// which SAN pattern entries of an issuer match a SAN. Lookup is called from
// many goroutines (batches, the gate).
type lookupMemo struct {
	mu       sync.RWMutex
	builders map[string][]int // builder.id -> pattern entries matching it
	sans     map[string][]int // issuer + "\x00" + SAN -> SAN pattern entries matching it
}

// matching returns the entries of candidates whose pattern matches s, from
// the memo m or computed once.
func (l *lookupMemo) matching(m *map[string][]int, key, s string, candidates []int, re func(int) *regexp.Regexp) []int {
	if len(candidates) == 0 {
		return nil
	}
	l.mu.RLock()
	got, ok := (*m)[key]
	l.mu.RUnlock()
	if ok {
		return got
	}
	for _, i := range candidates {
		if re(i).MatchString(s) {
			got = append(got, i)
		}
	}
	l.mu.Lock()
	if len(*m) >= maxMemo {
		*m = map[string][]int{}
	}
	(*m)[key] = got
	l.mu.Unlock()
	return got
}

// builderPatternMatches returns the pattern entries (any signer) whose
// builder pattern matches builderID.
func (r *Roots) builderPatternMatches(builderID string) []int {
	return r.memo.matching(&r.memo.builders, builderID, builderID, r.builderPats, func(i int) *regexp.Regexp { return r.builderRegexp[i] })
}

// sanPatternMatches returns the entries of issuer whose SAN pattern matches
// san.
func (r *Roots) sanPatternMatches(issuer, san string) []int {
	candidates := r.sanPatterns[issuer]
	if len(candidates) == 0 {
		return nil
	}
	return r.memo.matching(&r.memo.sans, issuer+"\x00"+san, san, candidates, func(i int) *regexp.Regexp { return r.sanRegexp[i] })
}

// Entry is one root of trust.
type Entry struct {
	BuilderID string `json:"builderId,omitempty"`
	// BuilderIDRegexp pairs the signer with every builder.id this anchored
	// pattern matches (for example all release tags of a reusable
	// workflow), instead of one BuilderID.
	BuilderIDRegexp string              `json:"builderIdRegexp,omitempty"`
	Signer          Signer              `json:"signer"`
	SLSABuildLevel  questionnaire.Level `json:"slsaBuildLevel"`
	ValidFrom       time.Time           `json:"validFrom"`
	ValidUntil      time.Time           `json:"validUntil"`
	CertifiedBy     CertifiedBy         `json:"certifiedBy"`
	// AttestationDigest identifies the capability attestation the entry
	// comes from: the sha256 of its DSSE payload (the signed statement) in
	// v2 maps, of the envelope file in v1 maps.
	AttestationDigest string `json:"attestationDigest"`
}

// Signer identifies a provenance signer: a public key, or a Sigstore
// identity (OIDC issuer and certificate SAN, exact or anchored pattern).
type Signer struct {
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	PublicKey      string `json:"publicKey,omitempty"`
	OIDCIssuer     string `json:"oidcIssuer,omitempty"`
	SAN            string `json:"san,omitempty"`
	SANRegexp      string `json:"sanRegexp,omitempty"`
	// RequireTimestamp, for a key signer, accepts its signatures only with
	// a verified transparency-log entry or signed timestamp (a key-signed
	// Sigstore bundle that was logged or timestamped), so that a leaked key
	// cannot sign unnoticed or back-date. Default false: the key's
	// signature suffices, in a plain DSSE envelope as in a bundle.
	RequireTimestamp bool `json:"requireTimestamp,omitempty"`
}

// pair is a key of two strings.
type pair struct{ a, b string }

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
// reproducible output. Its Serial and Expires are left for the caller
// (Compile sets them).
func NewRoots(compiledAt time.Time, entries []Entry) (*Roots, error) {
	return NewRootsWithVerifiers(compiledAt, entries, nil)
}

// NewRootsWithVerifiers is NewRoots with trusted verifiers: a map with
// verifiers is a v3 map.
func NewRootsWithVerifiers(compiledAt time.Time, entries []Entry, verifiers []TrustedVerifier) (*Roots, error) {
	r := &Roots{Schema: RootsSchema, CompiledAt: compiledAt.UTC(), Entries: slices.Clone(entries), Verifiers: slices.Clone(verifiers)}
	if len(r.Verifiers) > 0 {
		r.Schema = RootsSchemaV3
		slices.SortFunc(r.Verifiers, func(a, b TrustedVerifier) int {
			return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Signer.id(), b.Signer.id()), a.ValidFrom.Compare(b.ValidFrom), cmp.Compare(a.AttestationDigest, b.AttestationDigest))
		})
	}
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
	r.index = make(map[pair][]int, len(r.Entries))
	r.bySAN = map[pair][]int{}
	r.reasons = make([]string, len(r.Entries))
	r.sanRegexp = map[int]*regexp.Regexp{}
	r.sanPatterns = map[string][]int{}
	r.patterns = map[string][]int{}
	r.builderRegexp = map[int]*regexp.Regexp{}
	r.builderPats = nil
	r.builders = map[string]bool{}
	r.memo = &lookupMemo{builders: map[string][]int{}, sans: map[string][]int{}}
	r.keyByFP = map[string]*attest.PublicKey{}
	r.keys = nil
	v := entryValidator{pemFP: map[string]string{}}
	for i := range r.Entries {
		e := &r.Entries[i]
		c, err := v.validate(e)
		if err != nil {
			return fmt.Errorf("%w: %w: entries[%d]: %w", ErrMalformedRoots, ErrInvalidRootsEntry, i, err)
		}
		if c.key != nil {
			if _, ok := r.keyByFP[c.key.Fingerprint]; !ok {
				r.keyByFP[c.key.Fingerprint] = c.key
				r.keys = append(r.keys, c.key)
			}
		}
		if iss := e.Signer.OIDCIssuer; iss != "" {
			if c.san != nil {
				r.sanRegexp[i] = c.san
				r.sanPatterns[iss] = append(r.sanPatterns[iss], i)
			} else {
				k := pair{iss, e.Signer.SAN}
				r.bySAN[k] = append(r.bySAN[k], i)
			}
		}
		r.reasons[i] = fmt.Sprintf("certified by %s until %s", e.CertifiedBy.Name, e.ValidUntil.Format(time.RFC3339))
		if c.builder != nil {
			r.builderRegexp[i] = c.builder
			r.builderPats = append(r.builderPats, i)
			r.patterns[e.Signer.id()] = append(r.patterns[e.Signer.id()], i)
			continue
		}
		k := pair{e.Signer.id(), e.BuilderID}
		r.index[k] = append(r.index[k], i)
		r.builders[e.BuilderID] = true
	}
	vs, err := NewVerifierSet(r.Verifiers)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedRoots, err)
	}
	r.verifierSet = vs
	return nil
}

// entryValidator checks roots entries; a key is parsed once per distinct
// PEM text.
type entryValidator struct {
	pemFP map[string]string
	keys  map[string]*attest.PublicKey
}

// compiledEntry is what validating an entry produced.
type compiledEntry struct {
	key     *attest.PublicKey
	san     *regexp.Regexp
	builder *regexp.Regexp
}

// validate checks one entry: a builder.id (absolute URI) or an anchored
// pattern, a level, a window, and exactly one signer kind — a public key
// with the fingerprint it has, or a Sigstore identity (https issuer with
// exactly one of san and sanRegexp). An entry that could never match (a
// publicKey without keyFingerprint) is refused, not kept inert.
func (v *entryValidator) validate(e *Entry) (compiledEntry, error) {
	var c compiledEntry
	b := questionnaire.Builder{ID: e.BuilderID, IDRegexp: e.BuilderIDRegexp}
	if b.ID == "" && b.IDRegexp == "" {
		return c, errors.New("builder: give builderId or builderIdRegexp")
	}
	if err := b.Validate(); err != nil {
		return c, fmt.Errorf("builder: %w", err)
	}
	if e.BuilderIDRegexp != "" {
		c.builder, _ = questionnaire.CompileAnchored(e.BuilderIDRegexp) // validated above
	}
	if !e.SLSABuildLevel.Valid() {
		return c, fmt.Errorf("slsaBuildLevel: expected 0-3, got %d", e.SLSABuildLevel)
	}
	if e.ValidFrom.IsZero() || !e.ValidUntil.After(e.ValidFrom) {
		return c, errors.New("validUntil must be after validFrom")
	}
	s := e.Signer
	switch {
	case s.PublicKey != "" || s.KeyFingerprint != "":
		if s.OIDCIssuer != "" || s.SAN != "" || s.SANRegexp != "" {
			return c, errors.New("signer: give a public key or a Sigstore identity, not both")
		}
		if s.PublicKey == "" || s.KeyFingerprint == "" {
			return c, errors.New("signer: a key signer needs both publicKey and keyFingerprint")
		}
		if fp, ok := v.pemFP[s.PublicKey]; ok {
			if fp != s.KeyFingerprint {
				return c, fmt.Errorf("signer: keyFingerprint %q does not match the public key (%s)", safetext.Term(s.KeyFingerprint), fp)
			}
			c.key = v.keys[fp]
			return c, nil
		}
		k, err := attest.ParsePublicKey([]byte(s.PublicKey))
		if err != nil {
			return c, fmt.Errorf("signer: %v", err)
		}
		if k.Fingerprint != s.KeyFingerprint {
			return c, fmt.Errorf("signer: keyFingerprint %q does not match the public key (%s)", safetext.Term(s.KeyFingerprint), k.Fingerprint)
		}
		if v.keys == nil {
			v.keys = map[string]*attest.PublicKey{}
		}
		if v.pemFP == nil {
			v.pemFP = map[string]string{}
		}
		v.pemFP[s.PublicKey] = k.Fingerprint
		v.keys[k.Fingerprint] = k
		c.key = k
	case s.OIDCIssuer != "" || s.SAN != "" || s.SANRegexp != "":
		if s.RequireTimestamp {
			return c, errors.New("signer: requireTimestamp applies to key signers (a Sigstore identity is always logged)")
		}
		qs := questionnaire.Signer{OIDCIssuer: s.OIDCIssuer, SAN: s.SAN, SANRegexp: s.SANRegexp}
		if err := qs.Validate(); err != nil {
			return c, fmt.Errorf("signer: %w", err)
		}
		if s.SANRegexp != "" {
			c.san, _ = questionnaire.CompileAnchored(s.SANRegexp) // validated above
		}
	default:
		return c, errors.New("signer: needs publicKey with keyFingerprint, or oidcIssuer")
	}
	return c, nil
}

// Keys returns the distinct public keys of the roots.
func (r *Roots) Keys() []*attest.PublicKey { return r.keys }

// Marshal encodes the roots reproducibly: same entries, same bytes.
func (r *Roots) Marshal() ([]byte, error) { return canonical.JSON(r) }

// ParseRoots decodes a roots map (v2, or v1) without checking a signature,
// its expiry or its serial: LoadRoots does those.
func ParseRoots(b []byte) (*Roots, error) {
	var r Roots
	schema := RootsSchema
	if s := probeSchema(b); s == RootsSchemaV1 || s == RootsSchemaV3 {
		schema = s
	}
	if err := decodeDocument(b, &r, schema, MaxRootsBytes, ErrMalformedRoots); err != nil {
		return nil, err
	}
	switch {
	case schema != RootsSchemaV3 && len(r.Verifiers) > 0:
		return nil, fmt.Errorf("%w: verifiers are a v3 field (schema %q), got them in %s", ErrMalformedRoots, RootsSchemaV3, schema)
	case schema == RootsSchemaV3 && len(r.Verifiers) == 0:
		return nil, fmt.Errorf("%w: a v3 map has verifiers; without them it is a v2 map", ErrMalformedRoots)
	case schema == RootsSchemaV1 && (r.Serial != 0 || !r.Expires.IsZero()):
		return nil, fmt.Errorf("%w: serial and expires are v2 fields; a v1 map has neither", ErrMalformedRoots)
	case schema != RootsSchemaV1 && (r.Serial == 0 || r.Expires.IsZero()):
		return nil, fmt.Errorf("%w: a %s map needs a serial (1 or more) and expires", ErrMalformedRoots, schema)
	case schema != RootsSchemaV1 && !r.Expires.After(r.CompiledAt):
		return nil, fmt.Errorf("%w: expires %s is not after compiledAt %s", ErrMalformedRoots, r.Expires.Format(time.RFC3339), r.CompiledAt.Format(time.RFC3339))
	case schema != RootsSchemaV1 && r.Expires.Sub(r.CompiledAt) > MaxRootsValidity:
		// A map valid for years would outlive every revocation compiled
		// after it: compile never writes one, and none is read.
		return nil, fmt.Errorf("%w: expected expires at most %s after compiledAt %s, got %s", ErrMalformedRoots, MaxRootsValidity, r.CompiledAt.Format(time.RFC3339), r.Expires.Format(time.RFC3339))
	}
	if err := r.buildIndex(); err != nil {
		return nil, err
	}
	return &r, nil
}

// RootsSerial returns the serial of a roots file, plain or signed, without
// checking a signature (0 for a v1 map). It is for compile, to number the
// next map; never trust a map on it.
func RootsSerial(b []byte) (uint64, error) {
	if isEnvelope(b) {
		env, err := attest.ParseEnvelope(b)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrMalformedRoots, err)
		}
		if b, err = attest.DecodePayload(env); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrMalformedRoots, err)
		}
	}
	r, err := ParseRoots(b)
	if err != nil {
		return 0, err
	}
	return r.Serial, nil
}

// probeSchema returns the schema member of a document, or "".
func probeSchema(b []byte) string {
	var probe struct {
		Schema string `json:"schema"`
	}
	_ = json.Unmarshal(b, &probe) // a malformed document is reported by the strict decode
	return probe.Schema
}

// LoadOptions are what a verifier checks a roots map or a policy against,
// besides its signature.
type LoadOptions struct {
	// At is the verification time: a map or policy that expired by then is
	// refused. Required.
	At time.Time
	// MinSerial is the last serial the verifier accepted: a signed document
	// with a smaller serial is an older one replayed, and refused. 0 accepts
	// any serial.
	MinSerial uint64
}

// LoadRoots reads a roots file, which is a plain roots map or a DSSE
// envelope around one. With keys, the map must be a DSSE envelope signed by
// one of them, carry a serial (maps compiled before serials existed are
// refused: an old map could be replayed) not below opts.MinSerial, and not
// have expired at opts.At. A signed map without keys is refused, since its
// signature could not be checked. An unsigned map is read as it is (v1 or
// v2); a v2 one is still refused once expired.
func LoadRoots(ctx context.Context, b []byte, keys []*attest.PublicKey, opts LoadOptions) (*Roots, error) {
	if opts.At.IsZero() {
		return nil, errors.New("load roots: no verification time")
	}
	if err := DistinctKeys(keys); err != nil {
		return nil, fmt.Errorf("--roots-key: %w", err)
	}
	signed := isEnvelope(b)
	var r *Roots
	switch {
	case !signed && len(keys) > 0:
		return nil, fmt.Errorf("%w: expected a DSSE envelope signed by %s, got an unsigned map", ErrRootsUnsigned, fingerprints(keys))
	case !signed:
		var err error
		if r, err = ParseRoots(b); err != nil {
			return nil, err
		}
	case len(keys) == 0:
		return nil, fmt.Errorf("%w: the roots map is signed; give the signer's key (--roots-key) to check it", ErrRootsUnsigned)
	default:
		env, err := attest.ParseEnvelope(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedRoots, err)
		}
		payload, _, err := VerifyThreshold(ctx, env, RootsPayloadType, keys, 1)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRootsUnsigned, err)
		}
		if r, err = ParseRoots(payload); err != nil {
			return nil, err
		}
		if r.Serial == 0 {
			return nil, fmt.Errorf("%w: the signed roots map has no serial (schema %s, compiled before serials and expiry existed), so an older map could be replayed in its place; recompile it with trustmap compile --sign-key", ErrNoSerial, safetext.Term(r.Schema))
		}
	}
	if err := checkFresh("roots map", r.Serial, r.Expires, opts, ErrRootsExpired, ErrRootsRollback); err != nil {
		return nil, err
	}
	return r, nil
}

// checkFresh refuses an expired document and one whose serial is below the
// last one accepted.
func checkFresh(what string, serial uint64, expires time.Time, opts LoadOptions, expired, rollback error) error {
	if !expires.IsZero() && !opts.At.Before(expires) {
		return fmt.Errorf("%w: the %s expired at %s, checked at %s", expired, what, expires.UTC().Format(time.RFC3339), opts.At.UTC().Format(time.RFC3339))
	}
	if serial < opts.MinSerial {
		return fmt.Errorf("%w: expected a %s with serial %d or more (the last one accepted), got serial %d", rollback, what, opts.MinSerial, serial)
	}
	return nil
}

// Sign wraps the roots map in a DSSE envelope signed by key. A map without
// a serial or expiry is not signed: verifiers would refuse it.
func (r *Roots) Sign(ctx context.Context, key *attest.PrivateKey) ([]byte, error) {
	if r.Serial == 0 || r.Expires.IsZero() {
		return nil, fmt.Errorf("%w: set the serial and expiry before signing", ErrNoSerial)
	}
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
		// exact, SAN exact or anchored pattern.
		exact := r.bySAN[pair{signer.OIDCIssuer, signer.SAN}]
		matched := r.sanPatternMatches(signer.OIDCIssuer, signer.SAN)
		for _, i := range exact {
			if r.builderMatches(i, builderID) {
				idx = append(idx, i)
			}
		}
		for _, i := range matched {
			if r.builderMatches(i, builderID) {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx) // the entries' order, as one scan of the issuer's entries gives
		if len(idx) == 0 {
			if len(exact)+len(matched) > 0 || r.builderKnown(builderID) {
				return LookupResult{}, fmt.Errorf("%w: certificate %s (issuer %s) is not paired with %s in the roots of trust", ErrSignerNotPaired, safetext.Term(signer.SAN), safetext.Term(signer.OIDCIssuer), safetext.Term(builderID))
			}
			return LookupResult{}, fmt.Errorf("%w: expected a certificate identity from the roots of trust, got %s (issuer %s)", ErrUnknownSigner, safetext.Term(signer.SAN), safetext.Term(signer.OIDCIssuer))
		}
	} else {
		id := signer.id()
		idx = slices.Clip(r.index[pair{id, builderID}]) // appending copies
		for _, i := range r.builderPatternMatches(builderID) {
			if r.Entries[i].Signer.KeyFingerprint == signer.KeyFingerprint && r.Entries[i].Signer.id() == id {
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
	best := -1
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
		if best < 0 || e.SLSABuildLevel > r.Entries[best].SLSABuildLevel {
			best = i
		}
	}
	if best < 0 {
		return LookupResult{Reason: "level 0: " + windowErr.Error()}, windowErr
	}
	return LookupResult{Level: r.Entries[best].SLSABuildLevel, Entry: &r.Entries[best], Reason: r.reasons[best]}, nil
}

// certificationErr says why a certification is not valid at verifyTime.
func certificationErr(e *Entry, verifyTime time.Time) error {
	if verifyTime.Before(e.ValidFrom) {
		return fmt.Errorf("%w: certified from %s, verified at %s (level 0)", ErrCertificationExpired, e.ValidFrom.Format(time.RFC3339), verifyTime.UTC().Format(time.RFC3339))
	}
	return fmt.Errorf("%w: certification expired on %s, verified at %s (level 0)", ErrCertificationExpired, e.ValidUntil.Format(time.RFC3339), verifyTime.UTC().Format(time.RFC3339))
}

// builderMatches reports whether entry i covers builderID (a pattern
// through the memo of builder.ids).
func (r *Roots) builderMatches(i int, builderID string) bool {
	if r.builderRegexp[i] != nil {
		return slices.Contains(r.builderPatternMatches(builderID), i)
	}
	return r.Entries[i].BuilderID == builderID
}

// builderKnown reports whether any entry, with any signer, covers builderID.
func (r *Roots) builderKnown(builderID string) bool {
	return r.builders[builderID] || len(r.builderPatternMatches(builderID)) > 0
}
