package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/hallmark-build/hallmark/internal/strictjson"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// Limits on untrusted envelopes.
const (
	MaxEnvelopeBytes = 8 << 20
	MaxSignatures    = 16
)

// Envelope is a DSSE envelope.
type Envelope = ssldsse.Envelope

// Sign wraps payload in a DSSE envelope signed by key. The signature's keyid
// is the key's fingerprint.
func Sign(ctx context.Context, payloadType string, payload []byte, key *PrivateKey) (*Envelope, error) {
	s, err := key.sigSigner()
	if err != nil {
		return nil, err
	}
	es, err := ssldsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: s, Pub: key.signer.Public(), PubKeyID: key.fp})
	if err != nil {
		return nil, err
	}
	return es.SignPayload(ctx, payloadType, payload)
}

// MarshalEnvelope encodes an envelope as one line of JSON with a newline, so
// files of several envelopes are JSON Lines.
func MarshalEnvelope(e *Envelope) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseEnvelope decodes a DSSE envelope without verifying it.
func ParseEnvelope(b []byte) (*Envelope, error) {
	e, _, err := parseEnvelope(b, false)
	return e, err
}

// ParsePlainEnvelope is ParseEnvelope for an envelope in its plain form
// only: exactly the members DSSE defines, each at most once, strings
// without escape sequences. For anything else it reads nothing and
// answers plain=false (ParseEnvelope reads it). A document read in plain
// form has no member but DSSE's, so a caller that tells envelopes from
// other formats by their members knows what it is without looking again.
func ParsePlainEnvelope(b []byte) (e *Envelope, plain bool, err error) {
	return parseEnvelope(b, true)
}

func parseEnvelope(b []byte, plainOnly bool) (*Envelope, bool, error) {
	if len(b) > MaxEnvelopeBytes {
		if plainOnly {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("%w: larger than %d bytes", ErrMalformedEnvelope, MaxEnvelopeBytes)
	}
	// One reading: duplicate and case-variant names are refused, unknown
	// members ignored (DSSE), trailing data refused. The plain form is
	// read in one pass; anything else by the strict decoder.
	b = bytes.TrimSpace(b)
	e, plain := parseEnvelopePlain(b)
	if !plain {
		if plainOnly {
			return nil, false, nil
		}
		e = &Envelope{}
		if err := strictjson.UnmarshalOpen(b, e); err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrMalformedEnvelope, err)
		}
	}
	if e.PayloadType == "" {
		return nil, plain, fmt.Errorf("%w: missing payloadType", ErrMalformedEnvelope)
	}
	if e.Payload == "" {
		return nil, plain, fmt.Errorf("%w: missing payload", ErrMalformedEnvelope)
	}
	if len(e.Signatures) == 0 {
		return nil, plain, ErrNoSignatures
	}
	if len(e.Signatures) > MaxSignatures {
		return nil, plain, fmt.Errorf("%w: %d signatures, at most %d accepted", ErrMalformedEnvelope, len(e.Signatures), MaxSignatures)
	}
	return e, plain, nil
}

// parseEnvelopePlain reads an envelope in its plain form in one pass:
// exactly the members DSSE defines (payloadType, payload, signatures with
// keyid and sig), each at most once, strings without escape sequences,
// valid UTF-8, one value. It answers ok=false on anything else, which the
// strict decoder then reads; what it reads, the strict decoder reads the
// same way (FuzzParseEnvelopePlain).
func parseEnvelopePlain(b []byte) (*Envelope, bool) {
	d, done := strictjson.Decoder(b, jsontext.AllowDuplicateNames(true))
	defer done()
	e := &Envelope{}
	var seen [3]bool
	ok := strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "payloadType":
			if !strictjson.Once(&seen[0]) {
				return false
			}
			t, ok := strictjson.ReadPlainBytes(d)
			e.PayloadType = PayloadType // the common type, not copied
			if string(t) != PayloadType {
				e.PayloadType = string(t)
			}
			return ok
		case "payload":
			return strictjson.Once(&seen[1]) && strictjson.ReadPlainString(d, &e.Payload)
		case "signatures":
			if !strictjson.Once(&seen[2]) || d.PeekKind() != '[' {
				return false
			}
			if _, err := d.ReadToken(); err != nil {
				return false
			}
			e.Signatures = []ssldsse.Signature{}
			for d.PeekKind() != ']' {
				var sig ssldsse.Signature
				var seenSig [2]bool
				if !strictjson.ReadPlainObject(d, func(name []byte) bool {
					switch string(name) {
					case "keyid":
						return strictjson.Once(&seenSig[0]) && strictjson.ReadPlainString(d, &sig.KeyID)
					case "sig":
						return strictjson.Once(&seenSig[1]) && strictjson.ReadPlainString(d, &sig.Sig)
					}
					return false
				}) {
					return false
				}
				e.Signatures = append(e.Signatures, sig)
			}
			_, err := d.ReadToken()
			return err == nil
		}
		return false
	})
	if !ok {
		return nil, false
	}
	if !strictjson.AtEnd(d) {
		return nil, false
	}
	return e, true
}

// DecodePayload returns the payload bytes of an envelope without verifying
// any signature (for co-signing: a new signature covers exactly these
// bytes). Never trust them before VerifyEnvelope.
func DecodePayload(e *Envelope) ([]byte, error) {
	b, err := decodeB64(e.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformedEnvelope, err)
	}
	return b, nil
}

// decodeB64 accepts standard and URL-safe base64, padded or not, as DSSE
// allows.
func decodeB64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not valid base64")
}

// VerifyEnvelope checks that at least one signature of e verifies with one of
// keys, and that the payload type is the expected one. It returns the
// verified payload (never re-read the envelope after this) and the key that
// verified it. The work is bounded as VerifyEnvelopeBudget describes, with a
// budget for this envelope alone.
func VerifyEnvelope(ctx context.Context, e *Envelope, payloadType string, keys []*PublicKey) ([]byte, *PublicKey, error) {
	return VerifyEnvelopeBudget(ctx, e, payloadType, keys, NewSignatureBudget(keys))
}

// SignatureBudget bounds the signature checks (one signature against one
// key) spent on the envelopes of one input, for example a provenance file
// of many envelopes. Share one budget across the envelopes of a file.
type SignatureBudget struct {
	// Limit is the number of checks allowed; Used the number made.
	Limit, Used int
	keys        []*PublicKey
	byFP        map[string]*PublicKey
}

// MaxSignatureChecks is added to twice the number of keys to make a
// budget: enough to try every key on two signatures without keyids, far
// from every key on every signature of every envelope.
const MaxSignatureChecks = 64

// NewSignatureBudget returns the budget for envelopes checked against keys.
func NewSignatureBudget(keys []*PublicKey) *SignatureBudget {
	return &SignatureBudget{Limit: 2*len(keys) + MaxSignatureChecks}
}

// NewIndexedSignatureBudget is NewSignatureBudget for a set of keys that
// is indexed already: byFingerprint maps each key's fingerprint to it (and
// holds no other key). Verifying with those keys then costs no index per
// budget, however many keys there are.
func NewIndexedSignatureBudget(keys []*PublicKey, byFingerprint map[string]*PublicKey) *SignatureBudget {
	b := NewSignatureBudget(keys)
	if len(byFingerprint) == len(keys) {
		b.keys, b.byFP = keys, byFingerprint
	}
	return b
}

// index maps fingerprints to keys, built once per budget.
func (b *SignatureBudget) key(keys []*PublicKey, fp string) *PublicKey {
	if b.byFP == nil || len(b.keys) != len(keys) || (len(keys) > 0 && &b.keys[0] != &keys[0]) {
		b.keys, b.byFP = keys, make(map[string]*PublicKey, len(keys))
		for _, k := range keys {
			b.byFP[k.Fingerprint] = k
		}
	}
	return b.byFP[fp]
}

// VerifyEnvelopeBudget is VerifyEnvelope with a shared budget. A keyid that
// names one of keys selects that key alone: one check. A signature without
// a keyid, or with one that names no key, is tried with every key, each try
// taken from the budget; when the budget is spent the envelope fails with
// ErrTooManySignatureChecks instead of trying on (256 envelopes of 16
// signatures against 1,000 keys would otherwise be four million checks).
func VerifyEnvelopeBudget(ctx context.Context, e *Envelope, payloadType string, keys []*PublicKey, b *SignatureBudget) ([]byte, *PublicKey, error) {
	if len(keys) == 0 {
		return nil, nil, ErrNoKeys
	}
	if len(e.Signatures) == 0 {
		return nil, nil, ErrNoSignatures
	}
	if e.PayloadType != payloadType {
		return nil, nil, fmt.Errorf("%w: expected %q, got %q", ErrWrongPayloadType, payloadType, truncate(e.PayloadType, 80))
	}
	payload, err := decodeB64(e.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: payload: %v", ErrMalformedEnvelope, err)
	}
	var m signedMessage
	check := func(k *PublicKey, sig []byte) (bool, error) {
		if b.Used >= b.Limit {
			return false, fmt.Errorf("%w: %d signature checks spent on this input (at most %d for %d keys); give each signature the keyid of its key", ErrTooManySignatureChecks, b.Used, b.Limit, len(keys))
		}
		b.Used++
		v, h, err := k.verifier()
		if err != nil {
			return false, err
		}
		if h == 0 {
			return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(m.pae(e.PayloadType, payload))) == nil, nil
		}
		return v.VerifySignature(bytes.NewReader(sig), nil, options.WithDigest(m.digest(h, e.PayloadType, payload))) == nil, nil
	}
	for _, s := range e.Signatures {
		sig, err := decodeB64(s.Sig)
		if err != nil {
			continue
		}
		candidates := keys
		if k := b.key(keys, s.KeyID); k != nil {
			candidates = []*PublicKey{k} // the keyid names a key: that one only
		}
		for _, k := range candidates {
			ok, err := check(k, sig)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				return payload, k, nil
			}
		}
	}
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Fingerprint
	}
	if len(fps) > 8 {
		fps = append(fps[:8], fmt.Sprintf("and %d more", len(keys)-8))
	}
	return nil, nil, fmt.Errorf("%w: expected a signature by %v, none of the %d signatures verifies", ErrBadSignature, fps, len(e.Signatures))
}

// Verified is a verified capability attestation.
type Verified struct {
	Statement     *Statement
	Predicate     *Predicate
	Key           *PublicKey // the key whose signature verified
	AnswersDigest string     // sha256 of the answers document (the subject)
	// PayloadDigest is the attestation's identity: the sha256 of the DSSE
	// payload, the statement whose signature verified. Re-encoding the
	// envelope (whitespace, base64 alphabet, extra or reordered signatures,
	// keyids) does not change it.
	PayloadDigest string
	// EnvelopeDigest is the sha256 of the envelope file as given: it
	// changes with every re-encoding, so it identifies bytes, not an
	// attestation (kept for revocations written against file digests).
	EnvelopeDigest string
}

// VerifyOptions controls Verify.
type VerifyOptions struct {
	// At is the time validity is checked at. Required.
	At time.Time
	// Answers, when non-nil, must be the exact bytes of the answers
	// document the attestation names.
	Answers []byte
}

// Verify checks a capability attestation envelope: signature by one of keys,
// payload type, statement and predicate types, validity at opts.At, and the
// answers digest when answers are given. Each failure wraps its own sentinel.
func Verify(ctx context.Context, envelope []byte, keys []*PublicKey, opts VerifyOptions) (*Verified, error) {
	if opts.At.IsZero() {
		return nil, fmt.Errorf("%w: no verification time", ErrValidity)
	}
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	payload, key, err := VerifyEnvelope(ctx, e, PayloadType, keys)
	if err != nil {
		return nil, err
	}
	st, p, err := ParseStatement(payload)
	if err != nil {
		return nil, err
	}
	at := opts.At
	if at.Before(p.ValidFrom) {
		return nil, fmt.Errorf("%w: valid from %s, checked at %s", ErrNotYetValid, p.ValidFrom.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if !at.Before(p.ValidUntil) {
		return nil, fmt.Errorf("%w: valid until %s, checked at %s", ErrExpired, p.ValidUntil.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	digest := st.Subject[0].Digest["sha256"]
	if opts.Answers != nil {
		sum := sha256.Sum256(opts.Answers)
		if got := hex.EncodeToString(sum[:]); got != digest {
			return nil, fmt.Errorf("%w: the attestation names sha256:%s, the answers given are sha256:%s", ErrAnswersDigestMismatch, digest, got)
		}
	}
	sum := sha256.Sum256(envelope)
	psum := sha256.Sum256(payload)
	return &Verified{Statement: st, Predicate: p, Key: key, AnswersDigest: digest,
		PayloadDigest: hex.EncodeToString(psum[:]), EnvelopeDigest: hex.EncodeToString(sum[:])}, nil
}

// ParseStatement decodes a capability statement and its predicate and checks
// their types and shape (not signatures or validity).
func ParseStatement(payload []byte) (*Statement, *Predicate, error) {
	var st Statement
	if err := strictjson.UnmarshalOpen(payload, &st); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformedStatement, err)
	}
	if st.Type != StatementType {
		return nil, nil, fmt.Errorf("%w: expected %q, got %q", ErrWrongStatementType, StatementType, truncate(st.Type, 80))
	}
	if st.PredicateType != PredicateType {
		return nil, nil, fmt.Errorf("%w: expected %q, got %q", ErrWrongPredicateType, PredicateType, truncate(st.PredicateType, 80))
	}
	if len(st.Subject) != 1 {
		return nil, nil, fmt.Errorf("%w: expected exactly one subject (the answers document), got %d", ErrMalformedStatement, len(st.Subject))
	}
	d := st.Subject[0].Digest["sha256"]
	if len(d) != 64 || !isLowerHex(d) {
		return nil, nil, fmt.Errorf("%w: subject has no lowercase hex sha256 digest", ErrMalformedStatement)
	}
	// The predicate is our format: unknown members are refused too.
	var p Predicate
	if err := strictjson.Unmarshal(st.Predicate, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: predicate: %w", ErrMalformedStatement, err)
	}
	if (p.Builder.ID == "") == (p.Builder.IDRegexp == "") || p.SLSABuildLevel < 1 {
		return nil, nil, fmt.Errorf("%w: predicate needs one of builder.id and builder.idRegexp, and slsaBuildLevel 1-3", ErrMalformedStatement)
	}
	if p.Builder.IDRegexp != "" {
		if _, err := questionnaire.CompileAnchored(p.Builder.IDRegexp); err != nil {
			return nil, nil, fmt.Errorf("%w: builder.idRegexp: %w", ErrMalformedStatement, err)
		}
	}
	if p.ValidFrom.IsZero() || !p.ValidUntil.After(p.ValidFrom) {
		return nil, nil, fmt.Errorf("%w: validUntil must be after validFrom", ErrMalformedStatement)
	}
	if p.ValidUntil.Sub(p.ValidFrom) > MaxValidity {
		return nil, nil, fmt.Errorf("%w: validity of %s exceeds 366 days", ErrMalformedStatement, p.ValidUntil.Sub(p.ValidFrom))
	}
	return &st, &p, nil
}

func isLowerHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// signedMessage is what a DSSE signature signs, the pre-authentication
// encoding (PAE) of the payload, made at most once per envelope in each
// form a verifier asks for: whole (for Ed25519), or as its digest with the
// verifier's hash function, hashed without assembling it.
type signedMessage struct {
	whole   []byte
	hashes  [2]crypto.Hash
	digests [2][]byte
}

func (m *signedMessage) pae(payloadType string, payload []byte) []byte {
	if m.whole == nil {
		m.whole = ssldsse.PAE(payloadType, payload)
	}
	return m.whole
}

func (m *signedMessage) digest(h crypto.Hash, payloadType string, payload []byte) []byte {
	for i, have := range m.hashes {
		if have == h {
			return m.digests[i]
		}
	}
	d := paeDigest(h, payloadType, payload)
	for i, have := range m.hashes {
		if have == 0 {
			m.hashes[i], m.digests[i] = h, d
			break
		}
	}
	return d
}

// paeDigest is the digest with h of ssldsse.PAE(payloadType, payload):
// "DSSEv1 <len(type)> <type> <len(payload)> <payload>".
func paeDigest(h crypto.Hash, payloadType string, payload []byte) []byte {
	var w hash.Hash
	var s *paeScratch
	if h == crypto.SHA256 { // the hash of P-256 keys: a pooled hasher
		s = sha256Scratch.Get().(*paeScratch)
		defer sha256Scratch.Put(s)
		w = s.h
		w.Reset()
	} else {
		w = h.New()
		s = new(paeScratch)
	}
	hdr := append(s.hdr[:0], "DSSEv1 "...)
	hdr = append(strconv.AppendInt(hdr, int64(len(payloadType)), 10), ' ')
	hdr = append(hdr, payloadType...)
	hdr = append(strconv.AppendInt(append(hdr, ' '), int64(len(payload)), 10), ' ')
	w.Write(hdr)
	w.Write(payload)
	return w.Sum(nil)
}

// paeScratch is a hasher and room for a PAE's header (its type included,
// when short), reused from one envelope to the next.
type paeScratch struct {
	h   hash.Hash
	hdr [128]byte
}

var sha256Scratch = sync.Pool{New: func() any { return &paeScratch{h: sha256.New()} }}
