package trustmap

import (
	"fmt"
	"io"
	"maps"
)

// DigestArtifact is an artifact known only by its digests (algorithm ->
// lowercase hex), as a registry's upload handler or an image reference has
// them. Asking it for an algorithm it was not given is an error, never a
// match: the caller must hand over every digest it can vouch for.
func DigestArtifact(name string, digests map[string]string) *Artifact {
	return &Artifact{Name: name, given: maps.Clone(digests), open: func() (io.ReadCloser, error) {
		return nil, fmt.Errorf("%w: %s: only its digests are known", ErrNoSupportedDigest, name)
	}}
}
