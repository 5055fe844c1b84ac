package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/trustmap/store"
)

// ArchivedRecord is one stored verdict with the documents it was reached
// from and the ones issued.
type ArchivedRecord struct {
	Seq        int64            `json:"seq,omitempty"`
	ID         string           `json:"id"`
	Package    string           `json:"package,omitempty"`
	VerifiedAt time.Time        `json:"verifiedAt"`
	Passed     bool             `json:"passed"`
	Level      int              `json:"level"`
	ErrorCodes []string         `json:"errorCodes,omitempty"`
	Subjects   []SubjectRef     `json:"subjects"`
	Provenance ArchivedDocument `json:"provenance"`
	// Attestations are the other documents received with the upload.
	Attestations []ArchivedDocument `json:"attestations,omitempty"`
	Result       json.RawMessage    `json:"result"`
	VSA          ArchivedDocument   `json:"vsa"`
	PinVersion   int64              `json:"pinVersion"`
}

// SubjectRef is an artifact a record is about.
type SubjectRef struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// ArchivedDocument is a document and its content address.
type ArchivedDocument struct {
	Digest  string `json:"digest"`
	Content string `json:"content"`
}

func archived(seq int64, r *store.Record) ArchivedRecord {
	out := ArchivedRecord{
		Seq: seq, ID: r.ID, Package: r.Package, VerifiedAt: r.VerifiedAt, Passed: r.Passed, Level: r.Level,
		ErrorCodes: r.ErrorCodes, Subjects: []SubjectRef{},
		Provenance: ArchivedDocument{r.Provenance.Digest, string(r.Provenance.Body)},
		Result:     json.RawMessage(r.Result.Body),
		VSA:        ArchivedDocument{r.VSA.Digest, string(r.VSA.Body)},
		PinVersion: r.PinVersion,
	}
	for _, s := range r.Subjects {
		out.Subjects = append(out.Subjects, SubjectRef{s.Name, s.Digest})
	}
	for _, a := range r.Attestations {
		out.Attestations = append(out.Attestations, ArchivedDocument{a.Digest, string(a.Body)})
	}
	return out
}

// RecordList is a page of records.
type RecordList struct {
	Records []ArchivedRecord `json:"records"`
	// Next is the value of ?after= for the next page ("" on the last).
	Next string `json:"next,omitempty"`
}

func parseDigestParam(name, v string) (string, error) {
	hexPart, ok := strings.CutPrefix(v, "sha256:")
	if !ok || len(hexPart) != 64 || strings.Trim(hexPart, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: %s: expected sha256:<64 lowercase hex digits>", ErrMalformedRequest, name)
	}
	return v, nil
}

func pageParams(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return 0, 0, fmt.Errorf("%w: after: expected a record sequence number", ErrMalformedRequest)
		}
	}
	limit = store.MaxListLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > store.MaxListLimit {
			return 0, 0, fmt.Errorf("%w: limit: expected 1-%d", ErrMalformedRequest, store.MaxListLimit)
		}
	}
	return after, limit, nil
}

func (s *Server) handleListAttestations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var query store.Query
	var err error
	if v := q.Get("subject"); v != "" {
		if query.Subject, err = parseDigestParam("subject", v); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	query.Package = q.Get("package")
	if query.Subject == "" && query.Package == "" {
		s.fail(w, r, fmt.Errorf("%w: give ?subject=sha256:... or ?package=NAME", ErrMalformedRequest))
		return
	}
	if query.After, query.Limit, err = pageParams(r); err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := s.store.ListRecords(r.Context(), query)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := RecordList{Records: []ArchivedRecord{}}
	for _, rec := range recs {
		out.Records = append(out.Records, archived(rec.Seq, &rec.Record))
	}
	if len(recs) == query.Limit {
		out.Next = strconv.FormatInt(recs[len(recs)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetRecord(w http.ResponseWriter, r *http.Request) {
	id, err := parseDigestParam("id", r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.store.GetRecord(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, archived(0, rec))
}

// handleGetDocument serves an archived document's exact bytes.
func (s *Server) handleGetDocument(w http.ResponseWriter, r *http.Request) {
	digest, err := parseDigestParam("digest", r.PathValue("digest"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	doc, err := s.store.GetDocument(r.Context(), digest)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Document-Kind", doc.Kind)
	w.Header().Set("Digest", "sha-256="+digest)
	w.Write(doc.Body)
}

// AuditList is a page of the audit log.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

// AuditEntry is one audit log line.
type AuditEntry struct {
	Seq     int64           `json:"seq"`
	At      time.Time       `json:"at"`
	Event   string          `json:"event"`
	Package string          `json:"package"`
	Actor   string          `json:"actor"`
	Detail  json.RawMessage `json:"detail"`
}

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) {
	after, limit, err := pageParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	entries, err := s.store.Audit(r.Context(), after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := AuditList{Entries: []AuditEntry{}}
	for _, e := range entries {
		out.Entries = append(out.Entries, AuditEntry{e.Seq, e.At, e.Event, e.Package, e.Actor, json.RawMessage(e.Detail)})
	}
	if len(entries) == limit {
		out.Next = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
}
