package oci

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/hallmark-build/hallmark/internal/limitio"
)

// refNameAnnotation names a manifest in an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// layoutStore reads an OCI image layout (skopeo copy … oci:DIR, crane pull
// --format=oci, oras copy --to-oci-layout): blobs by digest, tags from the
// index.json annotations, referrers from the manifests whose subject is the
// image and from a referrers tag (sha256-HEX) index.
type layoutStore struct {
	dir         string
	index       *v1.IndexManifest
	manifestCap int64
}

func newLayoutStore(dir string, o *Options) (*layoutStore, error) {
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return nil, fmt.Errorf("%w: %s is not an OCI image layout (no oci-layout file): %v", ErrNotFound, dir, err)
	}
	b, err := limitio.ReadFile(filepath.Join(dir, "index.json"), MaxLayoutIndexBytes)
	if err != nil {
		if errors.Is(err, limitio.ErrTooLarge) {
			return nil, fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	im, err := parseIndex(b)
	if err != nil {
		return nil, fmt.Errorf("%s/index.json: %w", dir, err)
	}
	return &layoutStore{dir: dir, index: im, manifestCap: o.maxManifest()}, nil
}

func (s *layoutStore) tag(ctx context.Context, tag string) ([]byte, v1.Hash, error) {
	var found []v1.Descriptor
	for _, d := range s.index.Manifests {
		if refNameIs(d.Annotations[refNameAnnotation], tag) {
			found = append(found, d)
		}
	}
	switch len(found) {
	case 0:
		return nil, v1.Hash{}, fmt.Errorf("%w: tag %q in %s", ErrNotFound, tag, s.dir)
	case 1:
	default:
		for _, d := range found[1:] {
			if d.Digest != found[0].Digest {
				return nil, v1.Hash{}, fmt.Errorf("%w: tag %q names %d different manifests in %s", ErrMalformed, tag, len(found), s.dir)
			}
		}
	}
	b, err := s.manifest(ctx, found[0].Digest)
	return b, found[0].Digest, err
}

func (s *layoutStore) manifest(ctx context.Context, h v1.Hash) ([]byte, error) {
	return s.read(h, s.manifestCap, -1)
}

func (s *layoutStore) blob(ctx context.Context, d v1.Descriptor, limit int64) ([]byte, error) {
	b, err := s.read(d.Digest, min(limit, d.Size), d.Size)
	if err != nil {
		return nil, err
	}
	return b, checkBlob(b, d)
}

// read reads blobs/ALG/HEX, capped, and checks it against its digest.
func (s *layoutStore) read(h v1.Hash, limit, size int64) ([]byte, error) {
	if h.Algorithm != "sha256" {
		return nil, fmt.Errorf("%w: expected sha256 digests, got %s", ErrMalformed, h)
	}
	p := filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex)
	b, err := limitio.ReadFile(p, limit)
	switch {
	case errors.Is(err, limitio.ErrTooLarge):
		return nil, fmt.Errorf("%w: %v", ErrTooLarge, err)
	case errors.Is(err, limitio.ErrNotRegular):
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	case errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: %s in %s", ErrNotFound, h, s.dir)
	case err != nil:
		return nil, err
	}
	return b, checkDigest(b, h)
}

func (s *layoutStore) referrers(ctx context.Context, h v1.Hash) ([]v1.Descriptor, error) {
	var out []v1.Descriptor
	seen := map[v1.Hash]bool{}
	fallback := fallbackTag(h)
	for _, d := range s.index.Manifests {
		if refNameIs(d.Annotations[refNameAnnotation], fallback) && d.MediaType.IsIndex() {
			b, err := s.manifest(ctx, d.Digest)
			if err != nil {
				return nil, err
			}
			im, err := parseIndex(b)
			if err != nil {
				return nil, err
			}
			for _, r := range im.Manifests {
				if !seen[r.Digest] {
					seen[r.Digest] = true
					out = append(out, r)
				}
			}
			continue
		}
		if !d.MediaType.IsImage() || seen[d.Digest] {
			continue
		}
		// A manifest stored beside the image is a referrer when its own
		// subject says so (descriptors in index.json rarely carry it).
		if d.Size > s.manifestCap {
			continue
		}
		b, err := s.manifest(ctx, d.Digest)
		if err != nil {
			return nil, err
		}
		m, err := parseManifest(b)
		if err != nil || m.Subject == nil || m.Subject.Digest != h {
			continue
		}
		seen[d.Digest] = true
		d.ArtifactType = m.artifactType()
		if d.Annotations == nil {
			d.Annotations = m.Annotations
		}
		out = append(out, d)
	}
	return out, nil
}

func fallbackTag(h v1.Hash) string { return h.Algorithm + "-" + h.Hex }

// refNameIs reports whether a ref.name annotation names tag: tools write
// the bare tag (skopeo, oras) or the full reference REPO:TAG (crane pull
// --annotate-ref).
func refNameIs(n, tag string) bool {
	if n == tag {
		return true
	}
	i := strings.LastIndex(n, ":")
	return i > 0 && n[i+1:] == tag && !strings.Contains(n[:i], "@") && strings.Contains(n[:i], "/")
}
