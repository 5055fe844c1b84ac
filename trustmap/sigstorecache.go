package trustmap

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"golang.org/x/mod/semver"
)

// Keyless verification spends most of its time re-verifying what is the
// same for every bundle: the Fulcio intermediate's signature by its root
// (P-384). A chainCache remembers the chains, from a leaf's issuer up to a
// trusted root, that crypto/x509 verified in full for an earlier leaf; a
// later leaf issued by the same certificate is then verified by crypto/x509
// against that certificate as its only anchor (the leaf's signature, its
// validity, key usage and critical extensions: everything that depends on
// the leaf), with the time also inside every cached certificate's validity
// and the certificate authority's validity period in the trusted root. What
// the cache cannot prove the same way goes through the full verification:
// chains with name or policy constraints, leaves with policy constraints, a
// leaf whose issuer is not cached, a time outside the cached window, an
// intermediate the bundle and the trusted root do not both offer. Nothing
// per-bundle (leaf, SCT, log entry, signature) is ever cached.

// maxCachedChains bounds the chains remembered per certificate authority.
const maxCachedChains = 16

// chainCache holds the verified chains of one trusted material.
type chainCache struct {
	mu   sync.RWMutex
	byCA map[*root.FulcioCertificateAuthority]map[[32]byte]*verifiedChain
	// full and fast count leaf verifications by path (for tests).
	full, fast atomic.Int64
}

// verifiedChain is a chain above a leaf that crypto/x509 verified in full.
type verifiedChain struct {
	chain  []*x509.Certificate // the leaf's issuer ... the trusted root
	anchor *x509.CertPool      // chain[0] alone
	// Every certificate of chain is valid from notBefore to notAfter.
	notBefore, notAfter time.Time
}

var codeSigning = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}

// OIDs of the extensions the fast path cannot honour without the whole
// chain: name constraints, policy mappings, policy constraints, inhibit
// anyPolicy.
var chainConstraintOIDs = []asn1.ObjectIdentifier{{2, 5, 29, 30}, {2, 5, 29, 33}, {2, 5, 29, 36}, {2, 5, 29, 54}}

func hasChainConstraints(c *x509.Certificate, oids []asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		for _, o := range oids {
			if e.Id.Equal(o) {
				return true
			}
		}
	}
	return false
}

// chainKey identifies a chain by its certificates' bytes.
func chainKey(chain []*x509.Certificate) [32]byte {
	h := sha256.New()
	for _, c := range chain {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(c.Raw)>>24), byte(len(c.Raw)>>16), byte(len(c.Raw)>>8), byte(len(c.Raw))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// add remembers the part above the leaf of a chain crypto/x509 verified in
// full, unless a certificate in it has constraints the fast path would not
// apply.
func (cc *chainCache) add(ca *root.FulcioCertificateAuthority, above []*x509.Certificate) {
	if len(above) == 0 {
		return
	}
	v := &verifiedChain{chain: above, anchor: x509.NewCertPool()}
	for _, c := range above {
		if hasChainConstraints(c, chainConstraintOIDs) {
			return
		}
		if v.notBefore.IsZero() || c.NotBefore.After(v.notBefore) {
			v.notBefore = c.NotBefore
		}
		if v.notAfter.IsZero() || c.NotAfter.Before(v.notAfter) {
			v.notAfter = c.NotAfter
		}
	}
	v.anchor.AddCert(above[0])
	k := chainKey(above)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.byCA == nil {
		cc.byCA = map[*root.FulcioCertificateAuthority]map[[32]byte]*verifiedChain{}
	}
	m := cc.byCA[ca]
	if m == nil {
		m = map[[32]byte]*verifiedChain{}
		cc.byCA[ca] = m
	}
	if _, ok := m[k]; ok {
		return
	}
	if len(m) >= maxCachedChains {
		for old := range m { // any one: the cache only saves work
			delete(m, old)
			break
		}
	}
	m[k] = v
}

// verify verifies leaf at a time through a cached chain of ca, whose
// certificates below the root must be among ca's intermediates or the
// bundle's (offered). It reports false when no cached chain verifies it:
// the caller then verifies in full.
func (cc *chainCache) verify(ca *root.FulcioCertificateAuthority, offered []*x509.Certificate, leaf *x509.Certificate, at time.Time) ([][]*x509.Certificate, bool) {
	if hasChainConstraints(leaf, chainConstraintOIDs[1:]) {
		return nil, false
	}
	var candidates []*verifiedChain
	cc.mu.RLock()
	for _, v := range cc.byCA[ca] {
		if bytes.Equal(v.chain[0].RawSubject, leaf.RawIssuer) {
			candidates = append(candidates, v)
		}
	}
	cc.mu.RUnlock()
	for _, v := range candidates {
		if at.Before(v.notBefore) || at.After(v.notAfter) || !offeredChain(v.chain, ca, offered) {
			continue
		}
		if _, err := leaf.Verify(x509.VerifyOptions{CurrentTime: at, Roots: v.anchor, KeyUsages: codeSigning}); err != nil {
			continue
		}
		chain := make([]*x509.Certificate, 0, 1+len(v.chain))
		chain = append(append(chain, leaf), v.chain...)
		return [][]*x509.Certificate{chain}, true
	}
	return nil, false
}

// offeredChain reports whether every certificate of chain below its root is
// one the full verification would be offered: ca's intermediates or the
// bundle's.
func offeredChain(chain []*x509.Certificate, ca *root.FulcioCertificateAuthority, offered []*x509.Certificate) bool {
	if !chain[len(chain)-1].Equal(ca.Root) {
		return false
	}
next:
	for _, c := range chain[:len(chain)-1] {
		for _, o := range ca.Intermediates {
			if c.Equal(o) {
				continue next
			}
		}
		for _, o := range offered {
			if c.Equal(o) {
				continue next
			}
		}
		return false
	}
	return true
}

// cachingCA verifies leaves of one Fulcio certificate authority through
// the cache, and in full (as sigstore-go does, with the bundle's
// intermediates) when the cache cannot.
type cachingCA struct {
	ca       *root.FulcioCertificateAuthority
	cache    *chainCache
	offered  []*x509.Certificate
	verified *[][]*x509.Certificate
}

func (c *cachingCA) Verify(leaf *x509.Certificate, at time.Time) ([][]*x509.Certificate, error) {
	// The authority's validity period in the trusted root, every time,
	// with sigstore-go's errors.
	if !c.ca.ValidityPeriodStart.IsZero() && at.Before(c.ca.ValidityPeriodStart) {
		return nil, errors.New("certificate is not valid yet")
	}
	if !c.ca.ValidityPeriodEnd.IsZero() && at.After(c.ca.ValidityPeriodEnd) {
		return nil, errors.New("certificate is no longer valid")
	}
	if chains, ok := c.cache.verify(c.ca, c.offered, leaf, at); ok {
		c.cache.fast.Add(1)
		*c.verified = chains
		return chains, nil
	}
	c.cache.full.Add(1)
	ca := c.ca
	if len(c.offered) > 0 {
		with := *c.ca
		with.Intermediates = append(append([]*x509.Certificate{}, c.ca.Intermediates...), c.offered...)
		ca = &with
	}
	chains, err := ca.Verify(leaf, at)
	if err == nil && len(chains) > 0 {
		c.cache.add(c.ca, chains[0][1:])
		*c.verified = chains
	}
	return chains, err
}

// cachingMaterial is trusted material whose Fulcio authorities verify
// through the cache; offered are the intermediates of the bundle being
// verified (sigstore-go adds them to the authority's own).
type cachingMaterial struct {
	root.TrustedMaterial
	cache   *chainCache
	offered []*x509.Certificate
	// verified receives the chains of the last leaf verification that
	// succeeded (for the SCT check).
	verified *[][]*x509.Certificate
}

func (m *cachingMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority {
	cas := m.TrustedMaterial.FulcioCertificateAuthorities()
	out := make([]root.CertificateAuthority, len(cas))
	for i, ca := range cas {
		if fca, ok := ca.(*root.FulcioCertificateAuthority); ok && fca.Root != nil {
			out[i] = &cachingCA{ca: fca, cache: m.cache, offered: m.offered, verified: m.verified}
		} else {
			out[i] = ca
		}
	}
	return out
}

// parsedBundle is a bundle whose log entries, verification material and
// signature content are decoded once for its verification (sigstore-go decodes them on every
// call, and its bundle.UnmarshalJSON once more to validate). It caches
// nothing across bundles.
type parsedBundle struct {
	*bundle.Bundle
	entries    []*tlog.Entry
	entriesErr error
	vc         verify.VerificationContent
	vcErr      error
	sc         verify.SignatureContent
	scErr      error
}

// newParsedBundle validates a decoded bundle as sigstore-go's
// bundle.UnmarshalJSON does (TestParsedBundleAgreesWithSigstoreGo holds
// them together), decoding its log entries once.
func newParsedBundle(pb *protobundle.Bundle) (*parsedBundle, error) {
	b := &bundle.Bundle{Bundle: pb}
	version, err := b.Version()
	if err != nil {
		return nil, fmt.Errorf("error getting bundle version: %w", err)
	}
	if semver.Compare(version, "v0.1") < 0 {
		return nil, fmt.Errorf("%w: bundle version %s is not supported", bundle.ErrUnsupportedMediaType, version)
	}
	switch pb.Content.(type) {
	case *protobundle.Bundle_DsseEnvelope, *protobundle.Bundle_MessageSignature:
	default:
		return nil, errors.New("invalid bundle: bundle content must be either a message signature or dsse envelope")
	}
	if pb.VerificationMaterial == nil {
		return nil, bundle.ErrMissingVerificationMaterial
	}
	switch pb.VerificationMaterial.Content.(type) {
	case *protobundle.VerificationMaterial_PublicKey, *protobundle.VerificationMaterial_Certificate, *protobundle.VerificationMaterial_X509CertificateChain:
	default:
		return nil, bundle.ErrMissingVerificationMaterial
	}
	p := &parsedBundle{Bundle: b}
	p.entries, p.entriesErr = b.TlogEntries() // sets HasInclusionPromise and HasInclusionProof
	if p.entriesErr != nil {
		return nil, p.entriesErr
	}
	switch {
	case semver.Compare(version, "v0.1") == 0 && len(p.entries) > 0 && !b.HasInclusionPromise():
		return nil, errors.New("inclusion promises missing in bundle (required for bundle v0.1)")
	case semver.Compare(version, "v0.1") > 0 && len(p.entries) > 0 && !b.HasInclusionProof():
		return nil, errors.New("inclusion proof missing in bundle (required for bundle v0.2)")
	case semver.Compare(version, "v0.3") >= 0 && pb.VerificationMaterial.GetX509CertificateChain() != nil:
		return nil, errors.New("verification material cannot be X.509 certificate chain (for bundle v0.3)")
	case semver.Compare(version, "v0.4") >= 0:
		return nil, fmt.Errorf("%w: bundle version %s is not yet supported", bundle.ErrUnsupportedMediaType, version)
	}
	p.vc, p.vcErr = b.VerificationContent()
	p.sc, p.scErr = b.SignatureContent()
	return p, nil
}

func (p *parsedBundle) TlogEntries() ([]*tlog.Entry, error) { return p.entries, p.entriesErr }

func (p *parsedBundle) SignatureContent() (verify.SignatureContent, error) { return p.sc, p.scErr }

func (p *parsedBundle) VerificationContent() (verify.VerificationContent, error) {
	return p.vc, p.vcErr
}

var _ verify.SignedEntity = (*parsedBundle)(nil)
