package questionnaire

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/canonical"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// Review schemas. v2 binds every verdict to the answer it was given on (its
// digest and a copy), so a review survives changes to other answers; v1
// reviews are still read and are upgraded when saved.
const (
	ReviewSchema   = "https://hallmark.build/review/v2"
	ReviewSchemaV1 = "https://hallmark.build/review/v1"
)

// MaxReviewBytes caps review documents.
const MaxReviewBytes = 4 << 20

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
	if err := strictjson.Unmarshal(b, &s); err != nil {
		return err
	}
	if !Verdict(s).Valid() {
		return fmt.Errorf("%w: expected accepted, rejected or needs-evidence, got %q", ErrInvalidVerdict, truncate(s, 40))
	}
	*v = Verdict(s)
	return nil
}

// Review is an auditor's verdict on each answer of one answers document,
// bound to that document by its sha256, and each verdict to its answer by
// the answer's own sha256.
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
	// AnswerDigest is the sha256 of the answer the verdict was given on
	// (see [AnswerDigest]).
	AnswerDigest string `json:"answerDigest,omitempty"`
	// Answer is a copy of that answer, so a later review can show what
	// changed.
	Answer *Answer `json:"answer,omitempty"`
	// ChangedSinceReview: the answer changed after the verdict was given;
	// the verdict was withdrawn (kept in PreviousVerdict) until the auditor
	// gives a new one.
	ChangedSinceReview bool    `json:"changedSinceReview,omitempty"`
	PreviousVerdict    Verdict `json:"previousVerdict,omitempty"`
}

// AnswerDigest is the sha256 (hex) of the canonical encoding of one answer
// together with its question ID.
func AnswerDigest(id string, a Answer) string {
	b, _ := canonical.JSON(struct {
		Question string `json:"question"`
		Answer   Answer `json:"answer"`
	}{id, a})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// NewReview starts a review of doc.
func NewReview(doc *Document, name string) (*Review, error) {
	d, err := doc.Digest()
	if err != nil {
		return nil, err
	}
	return &Review{Schema: ReviewSchema, AnswersDigest: d, AnswersName: name, Verdicts: map[string]ReviewEntry{}}, nil
}

func decodeReview(b []byte) (*Review, error) {
	if len(b) > MaxReviewBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformedReview, MaxReviewBytes)
	}
	var rv Review
	if err := strictjson.Unmarshal(b, &rv); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedReview, err)
	}
	if rv.Schema != ReviewSchema && rv.Schema != ReviewSchemaV1 {
		return nil, fmt.Errorf("%w: schema: expected %q (or %q), got %q", ErrMalformedReview, ReviewSchema, ReviewSchemaV1, truncate(rv.Schema, 80))
	}
	if rv.Verdicts == nil {
		rv.Verdicts = map[string]ReviewEntry{}
	}
	for id, e := range rv.Verdicts {
		if err := checkText("comment of "+truncate(id, 40), e.Comment); err != nil {
			return nil, err
		}
		if rv.Schema == ReviewSchemaV1 && (e.AnswerDigest != "" || e.Answer != nil || e.ChangedSinceReview || e.PreviousVerdict != "") {
			return nil, fmt.Errorf("%w: %s: a v1 review has no per-answer fields", ErrMalformedReview, truncate(id, 40))
		}
		if e.Answer != nil {
			if e.AnswerDigest != AnswerDigest(id, *e.Answer) {
				return nil, fmt.Errorf("%w: %s: answerDigest is not the digest of the answer recorded with it", ErrMalformedReview, truncate(id, 40))
			}
		}
		if rv.Schema == ReviewSchema && (e.Verdict != "" || e.ChangedSinceReview) && e.Answer == nil {
			return nil, fmt.Errorf("%w: %s: a verdict without the answer it was given on", ErrMalformedReview, truncate(id, 40))
		}
		if e.ChangedSinceReview && e.Verdict != "" {
			return nil, fmt.Errorf("%w: %s: changedSinceReview with a verdict", ErrMalformedReview, truncate(id, 40))
		}
	}
	return &rv, nil
}

// ParseReview decodes a review and checks it against doc: the digest must
// be doc's, and every verdict must be on an answered question and on the
// answer as it is now.
func ParseReview(b []byte, doc *Document) (*Review, error) {
	rv, err := decodeReview(b)
	if err != nil {
		return nil, err
	}
	want, err := doc.Digest()
	if err != nil {
		return nil, err
	}
	if rv.AnswersDigest != want {
		return nil, fmt.Errorf("%w: the review is for answers with sha256 %s, these answers are %s (run hallmark review on them to carry over the verdicts of unchanged answers)", ErrReviewDigest, truncate(rv.AnswersDigest, 64), want)
	}
	for id, e := range rv.Verdicts {
		a, ok := doc.Answers[id]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownReviewEntry, truncate(id, 40))
		}
		if e.AnswerDigest != "" && !e.ChangedSinceReview && e.AnswerDigest != AnswerDigest(id, a) {
			return nil, fmt.Errorf("%w: the verdict on %s was given on another answer", ErrReviewDigest, id)
		}
	}
	rv.bind(doc)
	return rv, nil
}

// bind fills in the per-answer digests of a v1 review read against the
// answers it was made for, and makes it a current-schema review.
func (rv *Review) bind(doc *Document) {
	for id, e := range rv.Verdicts {
		if e.AnswerDigest == "" && !e.ChangedSinceReview {
			a := doc.Answers[id]
			e.AnswerDigest, e.Answer = AnswerDigest(id, a), &a
			rv.Verdicts[id] = e
		}
	}
	rv.Schema = ReviewSchema
}

// ReopenReview reads a review for doc, which may have changed since: the
// verdicts on answers that are unchanged (same per-answer digest) carry
// over; a verdict on an answer that changed or was removed is withdrawn and
// the entry marked ChangedSinceReview (the old answer stays in the entry, to
// show what changed). It returns the review, now bound to doc, and the
// questions whose verdict was withdrawn. A v1 review has no per-answer
// digests and cannot be carried over to other answers.
func ReopenReview(b []byte, doc *Document) (*Review, []string, error) {
	rv, err := decodeReview(b)
	if err != nil {
		return nil, nil, err
	}
	want, err := doc.Digest()
	if err != nil {
		return nil, nil, err
	}
	if rv.AnswersDigest == want {
		rv, err := ParseReview(b, doc)
		return rv, nil, err
	}
	if rv.Schema == ReviewSchemaV1 {
		return nil, nil, fmt.Errorf("%w: this v1 review has no per-answer digests, so its verdicts cannot be carried over; start a new review file", ErrReviewDigest)
	}
	var changed []string
	for id, e := range rv.Verdicts {
		a, ok := doc.Answers[id]
		if e.ChangedSinceReview || (ok && e.AnswerDigest == AnswerDigest(id, a)) {
			if !ok {
				delete(rv.Verdicts, id)
			}
			continue
		}
		if e.Verdict == "" && e.Comment == "" {
			delete(rv.Verdicts, id)
			continue
		}
		e.ChangedSinceReview, e.PreviousVerdict, e.Verdict = true, e.Verdict, ""
		changed = append(changed, id)
		if !ok {
			delete(rv.Verdicts, id)
			continue
		}
		rv.Verdicts[id] = e
	}
	slices.Sort(changed)
	rv.AnswersDigest = want
	return rv, changed, nil
}

// Changed lists the questions whose answer changed since their verdict.
func (rv *Review) Changed() []string {
	var out []string
	for id, e := range rv.Verdicts {
		if e.ChangedSinceReview {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
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
	return atomicfile.WriteFile(path, b, existingPerm(path))
}

// Record sets the verdict and comment on doc's answer to id, binding the
// entry to that answer as it is now; a new verdict ends "changed since
// review". An entry with neither verdict nor comment is removed.
func (rv *Review) Record(doc *Document, id string, verdict Verdict, comment string) error {
	if verdict != "" && !verdict.Valid() {
		return fmt.Errorf("%w: %q", ErrInvalidVerdict, verdict)
	}
	if err := checkText("comment", comment); err != nil {
		return err
	}
	a, ok := doc.Answers[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownReviewEntry, id)
	}
	e := rv.Verdicts[id]
	e.Verdict, e.Comment = verdict, comment
	if verdict != "" || !e.ChangedSinceReview {
		e.AnswerDigest, e.Answer = AnswerDigest(id, a), &a
		e.ChangedSinceReview, e.PreviousVerdict = false, ""
	}
	if e.Verdict == "" && e.Comment == "" && !e.ChangedSinceReview {
		delete(rv.Verdicts, id)
		return nil
	}
	rv.Verdicts[id] = e
	return nil
}
