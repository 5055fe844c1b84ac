package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hallmark-build/hallmark/internal/strictjson"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// Limits on one upload.
const (
	MaxArtifacts       = 256
	MaxAttestations    = 16
	MaxAttestationSize = 1 << 20
	MaxPackageName     = 256
	MaxArtifactName    = 1024
)

// UploadRequest is the body of POST /v1/verify: what `trustmap verify`
// takes, with artifacts given by digest.
type UploadRequest struct {
	// Package selects the policy entry and the trust-on-first-use pin.
	Package string `json:"package,omitempty"`
	// Artifacts are the uploaded files, by digest (sha256 required).
	Artifacts []ArtifactRef `json:"artifacts,omitempty"`
	// Image names an image in a registry instead of Artifacts
	// (oci://REGISTRY/REPO@sha256:… or :TAG), when the gate is configured
	// to read that registry (Options.Images). Without Provenance, the
	// provenance attached to the image in the registry is verified.
	Image string `json:"image,omitempty"`
	// Provenance is the provenance file's content as given to
	// `trustmap verify --provenance`: a DSSE envelope, a Sigstore bundle,
	// or JSON Lines of them. An upload without provenance is verified like
	// any other, and fails (ErrNoProvenance).
	Provenance string `json:"provenance"`
	// Attestations are other documents uploaded with the artifacts,
	// archived with the verdict: VSAs (as trustmap verify --vsa) that may
	// cover the source revision and the dependencies a policy requires.
	Attestations []string `json:"attestations,omitempty"`
}

// ArtifactRef names an artifact and its digests.
type ArtifactRef struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// VerifyResponse is the answer to POST /v1/verify.
type VerifyResponse struct {
	// Record identifies the stored verdict (GET /v1/attestations/{record}).
	Record string `json:"record"`
	// Replayed is true when the verdict is the stored one of an identical
	// earlier upload under the same configuration and expectations.
	Replayed   bool            `json:"replayed"`
	Passed     bool            `json:"passed"`
	Level      int             `json:"level"`
	VerifiedAt time.Time       `json:"verifiedAt"`
	Result     json.RawMessage `json:"result"`
	VSA        json.RawMessage `json:"vsa"`
	Error      *ErrorBody      `json:"error,omitempty"`
}

var digestLen = map[string]int{"sha256": 64, "sha512": 128}

// ParseUploadRequest decodes and checks an upload strictly.
func ParseUploadRequest(b []byte) (*UploadRequest, error) {
	var req UploadRequest
	if err := strictjson.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedRequest, err)
	}
	if len(req.Package) > MaxPackageName || !printable(req.Package) {
		return nil, fmt.Errorf("%w: package: expected a name of printable characters, at most %d bytes", ErrMalformedRequest, MaxPackageName)
	}
	if req.Image != "" {
		if len(req.Artifacts) > 0 {
			return nil, fmt.Errorf("%w: expected artifacts or an image, not both", ErrMalformedRequest)
		}
		if len(req.Image) > MaxArtifactName || !printable(req.Image) {
			return nil, fmt.Errorf("%w: image: expected a reference of printable characters, at most %d bytes", ErrMalformedRequest, MaxArtifactName)
		}
		r, err := oci.ParseReference(req.Image)
		if err != nil {
			return nil, fmt.Errorf("%w: image: %w", ErrMalformedRequest, err)
		}
		if r.Layout() {
			return nil, fmt.Errorf("%w: image: expected an image in a registry (oci://), not a layout", ErrMalformedRequest)
		}
	} else if len(req.Artifacts) == 0 {
		return nil, fmt.Errorf("%w: %w: expected at least one artifact digest or an image", ErrMalformedRequest, trustmap.ErrNoArtifacts)
	}
	if len(req.Artifacts) > MaxArtifacts {
		return nil, fmt.Errorf("%w: expected at most %d artifacts, got %d", ErrMalformedRequest, MaxArtifacts, len(req.Artifacts))
	}
	names := map[string]bool{}
	for i, a := range req.Artifacts {
		if _, ok := a.Digest["sha256"]; !ok {
			return nil, fmt.Errorf("%w: artifacts[%d]: expected a sha256 digest", ErrMalformedRequest, i)
		}
		for alg, d := range a.Digest {
			n, ok := digestLen[alg]
			if !ok {
				return nil, fmt.Errorf("%w: artifacts[%d]: expected sha256 or sha512 digests, got %q", ErrMalformedRequest, i, trunc(alg))
			}
			if len(d) != n || strings.Trim(d, "0123456789abcdef") != "" {
				return nil, fmt.Errorf("%w: artifacts[%d]: %s digest: expected %d lowercase hex digits", ErrMalformedRequest, i, alg, n)
			}
		}
		if a.Name == "" {
			req.Artifacts[i].Name = "sha256:" + a.Digest["sha256"]
		}
		if len(a.Name) > MaxArtifactName || !printable(a.Name) {
			return nil, fmt.Errorf("%w: artifacts[%d]: expected a name of printable characters, at most %d bytes", ErrMalformedRequest, i, MaxArtifactName)
		}
		if names[req.Artifacts[i].Name] {
			return nil, fmt.Errorf("%w: artifact %q given twice", ErrMalformedRequest, trunc(req.Artifacts[i].Name))
		}
		names[req.Artifacts[i].Name] = true
	}
	if len(req.Provenance) > trustmap.MaxProvenanceBytes {
		return nil, fmt.Errorf("%w: provenance larger than %d bytes", ErrMalformedRequest, trustmap.MaxProvenanceBytes)
	}
	if len(req.Attestations) > MaxAttestations {
		return nil, fmt.Errorf("%w: expected at most %d attestations, got %d", ErrMalformedRequest, MaxAttestations, len(req.Attestations))
	}
	for i, a := range req.Attestations {
		if len(a) > MaxAttestationSize {
			return nil, fmt.Errorf("%w: attestations[%d] larger than %d bytes", ErrMalformedRequest, i, MaxAttestationSize)
		}
	}
	return &req, nil
}

func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar })
}

func trunc(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Sprintf("%q", s)
}

// archiveRef names an archived document in a VSA's inputAttestations.
func archiveRef(d store.Document) trustmap.VSARef {
	hexDigest := strings.TrimPrefix(d.Digest, "sha256:")
	return trustmap.VSARef{URI: "urn:hallmark:archive:" + d.Digest, Digest: map[string]string{"sha256": hexDigest}}
}

func document(kind string, body []byte) store.Document {
	sum := sha256.Sum256(body)
	return store.Document{Digest: "sha256:" + hex.EncodeToString(sum[:]), Kind: kind, Body: body}
}

// uploadIDs returns the upload's ID under each pin version, under one
// trust configuration: the same upload re-posted finds its record; after
// the configuration or the package's expectations change it is verified
// anew. The ID is the sha256 of the upload's JSON description, whose last
// member is the pin version.
func uploadIDs(req *UploadRequest, prov store.Document, atts []store.Document, trustDigest string) func(pinVersion int64) string {
	arts := slices.Clone(req.Artifacts)
	slices.SortFunc(arts, func(a, b ArtifactRef) int { return strings.Compare(a.Name, b.Name) })
	attDigests := make([]string, len(atts))
	for i, a := range atts {
		attDigests[i] = a.Digest
	}
	b, _ := json.Marshal(struct {
		Package      string        `json:"package"`
		Artifacts    []ArtifactRef `json:"artifacts"`
		Provenance   string        `json:"provenance"`
		Attestations []string      `json:"attestations"`
		Trust        string        `json:"trust"`
		PinVersion   int64         `json:"pinVersion"`
	}{req.Package, arts, prov.Digest, attDigests, trustDigest, 0})
	prefix := b[:len(b)-len(`0}`)]
	return func(pinVersion int64) string {
		h := sha256.New()
		h.Write(prefix)
		h.Write(strconv.AppendInt(nil, pinVersion, 10))
		h.Write([]byte("}"))
		return "sha256:" + hex.EncodeToString(h.Sum(nil))
	}
}

// readUpload reads and parses an upload body, answering the error itself.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (*UploadRequest, bool) {
	// Sized from Content-Length up to maxPresized: beyond, the buffer
	// grows with the bytes that arrive, so that a request announcing the
	// largest body and sending nothing costs no such buffer.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), s.opts.MaxBodyBytes, maxPresized)+1))
	_, err := buf.ReadFrom(r.Body)
	body := buf.Bytes()
	if err == nil {
		var req *UploadRequest
		if req, err = ParseUploadRequest(body); err == nil {
			return req, true
		}
	}
	s.fail(w, r, err)
	return nil, false
}

// maxPresized bounds the buffer an upload is read into before its bytes
// arrive.
const maxPresized = 1 << 20

// maxPinRetries bounds how often an upload is verified again because
// another replica changed the package's pin in between.
const maxPinRetries = 8

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, ok := s.readUpload(w, r)
	if !ok {
		return
	}
	resp, err := s.Verify(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.opts.afterStore != nil {
		s.opts.afterStore()
	}
	result := "failed"
	switch {
	case resp.Replayed:
		result = "replayed"
	case resp.Passed:
		result = "passed"
	}
	m := s.metrics.byResult[result]
	m.count.Inc()
	m.latency.Observe(time.Since(start).Seconds())
	code := http.StatusOK
	if !resp.Passed {
		code = http.StatusUnprocessableEntity
	}
	b, err := resp.encode()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeBody(w, code, b)
}

// Verify verifies an upload, archives it and returns the verdict; an
// identical upload returns the stored verdict. The record is committed
// before Verify returns.
func (s *Server) Verify(ctx context.Context, req *UploadRequest) (*VerifyResponse, error) {
	t := s.trust.Load()
	if req.Image != "" {
		if err := s.resolveImage(ctx, req); err != nil {
			return nil, err
		}
	}
	prov := document(store.KindProvenance, []byte(req.Provenance))
	atts := make([]store.Document, len(req.Attestations))
	for i, a := range req.Attestations {
		atts[i] = document(store.KindAttestation, []byte(a))
	}
	idFor := uploadIDs(req, prov, atts, t.digest)
	for attempt := 0; ; attempt++ {
		pin, earlier, err := s.lookup(ctx, t, req.Package, idFor)
		if err != nil {
			return nil, err
		}
		if earlier != nil {
			return response(earlier, true)
		}
		rec, err := s.verifyOnce(ctx, t, req, prov, atts, pin, idFor)
		if err != nil {
			return nil, err
		}
		got, stored, err := s.store.PutRecord(ctx, rec, rec.VerifiedAt)
		if errors.Is(err, store.ErrPinConflict) && attempt < maxPinRetries {
			continue // another upload pinned or changed the package: verify against it
		}
		if err != nil {
			return nil, err
		}
		return response(got, !stored)
	}
}

// lookup returns the package's pin (nil: none, or no TOFU) and the record
// of an identical upload under it (nil: none). For a package pinned at most
// once, both come from one query.
func (s *Server) lookup(ctx context.Context, t *Trust, pkg string, idFor func(int64) string) (*store.Pin, *store.Record, error) {
	var pin *store.Pin
	if t.TOFU && pkg != "" {
		p, found, err := s.store.LookupUpload(ctx, pkg, []string{idFor(0), idFor(1)})
		if err != nil {
			return nil, nil, err
		}
		if found == "" && (p == nil || p.Version <= 1) {
			return p, nil, nil
		}
		pin = p
	}
	version := int64(0)
	if pin != nil {
		version = pin.Version
	}
	rec, err := s.store.GetRecord(ctx, idFor(version))
	if errors.Is(err, store.ErrNotFound) {
		return pin, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return pin, rec, nil
}

// verifyOnce verifies an upload against the package's pin (nil: none);
// idFor gives its ID under a pin version.
func (s *Server) verifyOnce(ctx context.Context, t *Trust, req *UploadRequest, prov store.Document, atts []store.Document, pin *store.Pin, idFor func(int64) string) (*store.Record, error) {
	at := s.opts.Now()
	o := t.Options
	o.At, o.Package, o.Policy = at, req.Package, t.Policy
	// The attestations uploaded with the artifacts are the VSAs that may
	// cover the source revision and the dependencies.
	o.VSAs = nil
	for i, a := range atts {
		o.VSAs = append(o.VSAs, trustmap.VSAInput{Name: fmt.Sprintf("attestations[%d]", i), Raw: a.Body})
	}
	var tofu *trustmap.TOFU
	version := int64(0)
	if t.TOFU {
		tofu = trustmap.NewTOFU()
		if pin != nil {
			tofu.Packages[req.Package] = pin.Entry
			version = pin.Version
		}
		o.TOFU = tofu
	}
	arts := make([]*trustmap.Artifact, len(req.Artifacts))
	subjects := map[string]string{}
	var recSubjects []store.Subject
	for i, a := range req.Artifacts {
		arts[i] = trustmap.DigestArtifact(a.Name, a.Digest)
		subjects[a.Name] = a.Digest["sha256"]
		recSubjects = append(recSubjects, store.Subject{Name: a.Name, Digest: "sha256:" + a.Digest["sha256"]})
	}
	res, verr := trustmap.Verify(ctx, t.Roots, prov.Body, arts, o)
	if res == nil {
		return nil, verr
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	resultJSON, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	name := req.Package
	if name == "" {
		name = req.Artifacts[0].Name
	}
	// Inputs are named by their place in the archive.
	inputs := []trustmap.VSARef{archiveRef(prov)}
	for _, u := range res.VSAs {
		inputs = append(inputs, trustmap.VSARef{URI: "urn:hallmark:archive:sha256:" + u.FileDigest, Digest: map[string]string{"sha256": u.FileDigest}})
	}
	st, err := trustmap.NewVSA(res, trustmap.VSAOptions{
		VerifierID: t.VerifierID, VerifierVersion: t.VerifierVersion,
		ResourceURI: trustmap.ResourceURIFor(name, req.Artifacts[0].Digest["sha256"]), Subjects: subjects,
		PolicyURI: t.PolicyURI, PolicyData: t.PolicyData, InputAttestations: inputs, At: at,
	})
	if err != nil {
		return nil, err
	}
	vsa, err := trustmap.SignVSA(ctx, st, t.VSAKey)
	if err != nil {
		return nil, err
	}
	rec := &store.Record{
		Package: req.Package, VerifiedAt: at, Passed: res.Passed, Level: int(res.Level),
		ErrorCodes: trustmap.ErrorNames(verr), Subjects: recSubjects,
		Provenance: prov, Attestations: atts,
		Result: document(store.KindResult, resultJSON), VSA: document(store.KindVSA, vsa),
		ExpectPin: version, PinVersion: version, Actor: actorOf(ctx),
	}
	if verr != nil && len(rec.ErrorCodes) == 0 {
		rec.ErrorCodes = []string{"ErrVerification"}
	}
	if tofu != nil && tofu.Changed() {
		e := tofu.Packages[req.Package]
		rec.NewPin, rec.PinVersion = &e, 1
	}
	rec.ID = idFor(rec.PinVersion)
	return rec, nil
}

func response(rec *store.Record, replayed bool) (*VerifyResponse, error) {
	resp := &VerifyResponse{
		Record: rec.ID, Replayed: replayed, Passed: rec.Passed, Level: rec.Level, VerifiedAt: rec.VerifiedAt,
		Result: json.RawMessage(rec.Result.Body), VSA: json.RawMessage(bytes.TrimRight(rec.VSA.Body, "\n")),
	}
	if !rec.Passed {
		var res trustmap.Result
		if err := json.Unmarshal(rec.Result.Body, &res); err != nil {
			return nil, fmt.Errorf("stored result %s: %w", rec.Result.Digest, err)
		}
		resp.Error = &ErrorBody{Message: res.Error, Code: "ErrVerification"}
		if len(rec.ErrorCodes) > 0 {
			resp.Error.Code = rec.ErrorCodes[0]
		}
		if len(rec.ErrorCodes) > 1 {
			resp.Error.Codes = rec.ErrorCodes
		}
	}
	return resp, nil
}

// encode is the answer's JSON. The result and VSA are written as they
// are: JSON this service produced (a replayed record's are checked, as they
// come from the database), not decoded and encoded again.
func (v *VerifyResponse) encode() ([]byte, error) {
	if v.Replayed && (!json.Valid(v.Result) || !json.Valid(v.VSA)) {
		return nil, fmt.Errorf("record %s: the stored result or VSA is not JSON", v.Record)
	}
	head, err := json.Marshal(struct {
		Record     string     `json:"record"`
		Replayed   bool       `json:"replayed"`
		Passed     bool       `json:"passed"`
		Level      int        `json:"level"`
		VerifiedAt time.Time  `json:"verifiedAt"`
		Error      *ErrorBody `json:"error,omitempty"`
	}{v.Record, v.Replayed, v.Passed, v.Level, v.VerifiedAt, v.Error})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+len(v.Result)+len(v.VSA)+len(`,"result":,"vsa":}`)+1)
	b = append(b, head[:len(head)-1]...)
	b = append(append(b, `,"result":`...), v.Result...)
	b = append(append(b, `,"vsa":`...), v.VSA...)
	return append(b, "}\n"...), nil
}
