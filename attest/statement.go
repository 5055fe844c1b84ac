package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// Types of the formats involved.
const (
	PredicateType = "https://hallmark.build/builder-capability/v0.1"
	StatementType = "https://in-toto.io/Statement/v1"
	PayloadType   = "application/vnd.in-toto+json"
)

// MaxValidity is the longest validity an attestation may have.
const MaxValidity = 366 * 24 * time.Hour

// DefaultValidity is the validity when none is given.
const DefaultValidity = 90 * 24 * time.Hour

// Assessment kinds.
const (
	SelfAssessment       = "self"
	ThirdPartyAssessment = "third-party"
)

// Statement is an in-toto Statement v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// Subject is a Statement subject.
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// Predicate is the builder capability predicate,
// https://hallmark.build/builder-capability/v0.1.
type Predicate struct {
	Builder        Builder             `json:"builder"`
	SLSABuildLevel questionnaire.Level `json:"slsaBuildLevel"`
	Requirements   []RequirementStatus `json:"requirements"`
	Questionnaire  string              `json:"questionnaire"`
	Assessment     Assessment          `json:"assessment"`
	IssuedAt       time.Time           `json:"issuedAt"`
	ValidFrom      time.Time           `json:"validFrom"`
	ValidUntil     time.Time           `json:"validUntil"`
	Evidence       []string            `json:"evidence,omitempty"`
	// BestPracticeWaivers are the best-practice findings the issuer accepted,
	// each with its reason (hallmark attest --waive ID=REASON).
	BestPracticeWaivers []Waiver `json:"bestPracticeWaivers,omitempty"`
}

// Waiver is a best-practice finding accepted with a reason.
type Waiver struct {
	Question string `json:"question"`
	Reason   string `json:"reason"`
}

// Builder identifies the certified builder and how verifiers recognise its
// provenance.
type Builder struct {
	ID string `json:"id,omitempty"`
	// IDRegexp certifies every builder.id the anchored pattern matches,
	// instead of one ID.
	IDRegexp string           `json:"idRegexp,omitempty"`
	Mode     string           `json:"mode,omitempty"`
	Signers  []SignerIdentity `json:"signers"`
}

// Name is the ID, or the pattern.
func (b Builder) Name() string {
	if b.ID != "" {
		return b.ID
	}
	return b.IDRegexp
}

// SignerIdentity is a provenance signer verifiers should pin: a public key
// (PEM and fingerprint) or a Sigstore identity (OIDC issuer with exact SAN or
// anchored SAN regular expression).
type SignerIdentity struct {
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	PublicKey      string `json:"publicKey,omitempty"`
	OIDCIssuer     string `json:"oidcIssuer,omitempty"`
	SAN            string `json:"san,omitempty"`
	SANRegexp      string `json:"sanRegexp,omitempty"`
}

// RequirementStatus is the status of one requirement at attestation time.
type RequirementStatus struct {
	Code   string        `json:"code"`
	Status assess.Status `json:"status"`
}

// Assessment says who assessed the answers.
type Assessment struct {
	Kind                   string `json:"kind"`
	AssessorID             string `json:"assessorId,omitempty"`
	AssessorKeyFingerprint string `json:"assessorKeyFingerprint"`
	ReviewDigest           string `json:"reviewDigest,omitempty"` // sha256 of the review document (third-party)
}

// IssueOptions controls NewStatement.
type IssueOptions struct {
	// AnswersName is the subject name (the answers file's base name).
	AnswersName string
	// BuilderID selects the builder when the profile lists several.
	BuilderID string
	// Level to attest; nil means the claimed level, or else the level the
	// answers support.
	Level *questionnaire.Level
	Now   time.Time
	// NotBefore starts validity later than Now; zero means Now.
	NotBefore time.Time
	// ValidFor is the validity period; zero means DefaultValidity.
	ValidFor time.Duration
	// Kind is SelfAssessment (default) or ThirdPartyAssessment.
	Kind         string
	AssessorID   string
	ReviewDigest string
}

// NewStatement builds the capability statement for an answers document and
// its assessment, to be signed by the key with fingerprint signerFP. It
// refuses to attest a level the assessment does not support.
func NewStatement(doc *questionnaire.Document, a *assess.Assessment, signerFP string, o IssueOptions) (*Statement, *Predicate, error) {
	level, err := a.Attestable(o.Level)
	if err != nil {
		return nil, nil, err
	}
	b, err := pickBuilder(doc, o.BuilderID)
	if err != nil {
		return nil, nil, err
	}
	if level >= 2 && len(doc.Profile.Signers) == 0 {
		return nil, nil, fmt.Errorf("%w: level %s needs at least one provenance signer in profile.signers for verifiers to pin", ErrLevelNotSupported, level)
	}
	validFor := o.ValidFor
	if validFor == 0 {
		validFor = DefaultValidity
	}
	if validFor < 0 || validFor > MaxValidity {
		return nil, nil, fmt.Errorf("%w: expected at most %s (366 days), got %s", ErrValidity, MaxValidity, validFor)
	}
	if o.Now.IsZero() {
		return nil, nil, fmt.Errorf("%w: no issue time", ErrValidity)
	}
	now := o.Now.UTC().Truncate(time.Second)
	from := now
	if !o.NotBefore.IsZero() {
		if o.NotBefore.Before(now) {
			return nil, nil, fmt.Errorf("%w: --not-before %s is before the issue time %s", ErrValidity, o.NotBefore.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		}
		from = o.NotBefore.UTC().Truncate(time.Second)
	}
	kind := o.Kind
	if kind == "" {
		kind = SelfAssessment
	}
	p := &Predicate{
		Builder:        b,
		SLSABuildLevel: level,
		Questionnaire:  doc.Questionnaire,
		Assessment:     Assessment{Kind: kind, AssessorID: o.AssessorID, AssessorKeyFingerprint: signerFP, ReviewDigest: o.ReviewDigest},
		IssuedAt:       now,
		ValidFrom:      from,
		ValidUntil:     from.Add(validFor),
		Evidence:       evidence(doc),
	}
	for _, r := range a.Requirements {
		p.Requirements = append(p.Requirements, RequirementStatus{Code: r.Code, Status: r.Status})
	}
	for _, f := range a.BestPractice {
		p.BestPracticeWaivers = append(p.BestPracticeWaivers, Waiver{Question: f.Question, Reason: f.Waived})
	}
	digest, err := doc.Digest()
	if err != nil {
		return nil, nil, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, nil, err
	}
	name := o.AnswersName
	if name == "" {
		name = "answers.json"
	}
	st := &Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: name, Digest: map[string]string{"sha256": digest}}},
		PredicateType: PredicateType,
		Predicate:     raw,
	}
	return st, p, nil
}

func pickBuilder(doc *questionnaire.Document, id string) (Builder, error) {
	var signers []SignerIdentity
	for _, s := range doc.Profile.Signers {
		si := SignerIdentity{PublicKey: s.PublicKey, OIDCIssuer: s.OIDCIssuer, SAN: s.SAN, SANRegexp: s.SANRegexp}
		if s.PublicKey != "" {
			fp, err := s.Fingerprint()
			if err != nil {
				return Builder{}, err
			}
			si.KeyFingerprint = fp
		}
		signers = append(signers, si)
	}
	if signers == nil {
		signers = []SignerIdentity{}
	}
	bs := doc.Profile.Builders
	switch {
	case len(bs) == 0:
		return Builder{}, fmt.Errorf("%w: the profile lists no builder.id (profile.builders)", ErrNoBuilder)
	case id == "" && len(bs) > 1:
		return Builder{}, fmt.Errorf("%w: the profile lists %d builders; choose one with --builder-id", ErrNoBuilder, len(bs))
	case id == "":
		return Builder{ID: bs[0].ID, IDRegexp: bs[0].IDRegexp, Mode: bs[0].Mode, Signers: signers}, nil
	}
	for _, b := range bs {
		if b.Name() == id {
			return Builder{ID: b.ID, IDRegexp: b.IDRegexp, Mode: b.Mode, Signers: signers}, nil
		}
	}
	return Builder{}, fmt.Errorf("%w: %q is not in profile.builders", ErrNoBuilder, id)
}

func evidence(doc *questionnaire.Document) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range doc.Answers {
		for _, e := range a.Evidence {
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Marshal encodes the statement compactly; these bytes are the DSSE payload.
func (s *Statement) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Issued is a signed capability attestation.
type Issued struct {
	Envelope      []byte // the DSSE envelope file content
	Predicate     *Predicate
	AnswersDigest string
}

// Issue assesses doc, builds the capability statement and signs it with key.
// It is what `hallmark attest` and the TUI's signing step run.
func Issue(ctx context.Context, doc *questionnaire.Document, key *PrivateKey, o IssueOptions) (*Issued, error) {
	return IssueWith(ctx, doc, assess.Assess(doc, assess.Options{}), key, o)
}

// IssueWith is Issue with an assessment made by the caller (for example one
// that counts only the answers an auditor accepted).
func IssueWith(ctx context.Context, doc *questionnaire.Document, a *assess.Assessment, key *PrivateKey, o IssueOptions) (*Issued, error) {
	st, p, err := NewStatement(doc, a, key.Fingerprint(), o)
	if err != nil {
		return nil, err
	}
	payload, err := st.Marshal()
	if err != nil {
		return nil, err
	}
	env, err := Sign(ctx, PayloadType, payload, key)
	if err != nil {
		return nil, err
	}
	b, err := MarshalEnvelope(env)
	if err != nil {
		return nil, err
	}
	return &Issued{Envelope: b, Predicate: p, AnswersDigest: st.Subject[0].Digest["sha256"]}, nil
}
