package oci

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Reference schemes.
const (
	RegistryScheme = "oci://"
	LayoutScheme   = "oci-layout://"
)

// IsReference reports whether s names an image (oci:// or oci-layout://)
// rather than a file.
func IsReference(s string) bool {
	return strings.HasPrefix(s, RegistryScheme) || strings.HasPrefix(s, LayoutScheme)
}

// Reference is a parsed image reference: an image in a registry
// (oci://REGISTRY/REPO:TAG, @sha256:… or both) or in an OCI image layout
// directory (oci-layout://DIR:TAG, @sha256:… or both). With both a tag and
// a digest, the tag must still name the digest.
type Reference struct {
	raw    string
	repo   name.Repository // registry references
	dir    string          // layout references
	tag    string
	digest v1.Hash // zero when only a tag is given
}

// String returns the reference as given.
func (r Reference) String() string { return r.raw }

// Layout reports whether the reference names an OCI image layout.
func (r Reference) Layout() bool { return r.dir != "" }

// Registry returns the registry host (HOST[:PORT]) of a registry
// reference, "" for a layout.
func (r Reference) Registry() string {
	if r.dir != "" {
		return ""
	}
	return r.repo.RegistryStr()
}

// Tag returns the tag, or "" when the reference is by digest only.
func (r Reference) Tag() string { return r.tag }

// Digest returns the pinned digest ("" when the reference is a bare tag).
func (r Reference) Digest() string {
	if r.digest.Hex == "" {
		return ""
	}
	return r.digest.String()
}

// ParseReference parses oci://REGISTRY/REPO[:TAG][@sha256:HEX] or
// oci-layout://DIR[:TAG][@sha256:HEX]. A registry reference must name its
// registry host (no implicit Docker Hub), and a digest must be sha256.
func ParseReference(s string) (Reference, error) {
	r := Reference{raw: s}
	var rest string
	switch {
	case strings.HasPrefix(s, RegistryScheme):
		rest = strings.TrimPrefix(s, RegistryScheme)
	case strings.HasPrefix(s, LayoutScheme):
		rest = strings.TrimPrefix(s, LayoutScheme)
	default:
		return r, fmt.Errorf("%w: expected oci://REGISTRY/REPO:TAG or oci-layout://DIR@sha256:…, got %q", ErrBadReference, s)
	}
	base := rest
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		base = rest[:i]
		h, err := v1.NewHash(rest[i+1:])
		if err != nil || h.Algorithm != "sha256" {
			return r, fmt.Errorf("%w: %q: expected a digest sha256:<64 lowercase hex>, got %q", ErrBadReference, s, rest[i+1:])
		}
		if strings.ToLower(h.Hex) != h.Hex {
			return r, fmt.Errorf("%w: %q: digests are lowercase hex", ErrBadReference, s)
		}
		r.digest = h
	}
	// The tag follows the last ':' after the last '/'.
	if i := strings.LastIndex(base, ":"); i > strings.LastIndex(base, "/") {
		r.tag = base[i+1:]
		base = base[:i]
		if _, err := name.NewTag("example.invalid/x:"+r.tag, name.StrictValidation); err != nil {
			return r, fmt.Errorf("%w: %q: invalid tag %q", ErrBadReference, s, r.tag)
		}
	}
	if r.tag == "" && r.digest.Hex == "" {
		return r, fmt.Errorf("%w: %q: expected :TAG or @sha256:… after the name", ErrBadReference, s)
	}
	if strings.HasPrefix(s, LayoutScheme) {
		if base == "" {
			return r, fmt.Errorf("%w: %q: no layout directory", ErrBadReference, s)
		}
		r.dir = base
		return r, nil
	}
	// A registry host has a dot, a port or is localhost.
	host, _, _ := strings.Cut(base, "/")
	if !strings.Contains(base, "/") || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return r, fmt.Errorf("%w: %q: expected REGISTRY/REPO (the registry host is required)", ErrBadReference, s)
	}
	repo, err := name.NewRepository(base, name.StrictValidation)
	if err != nil {
		return r, fmt.Errorf("%w: %q: %v", ErrBadReference, s, err)
	}
	r.repo = repo
	return r, nil
}

// pinned returns the reference of the resolved digest, for output.
func (r Reference) pinned(d v1.Hash) string {
	if r.dir != "" {
		return LayoutScheme + r.dir + "@" + d.String()
	}
	return RegistryScheme + r.repo.Name() + "@" + d.String()
}
