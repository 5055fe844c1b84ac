package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-build/hallmark/internal/limitio"
)

// store is where an image and its attestations live: a registry or a
// layout directory. Manifests and blobs are read by digest, capped and
// checked against the digest; only tag() reads by name.
type store interface {
	// tag returns the manifest a tag names now and its digest.
	tag(ctx context.Context, tag string) ([]byte, v1.Hash, error)
	manifest(ctx context.Context, d v1.Hash) ([]byte, error)
	blob(ctx context.Context, d v1.Descriptor, limit int64) ([]byte, error)
	// referrers lists the manifests that name d as their subject.
	referrers(ctx context.Context, d v1.Hash) ([]v1.Descriptor, error)
}

type registryStore struct {
	repo   name.Repository
	puller *remote.Puller
	opts   []remote.Option
}

func (o *Options) remoteOptions() []remote.Option {
	base := o.Transport
	if base == nil {
		base = NewTransport(nil)
	}
	g := &guard{base: base, manifestCap: o.maxManifest(), blobCap: o.maxBlob()}
	kc := o.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain() // anonymous
	}
	retry := remote.Backoff{Duration: o.RetryDelay, Factor: 2, Steps: 2}
	if o.RetryDelay == 0 {
		retry.Steps = 1 // no retries
	}
	return []remote.Option{
		remote.WithTransport(g),
		remote.WithAuthFromKeychain(kc),
		remote.WithRetryBackoff(retry),
		remote.WithRetryStatusCodes(http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests),
		remote.WithUserAgent("hallmark-trustmap"),
	}
}

func newRegistryStore(repo name.Repository, o *Options) (*registryStore, error) {
	opts := o.remoteOptions()
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return nil, err
	}
	return &registryStore{repo: repo, puller: p, opts: append(opts, remote.Reuse(p))}, nil
}

func (s *registryStore) tag(ctx context.Context, tag string) ([]byte, v1.Hash, error) {
	d, err := s.puller.Get(ctx, s.repo.Tag(tag))
	if err != nil {
		return nil, v1.Hash{}, classify("tag "+tag, err)
	}
	// The digest is computed from the bytes received, never taken from a
	// header.
	return d.Manifest, d.Digest, nil
}

func (s *registryStore) manifest(ctx context.Context, h v1.Hash) ([]byte, error) {
	d, err := s.puller.Get(ctx, s.repo.Digest(h.String()))
	if err != nil {
		return nil, classify("manifest "+h.String(), err)
	}
	if err := checkDigest(d.Manifest, h); err != nil {
		return nil, err
	}
	return d.Manifest, nil
}

func (s *registryStore) blob(ctx context.Context, desc v1.Descriptor, limit int64) ([]byte, error) {
	l, err := s.puller.Layer(ctx, s.repo.Digest(desc.Digest.String()))
	if err != nil {
		return nil, classify("blob "+desc.Digest.String(), err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, classify("blob "+desc.Digest.String(), err)
	}
	defer rc.Close()
	b, err := limitio.ReadAll(rc, min(limit, desc.Size))
	if err != nil {
		return nil, classify("blob "+desc.Digest.String(), err)
	}
	return b, checkBlob(b, desc)
}

func (s *registryStore) referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	idx, err := remote.Referrers(s.repo.Digest(h.String()), append(s.opts, remote.WithContext(ctx))...)
	if err != nil {
		return nil, classify("referrers of "+h.String(), err)
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return nil, classify("referrers of "+h.String(), err)
	}
	im, err := parseIndex(raw)
	if err != nil {
		return nil, err
	}
	return im.Manifests, nil
}

func checkDigest(b []byte, want v1.Hash) error {
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); want.Algorithm != "sha256" || got != want.Hex {
		return fmt.Errorf("%w: expected %s, got sha256:%s", ErrDigestMismatch, want, got)
	}
	return nil
}

func checkBlob(b []byte, desc v1.Descriptor) error {
	if int64(len(b)) != desc.Size {
		return fmt.Errorf("%w: blob %s: expected %d bytes, got %d", ErrDigestMismatch, desc.Digest, desc.Size, len(b))
	}
	return checkDigest(b, desc.Digest)
}
