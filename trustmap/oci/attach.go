package oci

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/hallmark-build/hallmark/internal/strictjson"
	"github.com/hallmark-build/hallmark/trustmap"
)

// emptyJSON is the OCI empty descriptor's content.
var emptyJSON = []byte("{}")

// Attach pushes doc (a DSSE envelope or a Sigstore bundle) to the image's
// repository as a referrer of the image: an OCI 1.1 manifest whose subject
// is the image, found through the referrers API; on a registry without the
// API the sha256-HEX referrers tag is updated as well (as cosign and oras
// do). It returns the referrer's digest. The image must have been resolved
// from a registry reference.
func (c *Client) Attach(ctx context.Context, im *Image, doc []byte) (string, error) {
	r, err := ParseReference(im.Pinned)
	if err != nil {
		return "", err
	}
	if r.Layout() {
		return "", fmt.Errorf("%w: attaching is to a registry (oci://), not to a layout", ErrBadReference)
	}
	mf, layer, err := referrerManifest(im, doc)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(mf)
	d := "sha256:" + hex.EncodeToString(sum[:])
	img, err := partial.CompressedToImage(&rawImage{manifest: mf, layer: layer})
	if err != nil {
		return "", err
	}
	opts := append(c.opts.remoteOptions(), remote.WithContext(ctx))
	if err := remote.Write(r.repo.Digest(d), img, opts...); err != nil {
		return "", classify("push referrer", err)
	}
	return d, nil
}

// referrerManifest builds the referrer manifest for doc.
func referrerManifest(im *Image, doc []byte) ([]byte, v1.Layer, error) {
	doc = bytes.TrimSpace(doc)
	var probe struct {
		MediaType   string `json:"mediaType"`
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	if err := strictjson.UnmarshalOpen(doc, &probe); err != nil {
		return nil, nil, fmt.Errorf("%w: expected a DSSE envelope or a Sigstore bundle: %v", ErrMalformed, err)
	}
	artifactType, layerType, annKey := InTotoArtifactType, DSSEMediaType, annPredicateInToto
	payload := probe.Payload
	switch {
	case probe.MediaType != "":
		if !isAttestationType(probe.MediaType) {
			return nil, nil, fmt.Errorf("%w: expected a Sigstore bundle, got mediaType %q", ErrMalformed, probe.MediaType)
		}
		artifactType, layerType, annKey = BundleMediaType, BundleMediaType, annPredicateBundle
		var b struct {
			DSSEEnvelope struct {
				Payload string `json:"payload"`
			} `json:"dsseEnvelope"`
		}
		_ = strictjson.UnmarshalOpen(doc, &b)
		payload = b.DSSEEnvelope.Payload
	case probe.PayloadType == "":
		return nil, nil, fmt.Errorf("%w: expected a DSSE envelope or a Sigstore bundle", ErrMalformed)
	}
	ann := map[string]string{}
	// The predicate type is a hint for readers that filter referrers;
	// verifiers read the signed statement.
	if st := unverifiedStatement(payload); st.PredicateType != "" {
		ann[annKey] = st.PredicateType
	}
	layer := static.NewLayer(doc, types.MediaType(layerType))
	ld, _ := layer.Digest()
	subject, err := v1.NewHash(im.Digest)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadReference, err)
	}
	emptySum := sha256.Sum256(emptyJSON)
	m := struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		ArtifactType  string            `json:"artifactType"`
		Config        v1.Descriptor     `json:"config"`
		Layers        []v1.Descriptor   `json:"layers"`
		Subject       v1.Descriptor     `json:"subject"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config: v1.Descriptor{MediaType: EmptyMediaType, Size: int64(len(emptyJSON)), Data: emptyJSON,
			Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(emptySum[:])}},
		Layers:      []v1.Descriptor{{MediaType: types.MediaType(layerType), Digest: ld, Size: int64(len(doc))}},
		Subject:     v1.Descriptor{MediaType: types.MediaType(im.MediaType), Digest: subject, Size: int64(len(im.Manifest))},
		Annotations: ann,
	}
	b, err := json.Marshal(m)
	return b, layer, err
}

// rawImage is a referrer manifest with its one layer and the empty config.
type rawImage struct {
	manifest []byte
	layer    v1.Layer
}

func (r *rawImage) RawConfigFile() ([]byte, error)      { return emptyJSON, nil }
func (r *rawImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (r *rawImage) RawManifest() ([]byte, error)        { return r.manifest, nil }
func (r *rawImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if d, _ := r.layer.Digest(); d == h {
		return r.layer, nil
	}
	if sum := sha256.Sum256(emptyJSON); h.Hex == hex.EncodeToString(sum[:]) {
		return static.NewLayer(emptyJSON, EmptyMediaType), nil
	}
	return nil, fmt.Errorf("no blob %s in the referrer", h)
}

type statementHint struct {
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
}

// unverifiedStatement reads a DSSE payload without verifying it, for hints.
func unverifiedStatement(payload string) statementHint {
	var st statementHint
	if p, err := base64.StdEncoding.DecodeString(payload); err == nil {
		_ = strictjson.UnmarshalOpen(p, &st)
	}
	return st
}

// CheckNamesImage refuses a document (DSSE envelope or Sigstore bundle)
// whose statement, read without verifying it, names subjects but not the
// image: attached there, no verifier could accept it.
func CheckNamesImage(doc []byte, im *Image) error {
	var probe struct {
		Payload      string `json:"payload"`
		DSSEEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := strictjson.UnmarshalOpen(bytes.TrimSpace(doc), &probe); err != nil {
		return fmt.Errorf("%w: expected a DSSE envelope or a Sigstore bundle: %v", ErrMalformed, err)
	}
	st := unverifiedStatement(probe.Payload + probe.DSSEEnvelope.Payload)
	for _, sub := range st.Subject {
		if "sha256:"+sub.Digest["sha256"] == im.Digest {
			return nil
		}
	}
	return fmt.Errorf("%w: the statement names %d subjects, none with the image digest %s; not attached", trustmap.ErrSubjectMismatch, len(st.Subject), im.Digest)
}
