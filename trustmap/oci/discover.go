package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-build/hallmark/trustmap"
)

// Options configure registry access. The zero value reaches registries
// anonymously over TLS with the system roots, without retries.
type Options struct {
	// Keychain finds credentials (authn.DefaultKeychain reads the Docker
	// config and its credential helpers); nil is anonymous.
	Keychain authn.Keychain
	// Transport is the base HTTP transport (NewTransport); plain HTTP is
	// refused for any host but loopback whatever it is.
	Transport http.RoundTripper
	// RetryDelay enables one retry of 429/503/504 answers after this delay.
	RetryDelay time.Duration
	// MaxManifest and MaxBlob override MaxManifestBytes and
	// MaxAttestationBytes (tests).
	MaxManifest, MaxBlob int64
}

func (o *Options) maxManifest() int64 {
	if o.MaxManifest > 0 {
		return o.MaxManifest
	}
	return MaxManifestBytes
}

func (o *Options) maxBlob() int64 {
	if o.MaxBlob > 0 {
		return o.MaxBlob
	}
	return MaxAttestationBytes
}

// Image is a resolved image: what the verification is about.
type Image struct {
	// Reference is the reference as given; Pinned names the digest.
	Reference, Pinned string
	// Digest is the manifest (or index) digest, sha256:HEX: the subject
	// the provenance must name.
	Digest    string
	MediaType string
	// Resolved is true when a tag was resolved to the digest.
	Resolved bool
	// Manifest holds the manifest bytes, which hash to Digest.
	Manifest []byte
}

// Artifact is the image as the trustmap core sees it: the manifest bytes,
// whose sha256 is the image digest.
func (im *Image) Artifact() *trustmap.Artifact {
	return trustmap.BytesArtifact(im.Pinned, im.Manifest)
}

// Attestation is one document found for an image.
type Attestation struct {
	// Source says where it was found: "referrers" (the OCI 1.1 API or the
	// sha256-HEX fallback tag) or "cosign tag sha256-HEX.att".
	Source string
	// Manifest is the digest of the manifest that carries it; Layer the
	// digest of the document itself.
	Manifest, Layer string
	MediaType       string
	// Document is a DSSE envelope or a Sigstore bundle, as stored.
	Document []byte
}

// Discovery is an image and the provenance candidates found for it.
type Discovery struct {
	Image        Image
	Attestations []Attestation
}

// Provenance returns the documents as JSON Lines for trustmap.Verify, in
// the order they were found.
func (d *Discovery) Provenance() []byte {
	var out bytes.Buffer
	for _, a := range d.Attestations {
		if err := json.Compact(&out, a.Document); err != nil {
			out.Write(bytes.ReplaceAll(a.Document, []byte("\n"), nil))
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// Client finds images and attestations in registries and layouts.
type Client struct{ opts Options }

// New returns a client.
func New(o Options) *Client { return &Client{opts: o} }

func (c *Client) open(r Reference) (store, error) {
	if r.Layout() {
		return newLayoutStore(r.dir, &c.opts)
	}
	return newRegistryStore(r.repo, &c.opts)
}

// Resolve finds the image a reference names. A tag is read once and never
// again: everything after goes by the digest it resolved to. With both a
// tag and a digest, the tag must still name the digest (ErrTagMoved).
func (c *Client) Resolve(ctx context.Context, ref string) (*Image, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	s, err := c.open(r)
	if err != nil {
		return nil, err
	}
	_, im, err := resolve(ctx, s, r)
	return im, err
}

func resolve(ctx context.Context, s store, r Reference) (*cache, *Image, error) {
	cs := newCache(s)
	im := &Image{Reference: r.raw}
	var d v1.Hash
	if r.tag != "" {
		b, got, err := s.tag(ctx, r.tag)
		if err != nil {
			return nil, nil, err
		}
		if r.digest.Hex != "" && got != r.digest {
			return nil, nil, fmt.Errorf("%w: %s now names %s, expected %s", ErrTagMoved, r.tag, got, r.digest)
		}
		d, im.Manifest, im.Resolved = got, b, r.digest.Hex == ""
		cs.manifests[d] = b
	} else {
		d = r.digest
		b, err := cs.manifest(ctx, d)
		if err != nil {
			return nil, nil, err
		}
		im.Manifest = b
	}
	mt, err := mediaTypeOf(im.Manifest)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", d, err)
	}
	im.Digest, im.MediaType, im.Pinned = d.String(), string(mt), r.pinned(d)
	return cs, im, nil
}

// Discover resolves the reference and finds the provenance stored with the
// image: referrers (the OCI 1.1 referrers API, or the sha256-HEX referrers
// tag where the registry has no API), then cosign's sha256-HEX.att tag.
// Every manifest and blob is read once, by digest, after its size was
// checked against the caps. Finding nothing is ErrNoAttestations.
func (c *Client) Discover(ctx context.Context, ref string) (*Discovery, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	s, err := c.open(r)
	if err != nil {
		return nil, err
	}
	cs, im, err := resolve(ctx, s, r)
	if err != nil {
		return nil, err
	}
	subject, _ := v1.NewHash(im.Digest)
	disc := &Discovery{Image: *im}
	add := func(a Attestation) error {
		if len(disc.Attestations) >= MaxAttestations {
			return fmt.Errorf("%w: more than %d provenance candidates for %s", ErrTooMany, MaxAttestations, im.Digest)
		}
		disc.Attestations = append(disc.Attestations, a)
		return nil
	}

	refs, err := s.referrers(ctx, subject)
	if err != nil {
		return nil, err
	}
	for _, desc := range refs {
		// Registries fill artifactType from the manifest's artifactType
		// or, by the older rule, its config media type (the empty
		// descriptor for attestations).
		if !(isAttestationType(desc.ArtifactType) || desc.ArtifactType == "" || desc.ArtifactType == EmptyMediaType) || !mayBeProvenance(desc.Annotations) {
			continue
		}
		if desc.Size > c.opts.maxManifest() {
			return nil, fmt.Errorf("%w: referrer %s is %d bytes, the cap is %d", ErrTooLarge, desc.Digest, desc.Size, c.opts.maxManifest())
		}
		b, err := cs.manifest(ctx, desc.Digest)
		if err != nil {
			return nil, err
		}
		m, err := parseManifest(b)
		if err != nil {
			return nil, fmt.Errorf("referrer %s: %w", desc.Digest, err)
		}
		if m.Subject == nil || m.Subject.Digest != subject {
			found := "none"
			if m.Subject != nil {
				found = m.Subject.Digest.String()
			}
			return nil, fmt.Errorf("%w: referrer %s of %s: expected subject %s, got %s", ErrReferrerSubject, desc.Digest, im.Digest, subject, found)
		}
		if !isAttestationType(m.artifactType()) || !mayBeProvenance(m.Annotations) {
			continue
		}
		for _, l := range m.Layers {
			if !isAttestationType(string(l.MediaType)) {
				continue
			}
			doc, err := cs.blob(ctx, l, c.opts.maxBlob())
			if err != nil {
				return nil, err
			}
			if err := add(Attestation{Source: "referrers", Manifest: desc.Digest.String(), Layer: l.Digest.String(), MediaType: string(l.MediaType), Document: doc}); err != nil {
				return nil, err
			}
		}
	}

	// cosign's attachment tag: a manifest whose layers are DSSE envelopes.
	att := fallbackTag(subject) + ".att"
	b, d, err := s.tag(ctx, att)
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, err
	default:
		cs.manifests[d] = b
		m, err := parseManifest(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", att, err)
		}
		for _, l := range m.Layers {
			if string(l.MediaType) != DSSEMediaType || !mayBeProvenance(l.Annotations) {
				continue
			}
			doc, err := cs.blob(ctx, l, c.opts.maxBlob())
			if err != nil {
				return nil, err
			}
			a := Attestation{Source: "cosign tag " + att, Manifest: d.String(), Layer: l.Digest.String(), MediaType: DSSEMediaType, Document: doc}
			if _, keyless := l.Annotations[annCosignCertificate]; keyless {
				if a.Document, err = cosignKeylessBundle(doc, l.Annotations); err != nil {
					return nil, fmt.Errorf("%s layer %s: %w", att, l.Digest, err)
				}
				a.Source, a.MediaType = a.Source+" (keyless)", bundleV01
			}
			if err := add(a); err != nil {
				return nil, err
			}
		}
	}
	if len(disc.Attestations) == 0 {
		return disc, fmt.Errorf("%w %s (no referrers, no %s tag)", ErrNoAttestations, im.Pinned, att)
	}
	return disc, nil
}

// isAttestationType reports whether an artifactType or layer media type is
// a Sigstore bundle, a DSSE envelope or an in-toto attestation.
func isAttestationType(t string) bool {
	return strings.HasPrefix(t, "application/vnd.dev.sigstore.bundle") || t == DSSEMediaType || t == InTotoArtifactType
}

// mayBeProvenance is false when an annotation says the document is some
// other predicate (a VSA, an SBOM): those are not fetched. Annotations are
// hints; the verdict reads the verified statement.
func mayBeProvenance(ann map[string]string) bool {
	for _, k := range []string{annPredicateBundle, annPredicateInToto, annPredicateCosign} {
		if p, ok := ann[k]; ok && !isProvenancePredicate(p) {
			return false
		}
	}
	return true
}

func isProvenancePredicate(p string) bool {
	return p == trustmap.ProvenanceV1 || p == trustmap.ProvenanceV02 || p == "slsaprovenance" || p == "slsaprovenance1" || p == "slsaprovenance02"
}

// cache reads each manifest and blob once per discovery.
type cache struct {
	s         store
	manifests map[v1.Hash][]byte
	blobs     map[v1.Hash][]byte
}

func newCache(s store) *cache {
	return &cache{s: s, manifests: map[v1.Hash][]byte{}, blobs: map[v1.Hash][]byte{}}
}

func (c *cache) manifest(ctx context.Context, d v1.Hash) ([]byte, error) {
	if b, ok := c.manifests[d]; ok {
		return b, nil
	}
	b, err := c.s.manifest(ctx, d)
	if err != nil {
		return nil, err
	}
	c.manifests[d] = b
	return b, nil
}

func (c *cache) blob(ctx context.Context, d v1.Descriptor, limit int64) ([]byte, error) {
	if d.Size > limit {
		return nil, fmt.Errorf("%w: layer %s is %d bytes, the cap is %d", ErrTooLarge, d.Digest, d.Size, limit)
	}
	if d.Size <= 0 {
		return nil, fmt.Errorf("%w: layer %s has no size", ErrMalformed, d.Digest)
	}
	if b, ok := c.blobs[d.Digest]; ok {
		return b, nil
	}
	b, err := c.s.blob(ctx, d, limit)
	if err != nil {
		return nil, err
	}
	c.blobs[d.Digest] = b
	return b, nil
}
