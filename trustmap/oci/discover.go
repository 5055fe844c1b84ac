package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

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
	// Jobs is how many manifests or blobs are read at once (default 8).
	Jobs int
	// VSAs also reads the referrers (and cosign attachments) annotated as
	// SLSA VSAs, for the source and dependency checks of a policy.
	VSAs bool
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
	// VSAs are the documents annotated as SLSA VSAs (Options.VSAs).
	VSAs []Attestation
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

// WithVSAs is a client that also reads the VSAs attached to images.
func (c *Client) WithVSAs() *Client {
	o := c.opts
	o.VSAs = true
	return &Client{opts: o}
}

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
	_, _, im, err := c.resolve(ctx, ref)
	return im, err
}

// resolve parses ref, opens its store and resolves it.
func (c *Client) resolve(ctx context.Context, ref string) (store, *cache, *Image, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := c.open(r)
	if err != nil {
		return nil, nil, nil, err
	}
	cs, im, err := resolveIn(ctx, s, r)
	return s, cs, im, err
}

func resolveIn(ctx context.Context, s store, r Reference) (*cache, *Image, error) {
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
		cs.put(cs.manifests, d, fetched{b: b})
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
	s, cs, im, err := c.resolve(ctx, ref)
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
	addVSA := func(a Attestation) error {
		if len(disc.VSAs) >= MaxAttestations {
			return fmt.Errorf("%w: more than %d VSAs for %s", ErrTooMany, MaxAttestations, im.Digest)
		}
		disc.VSAs = append(disc.VSAs, a)
		return nil
	}

	// cosign's attachment tag is read while the referrers are listed.
	att := fallbackTag(subject) + ".att"
	type tagged struct {
		b   []byte
		d   v1.Hash
		err error
	}
	attc := make(chan tagged, 1)
	go func() {
		b, d, err := s.tag(ctx, att)
		attc <- tagged{b, d, err}
	}()
	refs, err := s.referrers(ctx, subject)
	if err != nil {
		<-attc
		return nil, err
	}
	// Candidates by their descriptors; their manifests are read at once.
	var cands []v1.Descriptor
	for _, desc := range refs {
		// Registries fill artifactType from the manifest's artifactType
		// or, by the older rule, its config media type (the empty
		// descriptor for attestations).
		if !(isAttestationType(desc.ArtifactType) || desc.ArtifactType == "" || desc.ArtifactType == EmptyMediaType) || !c.wanted(desc.Annotations) {
			continue
		}
		if desc.Size > c.opts.maxManifest() {
			return nil, fmt.Errorf("%w: referrer %s is %d bytes, the cap is %d", ErrTooLarge, desc.Digest, desc.Size, c.opts.maxManifest())
		}
		cands = append(cands, desc)
	}
	prefetch(ctx, c.opts.jobs(), cands, func(d v1.Descriptor) v1.Hash { return d.Digest }, func(ctx context.Context, d v1.Descriptor) { cs.manifest(ctx, d.Digest) })
	type pending struct {
		a   Attestation
		l   v1.Descriptor
		vsa bool
	}
	var docs []pending
	for _, desc := range cands {
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
		if !isAttestationType(m.artifactType()) || !c.wanted(m.Annotations) {
			continue
		}
		vsa := isVSA(desc.Annotations) || isVSA(m.Annotations)
		for _, l := range m.Layers {
			if !isAttestationType(string(l.MediaType)) {
				continue
			}
			if limit := c.maxDocs(); len(docs) >= limit {
				return nil, fmt.Errorf("%w: more than %d provenance candidates for %s", ErrTooMany, limit, im.Digest)
			}
			docs = append(docs, pending{Attestation{Source: "referrers", Manifest: desc.Digest.String(), Layer: l.Digest.String(), MediaType: string(l.MediaType)}, l, vsa})
		}
	}
	maxBlob := c.opts.maxBlob()
	prefetch(ctx, c.opts.jobs(), docs, func(p pending) v1.Hash { return p.l.Digest }, func(ctx context.Context, p pending) { cs.blob(ctx, p.l, maxBlob) })
	for _, p := range docs {
		if p.a.Document, err = cs.blob(ctx, p.l, maxBlob); err != nil {
			return nil, err
		}
		if p.vsa {
			if err := addVSA(p.a); err != nil {
				return nil, err
			}
			continue
		}
		if err := add(p.a); err != nil {
			return nil, err
		}
	}

	// cosign's attachment tag: a manifest whose layers are DSSE envelopes.
	at := <-attc
	b, d, err := at.b, at.d, at.err
	switch {
	case isNotFound(err):
	case err != nil:
		return nil, err
	default:
		cs.put(cs.manifests, d, fetched{b: b})
		m, err := parseManifest(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", att, err)
		}
		var layers []v1.Descriptor
		for _, l := range m.Layers {
			if string(l.MediaType) == DSSEMediaType && c.wanted(l.Annotations) {
				layers = append(layers, l)
			}
		}
		if len(disc.Attestations)+len(layers) > MaxAttestations {
			return nil, fmt.Errorf("%w: more than %d provenance candidates for %s", ErrTooMany, MaxAttestations, im.Digest)
		}
		prefetch(ctx, c.opts.jobs(), layers, func(l v1.Descriptor) v1.Hash { return l.Digest }, func(ctx context.Context, l v1.Descriptor) { cs.blob(ctx, l, maxBlob) })
		for _, l := range layers {
			doc, err := cs.blob(ctx, l, maxBlob)
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
			if isVSA(l.Annotations) {
				if err := addVSA(a); err != nil {
					return nil, err
				}
				continue
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

// isVSA is true when an annotation says the document is a SLSA VSA.
func isVSA(ann map[string]string) bool {
	for _, k := range []string{annPredicateBundle, annPredicateInToto, annPredicateCosign} {
		if p, ok := ann[k]; ok && (p == trustmap.VSAPredicateType || p == "https://slsa.dev/verification_summary/v0.2" || p == "vsa") {
			return true
		}
	}
	return false
}

// maxDocs bounds the documents read from referrers: MaxAttestations
// provenance candidates, and as many VSAs when they are read too.
func (c *Client) maxDocs() int {
	if c.opts.VSAs {
		return 2 * MaxAttestations
	}
	return MaxAttestations
}

// wanted reports whether a document so annotated is read: provenance (or
// not annotated), and VSAs when asked for.
func (c *Client) wanted(ann map[string]string) bool {
	return mayBeProvenance(ann) || (c.opts.VSAs && isVSA(ann))
}

func isProvenancePredicate(p string) bool {
	return p == trustmap.ProvenanceV1 || p == trustmap.ProvenanceV02 || p == "slsaprovenance" || p == "slsaprovenance1" || p == "slsaprovenance02"
}

// cache reads each manifest and blob once per discovery; prefetch reads
// several at once (Options.Jobs at a time) and keeps their errors, so that the
// sequential pass that uses them reports the first failure in order.
type cache struct {
	s         store
	mu        sync.Mutex
	manifests map[v1.Hash]fetched
	blobs     map[v1.Hash]fetched
}

type fetched struct {
	b   []byte
	err error
}

// fetchJobs is how many manifests or blobs are read at once by default.
const fetchJobs = 8

func (o *Options) jobs() int {
	if o.Jobs > 0 {
		return o.Jobs
	}
	return fetchJobs
}

func newCache(s store) *cache {
	return &cache{s: s, manifests: map[v1.Hash]fetched{}, blobs: map[v1.Hash]fetched{}}
}

func (c *cache) get(m map[v1.Hash]fetched, d v1.Hash) (fetched, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := m[d]
	return f, ok
}

func (c *cache) put(m map[v1.Hash]fetched, d v1.Hash, f fetched) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[d] = f
}

func (c *cache) manifest(ctx context.Context, d v1.Hash) ([]byte, error) {
	if f, ok := c.get(c.manifests, d); ok {
		return f.b, f.err
	}
	b, err := c.s.manifest(ctx, d)
	c.put(c.manifests, d, fetched{b, err})
	return b, err
}

func (c *cache) blob(ctx context.Context, d v1.Descriptor, limit int64) ([]byte, error) {
	if d.Size > limit {
		return nil, fmt.Errorf("%w: layer %s is %d bytes, the cap is %d", ErrTooLarge, d.Digest, d.Size, limit)
	}
	if d.Size <= 0 {
		return nil, fmt.Errorf("%w: layer %s has no size", ErrMalformed, d.Digest)
	}
	if f, ok := c.get(c.blobs, d.Digest); ok {
		return f.b, f.err
	}
	b, err := c.s.blob(ctx, d, limit)
	c.put(c.blobs, d.Digest, fetched{b, err})
	return b, err
}

// prefetch runs fetch for each distinct key not read yet, jobs at a
// time; fetch stores its own result in the cache.
func prefetch[T any](ctx context.Context, jobs int, items []T, key func(T) v1.Hash, fetch func(context.Context, T)) {
	seen := map[v1.Hash]bool{}
	var g errgroup.Group
	g.SetLimit(jobs)
	for _, it := range items {
		k := key(it)
		if seen[k] {
			continue
		}
		seen[k] = true
		g.Go(func() error { fetch(ctx, it); return nil })
	}
	g.Wait()
}
