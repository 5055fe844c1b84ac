package trustmap

import (
	"bytes"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// Sigstore verification failures.
var (
	ErrMalformedBundle      = errors.New("malformed Sigstore bundle")
	ErrNoVerifiedTimestamp  = errors.New("no verified transparency-log entry or signed timestamp")
	ErrTransparencyLog      = errors.New("transparency-log entry does not verify")
	ErrCertificateNotValid  = errors.New("signing certificate not valid")
	ErrSigstoreVerification = errors.New("sigstore verification failed")
	ErrMalformedTrustedRoot = errors.New("malformed Sigstore trusted root")
)

//go:embed data/trusted-root-public-good.json
var publicGoodTrustedRoot []byte

// SigstoreTrust is the trusted material for keyless (Sigstore) provenance.
type SigstoreTrust struct {
	// Material is the parsed trusted root. It is nil until first use in a
	// trust from LazyPublicGoodTrust: trustmap reads it through trusted().
	Material root.TrustedMaterial
	// Description says which trusted root is in use, for output.
	Description string
	// SkipSCTUnsafe accepts certificates without a verified signed
	// certificate timestamp (for private Sigstore instances without CT).
	SkipSCTUnsafe bool

	// Verified certificate chains, shared by the verifications that use
	// this trusted material (see chainCache).
	cacheOnce sync.Once
	cache     *chainCache

	// load parses Material on first use (LazyPublicGoodTrust).
	load     func() (root.TrustedMaterial, error)
	loadOnce sync.Once
	loadErr  error
}

// trusted returns the trusted material, parsed on first use for a lazy
// trust.
func (t *SigstoreTrust) trusted() (root.TrustedMaterial, error) {
	if t.load != nil {
		t.loadOnce.Do(func() { t.Material, t.loadErr = t.load() })
		if t.loadErr != nil {
			return nil, t.loadErr
		}
	}
	if t.Material == nil {
		return nil, fmt.Errorf("%w: no trusted material", ErrMalformedTrustedRoot)
	}
	return t.Material, nil
}

// chains returns the chain cache of this trusted material.
func (t *SigstoreTrust) chains() *chainCache {
	t.cacheOnce.Do(func() { t.cache = &chainCache{} })
	return t.cache
}

// material is the trusted material with its Fulcio authorities verifying
// through the chain cache; offered are the intermediates the bundle
// carries, and verified receives the chains of the leaf certificate.
func (t *SigstoreTrust) material(offered []*x509.Certificate, verified *[][]*x509.Certificate) (root.TrustedMaterial, error) {
	tm, err := t.trusted()
	if err != nil {
		return nil, err
	}
	return &cachingMaterial{TrustedMaterial: tm, cache: t.chains(), offered: offered, verified: verified}, nil
}

// PublicGoodTrust returns the Sigstore public-good trusted root embedded in
// the binary. Nothing is fetched.
func PublicGoodTrust() (*SigstoreTrust, error) {
	t, err := ParseTrustedRoot(publicGoodTrustedRoot)
	if err != nil {
		return nil, err
	}
	t.Description = "embedded Sigstore public-good trusted root (" + t.Description + ")"
	return t, nil
}

// LazyPublicGoodTrust is PublicGoodTrust with the trusted root parsed on
// first use, so that a verification that meets no keyless document (key-
// signed provenance) does not pay for it. Only its description is read at
// once.
func LazyPublicGoodTrust() *SigstoreTrust {
	return &SigstoreTrust{
		Description: "embedded Sigstore public-good trusted root (newest key valid from " + newestKeyDate(publicGoodTrustedRoot) + ")",
		load: func() (root.TrustedMaterial, error) {
			t, err := ParseTrustedRoot(publicGoodTrustedRoot)
			if err != nil {
				return nil, err
			}
			return t.Material, nil
		},
	}
}

// ParseTrustedRoot reads a Sigstore trusted_root.json.
func ParseTrustedRoot(b []byte) (*SigstoreTrust, error) {
	if err := strictjson.Check(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedTrustedRoot, err)
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedTrustedRoot, err)
	}
	return &SigstoreTrust{Material: tr, Description: "newest key valid from " + newestKeyDate(b)}, nil
}

// newestKeyDate finds the latest validFor.start in a trusted root, which
// dates it.
func newestKeyDate(b []byte) string {
	type validFor struct {
		Start time.Time `json:"start"`
	}
	type log struct {
		PublicKey struct {
			ValidFor validFor `json:"validFor"`
		} `json:"publicKey"`
	}
	type authority struct {
		ValidFor validFor `json:"validFor"`
	}
	var tr struct {
		Tlogs                  []log       `json:"tlogs"`
		Ctlogs                 []log       `json:"ctlogs"`
		CertificateAuthorities []authority `json:"certificateAuthorities"`
		TimestampAuthorities   []authority `json:"timestampAuthorities"`
	}
	if strictjson.UnmarshalOpen(b, &tr) != nil {
		return "unknown date"
	}
	var newest time.Time
	for _, l := range append(tr.Tlogs, tr.Ctlogs...) {
		if l.PublicKey.ValidFor.Start.After(newest) {
			newest = l.PublicKey.ValidFor.Start
		}
	}
	for _, a := range append(tr.CertificateAuthorities, tr.TimestampAuthorities...) {
		if a.ValidFor.Start.After(newest) {
			newest = a.ValidFor.Start
		}
	}
	if newest.IsZero() {
		return "unknown date"
	}
	return newest.Format(time.DateOnly)
}

// isBundle reports whether a document is a Sigstore bundle (by its
// mediaType, whatever the file is called).
func isBundle(raw []byte) bool {
	return mayBeBundle(raw) && hasBundleMediaType(raw)
}

// hasBundleMediaType is isBundle once mayBeBundle said yes: the strict
// decoder reads the mediaType.
func hasBundleMediaType(raw []byte) bool {
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	return strictjson.UnmarshalOpen(raw, &probe) == nil && strings.HasPrefix(probe.MediaType, bundleMediaType)
}

// readBundle reports whether a document is a Sigstore bundle (isBundle)
// and, if it is, decodes it (decodeBundle). A bundle in plain form is read
// in one pass (readBundleFast), with the same result.
func readBundle(raw []byte) (bundle bool, b *parsedBundle, err error) {
	if !mayBeBundle(raw) {
		return false, nil, nil
	}
	if pb, ok := readBundleFast(raw); ok {
		b, err := bundleOf(pb)
		return true, b, err
	}
	if !hasBundleMediaType(raw) {
		return false, nil, nil
	}
	b, err = decodeBundle(raw)
	return true, b, err
}

// mayBeBundle is false for a document that cannot be a bundle for isBundle:
// without escapes, a mediaType member is spelled out, so a document with
// neither (a DSSE envelope) is not a bundle, and needs no decoding.
func mayBeBundle(raw []byte) bool {
	return bytes.Contains(raw, []byte("mediaType")) || bytes.IndexByte(raw, '\\') >= 0
}

// sigstoreVerified is what a verified Sigstore signature establishes.
type sigstoreVerified struct {
	payloadType string
	payload     []byte
	signer      Signer // OIDC issuer and certificate SAN
	signedAt    time.Time
	extensions  string // summary for output
}

// verifySigstoreEntity checks the signature, certificate chain, SCTs and
// transparency-log inclusion or signed timestamps, offline, with the
// certificate valid at the verified signing time. Identity is matched later
// against the roots of trust.
func verifySigstoreEntity(entity verify.SignedEntity, trust *SigstoreTrust) (*sigstoreVerified, error) {
	// A trusted time comes from a transparency-log entry or a signed
	// timestamp; log entries present in the bundle must verify.
	// The statement is read by our own code (verifyStatement), so
	// sigstore-go does not decode its predicate.
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	if entries, err := entity.TlogEntries(); err == nil && len(entries) > 0 {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	var offered []*x509.Certificate
	if vc, err := entity.VerificationContent(); err == nil {
		offered = vc.Intermediates()
	}
	var chains [][]*x509.Certificate
	material, err := trust.material(offered, &chains)
	if err != nil {
		return nil, err
	}
	v, err := verify.NewVerifier(material, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSigstoreVerification, err)
	}
	// The artifact and identity are checked by our own code on the
	// verified statement and certificate: every artifact against the
	// subjects, and the identity against the roots of trust.
	res, err := v.Verify(entity, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		return nil, classifySigstoreError(err)
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		return nil, fmt.Errorf("%w: expected a Fulcio certificate (keyless), got a bare key signature", ErrSigstoreVerification)
	}
	// The leaf's SCT, against the chain that verified it (sigstore-go's
	// check, without re-parsing both certificates for every bundle).
	if !trust.SkipSCTUnsafe {
		if err := verifyEmbeddedSCTs(chains, 1, material); err != nil {
			return nil, fmt.Errorf("%w: failed to verify signed certificate timestamp: %v", ErrCertificateNotValid, err)
		}
	}
	sc, err := entity.SignatureContent()
	if err != nil || sc.EnvelopeContent() == nil {
		return nil, fmt.Errorf("%w: expected a DSSE envelope, got a message signature", ErrWrongPayloadType)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		if payload, err = base64.URLEncoding.DecodeString(env.Payload); err != nil {
			return nil, fmt.Errorf("%w: payload: not valid base64", ErrMalformedBundle)
		}
	}
	var signedAt time.Time
	for _, ts := range res.VerifiedTimestamps {
		if signedAt.IsZero() || ts.Timestamp.Before(signedAt) {
			signedAt = ts.Timestamp
		}
	}
	c := res.Signature.Certificate
	issuer := c.Extensions.Issuer
	if issuer == "" {
		issuer = c.CertificateIssuer
	}
	return &sigstoreVerified{
		payloadType: env.PayloadType,
		payload:     payload,
		signer:      Signer{OIDCIssuer: issuer, SAN: c.SubjectAlternativeName},
		signedAt:    signedAt,
		extensions:  fmt.Sprintf("%s (issuer %s, repository %s, runner %s)", c.SubjectAlternativeName, issuer, c.Extensions.SourceRepositoryURI, c.Extensions.RunnerEnvironment),
	}, nil
}

// classifySigstoreError maps sigstore-go's wrapped errors onto sentinels.
func classifySigstoreError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate validity"), strings.Contains(msg, "leaf certificate"), strings.Contains(msg, "expired"):
		return fmt.Errorf("%w: %v", ErrCertificateNotValid, err)
	case strings.Contains(msg, "failed to verify timestamps"), strings.Contains(msg, "threshold not met"):
		return fmt.Errorf("%w: %v", ErrNoVerifiedTimestamp, err)
	case strings.Contains(msg, "failed to verify log inclusion"):
		return fmt.Errorf("%w: %v", ErrTransparencyLog, err)
	case strings.Contains(msg, "certificate"), strings.Contains(msg, "SCT"):
		return fmt.Errorf("%w: %v", ErrCertificateNotValid, err)
	case strings.Contains(msg, "signature"):
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return fmt.Errorf("%w: %v", ErrSigstoreVerification, err)
}

// parseBundle decodes a Sigstore bundle (v0.1, v0.2 or v0.3), with its log
// entries and verification material decoded once.
func parseBundle(raw []byte) (*parsedBundle, error) {
	// protojson reads both JSON and proto member names (mediaType and
	// media_type): duplicate and case-variant names are refused first.
	if err := strictjson.Check(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	return decodeBundle(raw)
}

// decodeBundle is parseBundle for a document isBundle accepted: the strict
// decoder has already refused its duplicate and case-variant names.
func decodeBundle(raw []byte) (*parsedBundle, error) {
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(bytes.TrimSpace(raw), &pb); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedBundle, err)
	}
	return bundleOf(&pb)
}

// bundleOf validates a decoded bundle (newParsedBundle).
func bundleOf(pb *protobundle.Bundle) (*parsedBundle, error) {
	b, err := newParsedBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedBundle, err)
	}
	return b, nil
}

// isKeySigned reports whether a bundle is signed with a public key (cosign
// --key with the bundle format: a public-key hint, no certificate).
func isKeySigned(b verify.SignedEntity) bool {
	vc, err := b.VerificationContent()
	return err == nil && vc.Certificate() == nil && vc.PublicKey() != nil
}

// bundleEnvelope returns the DSSE envelope of a bundle.
func bundleEnvelope(b verify.SignedEntity) (*attest.Envelope, error) {
	sc, err := b.SignatureContent()
	if err != nil || sc.EnvelopeContent() == nil {
		return nil, fmt.Errorf("%w: expected a DSSE envelope in the bundle, got a message signature", ErrWrongPayloadType)
	}
	raw, err := json.Marshal(sc.EnvelopeContent().RawEnvelope())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedBundle, err)
	}
	return attest.ParseEnvelope(raw)
}

// keyBundleSignedAt verifies the transparency-log entries and signed
// timestamps a key-signed bundle carries, against the Sigstore trusted
// material, for the key that verified its envelope, and returns the
// earliest verified time (zero when the bundle carries none). An entry or
// timestamp that is present must verify.
func keyBundleSignedAt(b verify.SignedEntity, key *attest.PublicKey, trust *SigstoreTrust) (time.Time, error) {
	entries, _ := b.TlogEntries()
	stamps, _ := b.Timestamps()
	if len(entries) == 0 && len(stamps) == 0 {
		return time.Time{}, nil
	}
	if trust == nil {
		return time.Time{}, fmt.Errorf("%w: the bundle carries a transparency-log entry or timestamp, but no Sigstore trusted root is configured to check it", ErrNoVerifiedTimestamp)
	}
	kv, err := signature.LoadDefaultVerifier(key.Key)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrSigstoreVerification, err)
	}
	tm, err := trust.trusted()
	if err != nil {
		return time.Time{}, err
	}
	material := root.TrustedMaterialCollection{
		root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(kv, time.Time{}, time.Time{}), nil
		}),
		tm,
	}
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
	if len(entries) > 0 {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	v, err := verify.NewVerifier(material, opts...)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrSigstoreVerification, err)
	}
	res, err := v.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey()))
	if err != nil {
		return time.Time{}, classifySigstoreError(err)
	}
	var at time.Time
	for _, ts := range res.VerifiedTimestamps {
		if at.IsZero() || ts.Timestamp.Before(at) {
			at = ts.Timestamp
		}
	}
	return at, nil
}
