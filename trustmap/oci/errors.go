package oci

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/hallmark-build/hallmark/trustmap"
)

// Failures of finding an image and its attestations. Each wraps one of
// these, so callers can test them with errors.Is; a provenance statement
// that names another image fails in the core with trustmap.ErrSubjectMismatch.
var (
	ErrBadReference    = errors.New("invalid image reference")
	ErrUnauthorized    = errors.New("registry refused the credentials")
	ErrNotFound        = errors.New("not found in the registry")
	ErrRegistry        = errors.New("registry error")
	ErrDigestMismatch  = errors.New("content does not match its digest")
	ErrTooLarge        = errors.New("larger than the size cap")
	ErrReferrerSubject = errors.New("referrer names another subject")
	ErrTagMoved        = errors.New("tag no longer names the pinned digest")
	ErrInsecure        = errors.New("plain HTTP to a registry that is not on loopback")
	ErrTooMany         = errors.New("too many attestations")
	ErrMalformed       = errors.New("malformed OCI content")
	// ErrNoAttestations wraps trustmap.ErrNoProvenance: nothing to verify
	// is a failure.
	ErrNoAttestations = fmt.Errorf("%w: no attestations found for the image", trustmap.ErrNoProvenance)
)

// Limits on what a registry or layout may make us read. Sizes are checked
// against descriptors before a read, and every read is capped as well.
const (
	MaxManifestBytes    = 4 << 20 // the OCI distribution spec's recommended manifest limit
	MaxAttestationBytes = 4 << 20 // one attestation layer (a DSSE envelope or Sigstore bundle)
	MaxAttestations     = 64      // provenance candidates per image
	MaxLayoutIndexBytes = 16 << 20
)

// classify maps a registry client error onto a sentinel.
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{ErrTooLarge, ErrInsecure, ErrDigestMismatch, ErrBadReference, ErrMalformed} {
		if errors.Is(err, s) {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return fmt.Errorf("%w: %s: HTTP %d: %v", ErrUnauthorized, what, te.StatusCode, err)
		case te.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w: %s: %v", ErrNotFound, what, err)
		}
		return fmt.Errorf("%w: %s: HTTP %d: %v", ErrRegistry, what, te.StatusCode, err)
	}
	if msg := err.Error(); strings.Contains(msg, "does not match requested digest") || strings.Contains(msg, "error verifying sha256 checksum") {
		return fmt.Errorf("%w: %s: %v", ErrDigestMismatch, what, err)
	}
	return fmt.Errorf("%w: %s: %v", ErrRegistry, what, err)
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound || errors.Is(err, ErrNotFound)
}
