package questionnaire

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/canonical"
	"github.com/hallmark-build/hallmark/internal/keyid"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// AnswersSchema is the schema identifier of the current answers format.
const AnswersSchema = "https://hallmark.build/answers/v1"

// Limits on untrusted answers documents.
const (
	MaxAnswersBytes = 1 << 20 // whole document
	MaxTextBytes    = 16 << 10
	MaxEvidence     = 64
	MaxBuilders     = 32
	MaxSigners      = 32
)

// Errors returned when loading answers documents; test with errors.Is.
var (
	ErrMalformed            = errors.New("malformed answers document")
	ErrTooLarge             = errors.New("answers document too large")
	ErrUnknownSchema        = errors.New("unknown answers schema")
	ErrUnknownQuestionnaire = errors.New("unknown questionnaire version")
	ErrUnknownQuestion      = errors.New("unknown question")
	ErrInvalidChoice        = errors.New("invalid choice")
	ErrInvalidField         = errors.New("invalid field")
	ErrInvalidEvidence      = errors.New("invalid evidence")
)

// Document is an answers document: the builder profile and the answers to the
// questionnaire. Partial documents are valid; unanswered questions are absent.
type Document struct {
	Schema        string            `json:"schema"`
	Questionnaire string            `json:"questionnaire"`
	Profile       Profile           `json:"profile"`
	Answers       map[string]Answer `json:"answers"`

	q *Questionnaire
	// upgradedFrom is the questionnaire version the document was read as,
	// when it was older than q.
	upgradedFrom string
}

// Profile is the free-form part of the builder profile. The profile's
// structured questions (platform, provenance format, signing) are answered in
// Answers like every other question.
type Profile struct {
	Organization string    `json:"organization,omitempty"`
	Builders     []Builder `json:"builders,omitempty"`
	Signers      []Signer  `json:"signers,omitempty"`
	ClaimedLevel *Level    `json:"claimedLevel,omitempty"`
}

// Builder is one builder.id the platform issues and what that mode is. A
// builder whose id changes with each release (a reusable workflow referenced
// by tag, say) is given as IDRegexp, an anchored regular expression, instead
// of ID.
type Builder struct {
	ID       string `json:"id,omitempty"`
	IDRegexp string `json:"idRegexp,omitempty"`
	Mode     string `json:"mode,omitempty"`
}

// Name is the ID, or the pattern for a builder given by IDRegexp.
func (b Builder) Name() string {
	if b.ID != "" {
		return b.ID
	}
	return b.IDRegexp
}

// Validate checks that exactly one of ID and IDRegexp is given.
func (b Builder) Validate() error {
	switch {
	case b.ID != "" && b.IDRegexp != "":
		return errors.New("give either id or idRegexp, not both")
	case b.IDRegexp != "":
		if _, err := CompileAnchored(b.IDRegexp); err != nil {
			return fmt.Errorf("idRegexp: %w", err)
		}
		return nil
	}
	return ValidateBuilderID(b.ID)
}

// Signer is an identity verifiers should pin: a public key (PEM), or a
// Sigstore OIDC issuer with a certificate SAN (exact) or SAN regular
// expression (anchored).
type Signer struct {
	PublicKey  string `json:"publicKey,omitempty"`
	OIDCIssuer string `json:"oidcIssuer,omitempty"`
	SAN        string `json:"san,omitempty"`
	SANRegexp  string `json:"sanRegexp,omitempty"`
}

// Sigstore reports whether s is a keyless (Sigstore) identity.
func (s Signer) Sigstore() bool { return s.OIDCIssuer != "" }

// Answer is the answer to one question.
type Answer struct {
	Choice      string   `json:"choice,omitempty"`
	Explanation string   `json:"explanation,omitempty"`
	Evidence    []string `json:"evidence,omitempty"`
	// Reviewed is the date (YYYY-MM-DD) the operator last reviewed the answer.
	Reviewed string `json:"reviewed,omitempty"`
	// NeedsReanswer holds the choice given under an older questionnaire
	// version in which that choice was split: the question must be answered
	// again. It is cleared when a choice is made.
	NeedsReanswer string `json:"needsReanswer,omitempty"`
}

// Answered reports whether a choice was made.
func (a Answer) Answered() bool { return a.Choice != "" }

// NewDocument returns an empty answers document for q.
func NewDocument(q *Questionnaire) *Document {
	return &Document{Schema: AnswersSchema, Questionnaire: q.Version, Answers: map[string]Answer{}, q: q}
}

// Q returns the questionnaire the document was made with.
func (d *Document) Q() *Questionnaire { return d.q }

// UpgradedFrom returns the older questionnaire version the document was
// written with, when it was upgraded on load, or "". An upgraded document's
// canonical encoding (and digest) differs from the file it was read from:
// save it before signing or reviewing it.
func (d *Document) UpgradedFrom() string { return d.upgradedFrom }

// NeedsReanswer lists the questions whose earlier choice was split by a newer
// questionnaire version, in questionnaire order.
func (d *Document) NeedsReanswer() []string {
	var out []string
	for _, qu := range d.q.Questions {
		if a, ok := d.Answers[qu.ID]; ok && a.NeedsReanswer != "" && !a.Answered() {
			out = append(out, qu.ID)
		}
	}
	return out
}

// ReadAnswers reads at most MaxAnswersBytes from r and parses them.
func ReadAnswers(r io.Reader) (*Document, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxAnswersBytes+1))
	if err != nil {
		return nil, err
	}
	return ParseAnswers(b)
}

// ParseAnswers decodes and validates an answers document against the
// questionnaire version it names. A document of an older version is validated
// against that version, then upgraded to the current one: answers whose
// choice was split keep their text and evidence and are marked NeedsReanswer.
func ParseAnswers(b []byte) (*Document, error) {
	if len(b) > MaxAnswersBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxAnswersBytes)
	}
	var head struct {
		Schema        string `json:"schema"`
		Questionnaire string `json:"questionnaire"`
	}
	if err := strictjson.UnmarshalOpen(b, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if head.Schema != AnswersSchema {
		return nil, fmt.Errorf("%w: expected %q, got %q", ErrUnknownSchema, AnswersSchema, truncate(head.Schema, 80))
	}
	q, err := ByVersion(head.Questionnaire)
	if err != nil {
		return nil, err
	}
	var d Document
	if err := strictjson.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	d.q = q
	if d.Answers == nil {
		d.Answers = map[string]Answer{}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if q.Version != DefaultVersion {
		d.upgrade(Default())
	}
	return &d, nil
}

// upgrade moves d to the newer questionnaire cur (which supersedes d's).
func (d *Document) upgrade(cur *Questionnaire) {
	d.upgradedFrom = d.Questionnaire
	for id, a := range d.Answers {
		qu, _ := cur.Question(id)
		if a.Choice != "" {
			if _, ok := qu.Choice(a.Choice); !ok {
				a.NeedsReanswer, a.Choice = a.Choice, ""
			}
		}
		d.Answers[id] = a
	}
	d.Questionnaire = cur.Version
	d.q = cur
}

// Validate checks every field against the questionnaire. Errors name the
// offending question or field.
func (d *Document) Validate() error {
	q := d.q
	if q == nil {
		return fmt.Errorf("%w: document has no questionnaire", ErrUnknownQuestionnaire)
	}
	if err := d.Profile.validate(); err != nil {
		return err
	}
	for id, a := range d.Answers {
		qu, ok := q.Question(id)
		if !ok {
			return fmt.Errorf("%w: %q is not a question of questionnaire %s", ErrUnknownQuestion, id, q.Version)
		}
		if err := validateAnswer(qu, a); err != nil {
			return fmt.Errorf("question %s: %w", id, err)
		}
	}
	return nil
}

func validateAnswer(qu *Question, a Answer) error {
	if a.Choice != "" {
		if _, ok := qu.Choice(a.Choice); !ok {
			return fmt.Errorf("%w: expected one of %s, got %q", ErrInvalidChoice, strings.Join(qu.ChoiceValues(), ", "), truncate(a.Choice, 60))
		}
	}
	if a.NeedsReanswer != "" {
		if a.Choice != "" {
			return fmt.Errorf("%w: needsReanswer is set on an answered question", ErrInvalidField)
		}
		if err := checkText("needsReanswer", a.NeedsReanswer); err != nil {
			return err
		}
	}
	if err := checkText("explanation", a.Explanation); err != nil {
		return err
	}
	if len(a.Evidence) > MaxEvidence {
		return fmt.Errorf("%w: more than %d evidence references", ErrInvalidField, MaxEvidence)
	}
	for i, e := range a.Evidence {
		if err := checkText(fmt.Sprintf("evidence[%d]", i), e); err != nil {
			return err
		}
		if err := ValidateEvidence(e); err != nil {
			return fmt.Errorf("evidence[%d]: %w", i, err)
		}
	}
	if a.Reviewed != "" {
		if _, err := time.Parse(time.DateOnly, a.Reviewed); err != nil {
			return fmt.Errorf("%w: reviewed: expected a date YYYY-MM-DD, got %q", ErrInvalidField, truncate(a.Reviewed, 40))
		}
	}
	return nil
}

// EvidenceForms says what ValidateEvidence accepts, for messages and help.
const EvidenceForms = "an https URL (https://host/path) or an internal document named doc:NAME (letters, digits and . _ - / # after doc:)"

// docName is the NAME of a doc:NAME evidence reference:
// ^[A-Za-z0-9][A-Za-z0-9._/#-]{0,199}$, checked by hand (that regexp's
// bounded repetition costs thousands of allocations at every program start).
var docName = docNameMatcher{}

type docNameMatcher struct{}

func (docNameMatcher) MatchString(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '/' || c == '#' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidateEvidence checks one evidence reference: an absolute https URL with
// a host, or doc:NAME, a document kept internally that an auditor can ask
// for by that name. Placeholders (none, n/a, TBD, empty) are not evidence.
func ValidateEvidence(e string) error {
	if strings.TrimSpace(e) == "" {
		return fmt.Errorf("%w: empty; expected %s", ErrInvalidEvidence, EvidenceForms)
	}
	if name, ok := strings.CutPrefix(e, "doc:"); ok {
		if !docName.MatchString(name) {
			return fmt.Errorf("%w: %q: expected %s", ErrInvalidEvidence, truncate(e, 60), EvidenceForms)
		}
		return nil
	}
	u, err := url.Parse(e)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(e, " \t\n") {
		return fmt.Errorf("%w: %q is not evidence: expected %s", ErrInvalidEvidence, truncate(e, 60), EvidenceForms)
	}
	return nil
}

func checkText(field, s string) error {
	if len(s) > MaxTextBytes {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidField, field, MaxTextBytes)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidField, field)
	}
	for i, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Errorf("%w: %s has control character %U at byte %d (only newline and tab are allowed)", ErrInvalidField, field, r, i)
		}
	}
	return nil
}

func (p Profile) validate() error {
	if err := checkLine("profile.organization", p.Organization); err != nil {
		return err
	}
	if len(p.Builders) > MaxBuilders {
		return fmt.Errorf("%w: profile.builders: more than %d", ErrInvalidField, MaxBuilders)
	}
	seen := map[string]bool{}
	for i, b := range p.Builders {
		if err := b.Validate(); err != nil {
			return fmt.Errorf("%w: profile.builders[%d]: %v", ErrInvalidField, i, err)
		}
		if seen[b.Name()] {
			return fmt.Errorf("%w: profile.builders[%d]: duplicate %q", ErrInvalidField, i, b.Name())
		}
		seen[b.Name()] = true
		if err := checkLine(fmt.Sprintf("profile.builders[%d].mode", i), b.Mode); err != nil {
			return err
		}
	}
	if len(p.Signers) > MaxSigners {
		return fmt.Errorf("%w: profile.signers: more than %d", ErrInvalidField, MaxSigners)
	}
	for i, s := range p.Signers {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("%w: profile.signers[%d]: %v", ErrInvalidField, i, err)
		}
	}
	return nil
}

// ValidateText checks free text from a user (explanations, comments,
// waiver reasons): at most MaxTextBytes of UTF-8 without control characters
// other than newline and tab.
func ValidateText(field, s string) error { return checkText(field, s) }

// checkLine is checkText for one-line fields: no newline or tab either.
func checkLine(field, s string) error {
	if strings.ContainsAny(s, "\n\t") {
		return fmt.Errorf("%w: %s must be one line", ErrInvalidField, field)
	}
	return checkText(field, s)
}

// ValidateBuilderID checks that id is an absolute URI, as SLSA requires of
// builder.id.
func ValidateBuilderID(id string) error {
	if id == "" {
		return errors.New("empty builder id")
	}
	if len(id) > 2048 {
		return errors.New("builder id longer than 2048 bytes")
	}
	u, err := url.Parse(id)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("expected an absolute URI, got %q", truncate(id, 80))
	}
	return nil
}

// Validate checks that exactly one kind of identity is given and is well
// formed.
func (s Signer) Validate() error {
	switch {
	case s.PublicKey != "" && s.OIDCIssuer != "":
		return errors.New("give either publicKey or oidcIssuer, not both")
	case s.PublicKey != "":
		if s.SAN != "" || s.SANRegexp != "" {
			return errors.New("san and sanRegexp belong to a Sigstore identity (oidcIssuer)")
		}
		_, err := s.Fingerprint()
		return err
	case s.OIDCIssuer != "":
		u, err := url.Parse(s.OIDCIssuer)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("oidcIssuer: expected an https URL, got %q", truncate(s.OIDCIssuer, 80))
		}
		if (s.SAN == "") == (s.SANRegexp == "") {
			return errors.New("a Sigstore identity needs exactly one of san or sanRegexp")
		}
		if s.SANRegexp != "" {
			if _, err := CompileAnchored(s.SANRegexp); err != nil {
				return fmt.Errorf("sanRegexp: %w", err)
			}
		}
		return nil
	}
	return errors.New("a signer needs publicKey or oidcIssuer")
}

// ErrBadPattern reports an idRegexp or sanRegexp that is not one regular
// expression that can be anchored (empty, too long, unbalanced, invalid).
var ErrBadPattern = errors.New("invalid pattern")

// MaxPatternBytes caps an idRegexp or sanRegexp.
const MaxPatternBytes = 1024

// CompileAnchored compiles an idRegexp or sanRegexp so that it matches whole
// strings only: "a" never matches "xa". The pattern is parsed on its own
// (regexp/syntax, Perl flags) and the parsed expression is wrapped between
// \A and \z, so text that closes and reopens the wrapper ("a)|(b", which
// pasted into `^(?:…)$` gives `^(?:a)|(b)$`, a prefix-or-suffix match) is
// refused as unbalanced instead of changing the anchoring. An empty pattern
// is refused too.
func CompileAnchored(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadPattern)
	}
	if len(p) > MaxPatternBytes {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadPattern, MaxPatternBytes)
	}
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not one regular expression: %v", ErrBadPattern, truncate(p, 80), err)
	}
	anchored := &syntax.Regexp{Op: syntax.OpConcat, Flags: syntax.Perl, Sub: []*syntax.Regexp{
		{Op: syntax.OpBeginText}, re, {Op: syntax.OpEndText},
	}}
	return regexp.Compile(anchored.String())
}

// Fingerprint returns the fingerprint of the public key ("SHA256:<base64>",
// see internal/keyid): the DSSE keyid of signatures by the matching private
// key.
func (s Signer) Fingerprint() (string, error) {
	blk, rest := pem.Decode([]byte(s.PublicKey))
	if blk == nil || strings.TrimSpace(string(rest)) != "" {
		return "", errors.New("publicKey: expected one PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return "", fmt.Errorf("publicKey: %v", err)
	}
	fp, err := keyid.Of(pub)
	if err != nil {
		return "", fmt.Errorf("publicKey: %v", err)
	}
	return fp, nil
}

// Canonical returns the canonical encoding: two-space indented JSON with keys
// in a fixed order (struct order, maps sorted), no HTML escaping, and a final
// newline. Parsing and re-encoding a canonical document gives the same bytes.
func (d *Document) Canonical() ([]byte, error) {
	c := *d
	if c.Answers == nil {
		c.Answers = map[string]Answer{}
	}
	return canonical.JSON(&c)
}

// Digest is the sha256 (lowercase hex) of the canonical encoding, which is
// also the digest of the file as Save writes it.
func (d *Document) Digest() (string, error) {
	b, err := d.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Save writes the canonical encoding to path atomically, keeping the
// permissions of the file it replaces (0644 for a new file).
func (d *Document) Save(path string) error {
	b, err := d.Canonical()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, existingPerm(path))
}

// existingPerm is the permission bits of path, or 0644 when it does not
// exist yet.
func existingPerm(path string) fs.FileMode {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return st.Mode().Perm()
	}
	return 0o644
}

// Set records an answer after validating it against the question.
func (d *Document) Set(id string, a Answer) error {
	qu, ok := d.q.Question(id)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownQuestion, id)
	}
	a.Evidence = slices.DeleteFunc(slices.Clone(a.Evidence), func(s string) bool { return strings.TrimSpace(s) == "" })
	if a.Choice != "" {
		a.NeedsReanswer = ""
	}
	if err := validateAnswer(qu, a); err != nil {
		return fmt.Errorf("question %s: %w", id, err)
	}
	if a.Choice == "" && a.Explanation == "" && len(a.Evidence) == 0 && a.Reviewed == "" && a.NeedsReanswer == "" {
		delete(d.Answers, id)
		return nil
	}
	if d.Answers == nil {
		d.Answers = map[string]Answer{}
	}
	d.Answers[id] = a
	return nil
}
