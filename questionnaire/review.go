package questionnaire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/canonical"
)

// ReviewSchema identifies the review document format.
const ReviewSchema = "https://hallmark.build/review/v1"

// MaxReviewBytes caps review documents.
const MaxReviewBytes = 1 << 20

// Review errors.
var (
	ErrMalformedReview    = errors.New("malformed review document")
	ErrReviewDigest       = errors.New("review is for other answers")
	ErrInvalidVerdict     = errors.New("invalid verdict")
	ErrUnknownReviewEntry = errors.New("review names a question that is not answered")
)

// Verdict is an auditor's decision on one answer.
type Verdict string

const (
	Accepted      Verdict = "accepted"
	Rejected      Verdict = "rejected"
	NeedsEvidence Verdict = "needs-evidence"
)

// Valid reports whether v is one of the three verdicts.
func (v Verdict) Valid() bool { return v == Accepted || v == Rejected || v == NeedsEvidence }

// UnmarshalJSON re-validates the verdict.
func (v *Verdict) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if !Verdict(s).Valid() {
		return fmt.Errorf("%w: expected accepted, rejected or needs-evidence, got %q", ErrInvalidVerdict, truncate(s, 40))
	}
	*v = Verdict(s)
	return nil
}

// Review is an auditor's verdict on each answer of one answers document,
// bound to that document by its sha256.
type Review struct {
	Schema        string                 `json:"schema"`
	AnswersDigest string                 `json:"answersDigest"`
	AnswersName   string                 `json:"answersName,omitempty"`
	Reviewer      string                 `json:"reviewer,omitempty"`
	Verdicts      map[string]ReviewEntry `json:"verdicts"`
}

// ReviewEntry is the verdict on one answer.
type ReviewEntry struct {
	Verdict Verdict `json:"verdict,omitempty"`
	Comment string  `json:"comment,omitempty"`
}

// NewReview starts a review of doc.
func NewReview(doc *Document, name string) (*Review, error) {
	d, err := doc.Digest()
	if err != nil {
		return nil, err
	}
	return &Review{Schema: ReviewSchema, AnswersDigest: d, AnswersName: name, Verdicts: map[string]ReviewEntry{}}, nil
}

// ParseReview decodes a review and checks it against doc: the digest must
// be doc's, and every verdict must be on an answered question.
func ParseReview(b []byte, doc *Document) (*Review, error) {
	if len(b) > MaxReviewBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedReview, MaxReviewBytes)
	}
	var rv Review
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedReview, err)
	}
	if rv.Schema != ReviewSchema {
		return nil, fmt.Errorf("%w: schema: expected %q, got %q", ErrMalformedReview, ReviewSchema, truncate(rv.Schema, 80))
	}
	want, err := doc.Digest()
	if err != nil {
		return nil, err
	}
	if rv.AnswersDigest != want {
		return nil, fmt.Errorf("%w: the review is for answers with sha256 %s, these answers are %s", ErrReviewDigest, truncate(rv.AnswersDigest, 64), want)
	}
	if rv.Verdicts == nil {
		rv.Verdicts = map[string]ReviewEntry{}
	}
	for id, e := range rv.Verdicts {
		if _, ok := doc.Answers[id]; !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownReviewEntry, truncate(id, 40))
		}
		if err := checkText("comment of "+id, e.Comment); err != nil {
			return nil, err
		}
	}
	return &rv, nil
}

// VerdictMap returns the verdict by question, for assess.Options.
func (rv *Review) VerdictMap() map[string]Verdict {
	out := map[string]Verdict{}
	for id, e := range rv.Verdicts {
		if e.Verdict != "" {
			out[id] = e.Verdict
		}
	}
	return out
}

// Canonical encodes the review like answers documents: indented, stable.
func (rv *Review) Canonical() ([]byte, error) { return canonical.JSON(rv) }

// Digest is the sha256 of the canonical encoding (the file as saved).
func (rv *Review) Digest() (string, error) {
	b, err := rv.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Save writes the review atomically.
func (rv *Review) Save(path string) error {
	b, err := rv.Canonical()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// Set records a verdict and comment; an empty entry removes it.
func (rv *Review) Set(id string, e ReviewEntry) error {
	if e.Verdict != "" && !e.Verdict.Valid() {
		return fmt.Errorf("%w: %q", ErrInvalidVerdict, e.Verdict)
	}
	if err := checkText("comment", e.Comment); err != nil {
		return err
	}
	if e.Verdict == "" && e.Comment == "" {
		delete(rv.Verdicts, id)
		return nil
	}
	rv.Verdicts[id] = e
	return nil
}
