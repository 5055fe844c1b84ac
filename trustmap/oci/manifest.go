package oci

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// Media types of attestations stored in registries.
const (
	// BundleMediaType is a Sigstore bundle v0.3, as cosign v3 and GitHub
	// attach them (artifactType of the referrer and media type of its layer).
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// DSSEMediaType is a DSSE envelope layer (cosign's .att tag, in-toto
	// referrers).
	DSSEMediaType = "application/vnd.dsse.envelope.v1+json"
	// InTotoArtifactType is the artifactType of an in-toto attestation
	// referrer whose layer is a DSSE envelope.
	InTotoArtifactType = "application/vnd.in-toto+json"
	// EmptyMediaType is the OCI empty descriptor's media type.
	EmptyMediaType = "application/vnd.oci.empty.v1+json"

	// Annotations naming the predicate type of an attestation (a hint for
	// skipping documents that are not provenance; never trusted for the
	// verdict, which reads the verified statement).
	annPredicateBundle = "dev.sigstore.bundle.predicateType"
	annPredicateInToto = "in-toto.io/predicate-type"
	annPredicateCosign = "predicateType"
)

// manifest is an OCI image manifest, decoded strictly (duplicate and
// case-variant names refused).
type manifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func (m *manifest) artifactType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return string(m.Config.MediaType)
}

func parseManifest(b []byte) (*manifest, error) {
	var m manifest
	if err := strictjson.UnmarshalOpen(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrMalformed, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: manifest: expected schemaVersion 2, got %d", ErrMalformed, m.SchemaVersion)
	}
	return &m, nil
}

func parseIndex(b []byte) (*v1.IndexManifest, error) {
	var im v1.IndexManifest
	if err := strictjson.UnmarshalOpen(b, &im); err != nil {
		return nil, fmt.Errorf("%w: index: %v", ErrMalformed, err)
	}
	if im.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: index: expected schemaVersion 2, got %d", ErrMalformed, im.SchemaVersion)
	}
	return &im, nil
}

// mediaTypeOf reads the mediaType a manifest declares.
func mediaTypeOf(b []byte) (types.MediaType, error) {
	var probe struct {
		SchemaVersion int64           `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
	}
	if err := strictjson.UnmarshalOpen(b, &probe); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if probe.SchemaVersion != 2 {
		return "", fmt.Errorf("%w: expected schemaVersion 2, got %d", ErrMalformed, probe.SchemaVersion)
	}
	return probe.MediaType, nil
}
