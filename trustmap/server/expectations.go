package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// PackageInfo is the answer of GET /v1/packages/{name}: what uploads of the
// package must show.
type PackageInfo struct {
	Package string `json:"package"`
	// Policy is the configured expectations (from --policy), if any.
	Policy *trustmap.PackagePolicy `json:"policy,omitempty"`
	// Pin is what the first passing upload showed, or the last approved
	// change.
	Pin *PinInfo `json:"pin,omitempty"`
}

// PinInfo is a package's trust-on-first-use pin.
type PinInfo struct {
	Version      int64              `json:"version"`
	UpdatedAt    time.Time          `json:"updatedAt"`
	Expectations trustmap.TOFUEntry `json:"expectations"`
}

func (s *Server) handleGetPackage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	t := s.trust.Load()
	info := PackageInfo{Package: name}
	if t.Policy != nil {
		if pp, ok := t.Policy.Packages[name]; ok {
			info.Policy = &pp
		}
	}
	pin, err := s.store.GetPin(r.Context(), name)
	switch {
	case err == nil:
		info.Pin = &PinInfo{Version: pin.Version, UpdatedAt: pin.UpdatedAt, Expectations: pin.Entry}
	case !errors.Is(err, store.ErrNotFound):
		s.fail(w, r, err)
		return
	}
	if info.Policy == nil && info.Pin == nil {
		s.fail(w, r, fmt.Errorf("%w: package %q has no configured or pinned expectations", ErrNotFound, name))
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// ProposalInfo is a proposal and its approvals.
type ProposalInfo struct {
	ID string `json:"id"`
	// Approval is the expectations approval document (the format of
	// `trustmap expectations propose`) approvers sign.
	Approval    trustmap.Approval `json:"approval"`
	BaseVersion int64             `json:"baseVersion"`
	ProposedBy  string            `json:"proposedBy"`
	Approvals   []ApprovalInfo    `json:"approvals"`
	Threshold   int               `json:"threshold"`
	AppliedAt   *time.Time        `json:"appliedAt,omitempty"`
}

// ApprovalInfo is one approver's signature.
type ApprovalInfo struct {
	KeyFingerprint string    `json:"keyFingerprint"`
	At             time.Time `json:"at"`
}

func proposalInfo(p *store.Proposal, threshold int) (*ProposalInfo, error) {
	a, err := trustmap.ParseApproval(p.Payload)
	if err != nil {
		return nil, err
	}
	out := &ProposalInfo{ID: p.ID, Approval: *a, BaseVersion: p.BaseVersion, ProposedBy: p.ProposedBy, Approvals: []ApprovalInfo{}, Threshold: threshold, AppliedAt: p.AppliedAt}
	for _, x := range p.Approvals {
		out.Approvals = append(out.Approvals, ApprovalInfo{x.KeyFingerprint, x.At})
	}
	return out, nil
}

// handlePropose verifies an upload of the package without its pin (as
// `trustmap expectations approve` does) and proposes what it shows as the
// package's new expectations.
func (s *Server) handlePropose(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	t := s.trust.Load()
	if len(t.Approvers) == 0 {
		s.fail(w, r, fmt.Errorf("%w: no approver keys are configured (--approver-key): expectations cannot change", ErrConflict))
		return
	}
	req, ok := s.readUpload(w, r)
	if !ok {
		return
	}
	if req.Package != "" && req.Package != name {
		s.fail(w, r, fmt.Errorf("%w: the body names package %s, the path %s", ErrMalformedRequest, trunc(req.Package), trunc(name)))
		return
	}
	req.Package = name
	if req.Image != "" {
		if err := s.resolveImage(r.Context(), req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	at := s.opts.Now()
	o := t.Options
	o.At, o.Package, o.Policy = at, name, t.Policy
	if o.Policy == nil && o.Expect == nil {
		// As `trustmap expectations propose`: the approvers' decision is
		// what sets the expectation; signature, subject and level are
		// still checked.
		o.NoExpectationsUnsafe = true
	}
	arts := make([]*trustmap.Artifact, len(req.Artifacts))
	for i, a := range req.Artifacts {
		arts[i] = trustmap.DigestArtifact(a.Name, a.Digest)
	}
	res, verr := trustmap.Verify(r.Context(), t.Roots, []byte(req.Provenance), arts, o)
	if verr != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": errorBody(fmt.Errorf("not proposed: the provenance does not verify: %w", verr)), "result": res})
		return
	}
	base := int64(0)
	if pin, err := s.store.GetPin(r.Context(), name); err == nil {
		base = pin.Version
	} else if !errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	var pkg *trustmap.PackagePolicy
	if t.Policy != nil {
		if pp, ok := t.Policy.Packages[name]; ok {
			pkg = &pp
		}
	}
	a, err := trustmap.NewApproval(name, res, pkg, at, s.opts.ApprovalValidity)
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: %w", ErrMalformedRequest, err))
		return
	}
	payload, err := a.Marshal()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sum := sha256.Sum256(payload)
	p := &store.Proposal{
		ID: "sha256:" + hex.EncodeToString(sum[:]), Package: name, BaseVersion: base,
		Entry:   trustmap.TOFUEntry{BuilderID: a.BuilderID, BuildType: a.BuildType, Parameters: a.Parameters, FirstSeen: a.IssuedAt},
		Payload: payload, ProposedBy: actor(r), CreatedAt: at,
	}
	if err := s.store.Propose(r.Context(), p); err != nil {
		s.fail(w, r, err)
		return
	}
	info, err := proposalInfo(p, t.Threshold)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/proposals/"+p.ID)
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) proposal(w http.ResponseWriter, r *http.Request) *store.Proposal {
	id, err := parseDigestParam("id", r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	p, err := s.store.GetProposal(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil
	}
	return p
}

func (s *Server) handleGetProposal(w http.ResponseWriter, r *http.Request) {
	p := s.proposal(w, r)
	if p == nil {
		return
	}
	info, err := proposalInfo(p, s.trust.Load().Threshold)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// handleGetProposalPayload serves the exact bytes approvers sign (an
// expectations approval document: trustmap expectations sign signs it).
func (s *Server) handleGetProposalPayload(w http.ResponseWriter, r *http.Request) {
	p := s.proposal(w, r)
	if p == nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(p.Payload)
}

// ApprovalResult is the answer to an approval.
type ApprovalResult struct {
	Proposal ProposalInfo `json:"proposal"`
	// Accepted are the approver keys whose signatures this request added.
	Accepted []string `json:"accepted"`
	Applied  bool     `json:"applied"`
}

// handleApprove takes a DSSE envelope over the proposal's payload. Each
// configured approver key that signed it counts once; at the threshold the
// change is applied (pin, proposal and audit log in one transaction).
func (s *Server) handleApprove(w http.ResponseWriter, r *http.Request) {
	t := s.trust.Load()
	p := s.proposal(w, r)
	if p == nil {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	env, err := attest.ParseEnvelope(body)
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: approval: %v", ErrMalformedRequest, err))
		return
	}
	payload, signers, err := trustmap.VerifyThreshold(r.Context(), env, trustmap.ApprovalPayloadType, t.Approvers, 1)
	if err != nil {
		s.fail(w, r, fmt.Errorf("%w: expected a signature over proposal %s by one of %d approver keys: %w", ErrBadApproval, p.ID, len(t.Approvers), err))
		return
	}
	if !bytes.Equal(payload, p.Payload) {
		s.fail(w, r, fmt.Errorf("%w: the signed approval is not proposal %s", ErrBadApproval, p.ID))
		return
	}
	if a, err := trustmap.ParseApproval(p.Payload); err != nil {
		s.fail(w, r, err)
		return
	} else if now := s.opts.Now(); !now.Before(a.Expires) {
		s.fail(w, r, fmt.Errorf("%w: %w: proposal %s expired at %s; propose again", ErrConflict, trustmap.ErrApprovalStale, p.ID, a.Expires.Format(time.RFC3339)))
		return
	}
	at := s.opts.Now()
	applied := false
	for _, fp := range signers {
		got, done, err := s.store.Approve(r.Context(), p.ID, store.Approval{KeyFingerprint: fp, Envelope: body, At: at}, t.Threshold)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, applied = got, applied || done
		if done {
			break
		}
	}
	info, err := proposalInfo(p, t.Threshold)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ApprovalResult{Proposal: *info, Accepted: signers, Applied: applied})
}
