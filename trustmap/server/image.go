package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/hallmark-build/hallmark/trustmap/oci"
)

// Images lets uploads name an image in a registry instead of artifact
// digests: the gate resolves the reference (a tag once, then only by
// digest) and, when the upload carries no provenance, finds the provenance
// attached to the image, as `trustmap verify oci://…` does.
type Images struct {
	// Client reads registries: credentials, TLS roots, size caps
	// (oci.Options).
	Client *oci.Client
	// Registries are the registry hosts (HOST[:PORT], as written in the
	// reference) uploads may name. The gate makes no request to any other:
	// an upload cannot point it at an internal service.
	Registries []string
}

// ErrImageNotAllowed: the upload names an image in a registry the gate is
// not configured to read (or the gate reads no images at all).
var ErrImageNotAllowed = errors.New("images from this registry are not accepted")

// ociErrors are reported under their package-qualified names: the
// registry's failures, not the upload's verdict.
var ociErrors = []struct {
	name string
	err  error
}{
	{"oci.ErrUnauthorized", oci.ErrUnauthorized},
	{"oci.ErrNotFound", oci.ErrNotFound},
	{"oci.ErrRegistry", oci.ErrRegistry},
	{"oci.ErrDigestMismatch", oci.ErrDigestMismatch},
	{"oci.ErrTooLarge", oci.ErrTooLarge},
	{"oci.ErrReferrerSubject", oci.ErrReferrerSubject},
	{"oci.ErrTagMoved", oci.ErrTagMoved},
	{"oci.ErrInsecure", oci.ErrInsecure},
	{"oci.ErrTooMany", oci.ErrTooMany},
	{"oci.ErrMalformed", oci.ErrMalformed},
}

func isRegistryError(err error) bool {
	return slices.ContainsFunc(ociErrors, func(n struct {
		name string
		err  error
	}) bool {
		return errors.Is(err, n.err)
	})
}

// resolveImage turns an upload that names an image into the upload of its
// digest with the provenance found for it (unless the upload brought its
// own). Nothing attached leaves the provenance empty: the verification
// fails with ErrNoProvenance and is archived like any other.
func (s *Server) resolveImage(ctx context.Context, req *UploadRequest) error {
	ref, err := oci.ParseReference(req.Image)
	if err != nil {
		return fmt.Errorf("%w: image: %w", ErrMalformedRequest, err)
	}
	im := s.opts.Images
	if im == nil || im.Client == nil || ref.Layout() || !slices.ContainsFunc(im.Registries, func(h string) bool { return sameRegistry(h, ref.Registry()) }) {
		allowed := "none"
		if im != nil && len(im.Registries) > 0 {
			allowed = strings.Join(im.Registries, ", ")
		}
		return fmt.Errorf("%w: expected an image in one of the registries %s, got %s", ErrImageNotAllowed, allowed, trunc(ref.Registry()))
	}
	var image *oci.Image
	if req.Provenance != "" {
		if image, err = im.Client.Resolve(ctx, req.Image); err != nil {
			return err
		}
	} else {
		d, err := im.Client.Discover(ctx, req.Image)
		if err != nil && !(errors.Is(err, oci.ErrNoAttestations) && d != nil) {
			return err
		}
		image, req.Provenance = &d.Image, string(d.Provenance())
	}
	req.Artifacts = []ArtifactRef{{Name: image.Pinned, Digest: map[string]string{"sha256": strings.TrimPrefix(image.Digest, "sha256:")}}}
	return nil
}

// sameRegistry compares registry hosts as the registry client names them
// (docker.io is index.docker.io).
func sameRegistry(a, b string) bool {
	if a == "" || b == "" { // an empty name would mean Docker Hub
		return false
	}
	ra, err := name.NewRegistry(a)
	if err != nil {
		return false
	}
	rb, err := name.NewRegistry(b)
	return err == nil && ra.RegistryStr() == rb.RegistryStr()
}
