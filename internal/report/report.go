// Package report renders a publishable account of a build platform's
// assessment: the builder profile, the level and its attestation, a matrix
// of requirements against build-model components, every answer with its
// explanation, evidence and verdict, and the gaps to the next level. SLSA
// asks that self-attestation evidence be published; this is that document.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// Attestation describes the capability attestation shown in the report.
type Attestation struct {
	Path string
	// KeyName is the file name of the key the signature was checked with.
	KeyName   string
	Digest    string // sha256 of the envelope file
	Predicate *attest.Predicate
	// VerifiedBy is the fingerprint of the key the signature was checked
	// with; empty when it was not checked.
	VerifiedBy string
}

// Input is what a report is made from.
type Input struct {
	AnswersName string
	Doc         *questionnaire.Document
	Review      *questionnaire.Review // optional
	ReviewName  string
	Attestation *Attestation // optional
	// Generated is when the report was made.
	Generated time.Time
	// AnswersDigest is the sha256 of the answers file as read; empty means
	// the digest of the document's canonical encoding (the same for a file
	// hallmark saved).
	AnswersDigest string
}

// Model is the report's content, shared by the Markdown and HTML forms.
type Model struct {
	Title         string
	AnswersName   string
	AnswersDigest string
	Questionnaire string
	Profile       questionnaire.Profile
	Signers       []string
	Assessment    *assess.Assessment
	LevelName     string
	ClaimedName   string
	Reviewed      bool
	Reviewer      string
	ReviewName    string
	Attestation   *Attestation
	Components    []questionnaire.Component
	Matrix        []MatrixRow
	Gaps          []assess.Gap
	NextLevelName string
	Sections      []Section
	Findings      []assess.Finding
	Generated     time.Time
	// UpgradedFrom is the questionnaire the answers were written with, when
	// older than the one they are assessed with.
	UpgradedFrom string
	// Inconsistencies and NeedsReanswer come from the assessment.
	Inconsistencies []assess.Inconsistency
	NeedsReanswer   []string
}

// MatrixRow is one requirement across the build-model components.
type MatrixRow struct {
	Code, Title, Level, Status string
	Cells                      []string // one per component: met, not met, open, needs evidence, or "–"
}

// Section is one component's answers.
type Section struct {
	Title   string
	Answers []AnswerView
}

// AnswerView is one question and its answer.
type AnswerView struct {
	ID, Text, Spec, Requirements string
	Answered                     bool
	Choice, ChoiceLabel          string
	Explanation                  string
	Evidence                     []string
	Reviewed                     string
	Verdict, Comment             string
	Rejected, Changed            bool
}

// Build assembles the report content.
func Build(in Input) (*Model, error) {
	doc := in.Doc
	q := doc.Q()
	opts := assess.Options{}
	if in.Review != nil {
		opts.Verdicts = in.Review.VerdictMap()
	}
	a := assess.Assess(doc, opts)
	digest := in.AnswersDigest
	if digest == "" {
		var err error
		if digest, err = doc.Digest(); err != nil {
			return nil, err
		}
	}
	m := &Model{
		Title:         "SLSA Build platform assessment",
		AnswersName:   in.AnswersName,
		AnswersDigest: digest,
		Questionnaire: doc.Questionnaire,
		Profile:       doc.Profile,
		Assessment:    a,
		LevelName:     render.LevelName(a.Level),
		Reviewed:      in.Review != nil,
		ReviewName:    in.ReviewName,
		Attestation:   in.Attestation,
		Components:    q.Components,
		Gaps:          a.Gaps,
		Findings:      a.BestPractice,
		Generated:     in.Generated,
		UpgradedFrom:  doc.UpgradedFrom(),

		Inconsistencies: a.Inconsistencies,
		NeedsReanswer:   a.NeedsReanswer,
	}
	if doc.Profile.Organization != "" {
		m.Title += ": " + doc.Profile.Organization
	}
	if a.ClaimedLevel != nil {
		m.ClaimedName = render.LevelName(*a.ClaimedLevel)
	}
	if a.NextLevel != nil {
		m.NextLevelName = render.LevelName(*a.NextLevel)
	}
	if in.Review != nil {
		m.Reviewer = in.Review.Reviewer
	}
	for _, s := range doc.Profile.Signers {
		if s.PublicKey != "" {
			fp, _ := s.Fingerprint()
			m.Signers = append(m.Signers, "public key "+fp)
		} else {
			san := s.SAN
			if san == "" {
				san = "matching " + s.SANRegexp
			}
			m.Signers = append(m.Signers, fmt.Sprintf("Sigstore: issuer %s, certificate %s", s.OIDCIssuer, san))
		}
	}
	compOf := map[string]string{}
	for _, qu := range q.Questions {
		compOf[qu.ID] = qu.Component
	}
	for _, r := range a.Requirements {
		row := MatrixRow{Code: r.Code, Title: r.Title, Level: levelTag(r.Level), Status: render.StatusLabel(r.Status)}
		for _, c := range q.Components {
			row.Cells = append(row.Cells, cell(r.Decisions, c.ID, compOf))
		}
		m.Matrix = append(m.Matrix, row)
	}
	for _, c := range q.Components {
		sec := Section{Title: c.Title}
		for _, qu := range q.QuestionsIn(c.ID) {
			ans := doc.Answers[qu.ID]
			av := AnswerView{ID: qu.ID, Text: qu.Text, Spec: qu.Spec, Requirements: strings.Join(qu.Requirements, ", "),
				Answered: ans.Answered(), Choice: ans.Choice, Explanation: ans.Explanation, Evidence: ans.Evidence, Reviewed: ans.Reviewed}
			if ch, ok := qu.Choice(ans.Choice); ok {
				av.ChoiceLabel = ch.Label
			}
			if in.Review != nil {
				e := in.Review.Verdicts[qu.ID]
				av.Verdict, av.Comment = string(e.Verdict), e.Comment
				av.Rejected, av.Changed = e.Verdict == questionnaire.Rejected, e.ChangedSinceReview
				if av.Verdict == "" && av.Answered {
					av.Verdict = "not reviewed"
					if e.ChangedSinceReview {
						av.Verdict = "changed since review (was " + string(e.PreviousVerdict) + "), not reviewed again"
					}
				}
			}
			sec.Answers = append(sec.Answers, av)
		}
		m.Sections = append(m.Sections, sec)
	}
	return m, nil
}

func levelTag(l questionnaire.Level) string {
	if l == 0 {
		return "all"
	}
	return l.String()
}

// cell combines the outcomes of a requirement's deciding questions in one
// component.
func cell(ds []assess.Decision, component string, compOf map[string]string) string {
	var n, notMet, open, evidence int
	for _, d := range ds {
		if compOf[d.Question] != component {
			continue
		}
		n++
		switch d.Outcome {
		case assess.NotMet:
			notMet++
		case assess.Unanswered:
			open++
		case assess.NeedsEvidence:
			evidence++
		}
	}
	switch {
	case n == 0:
		return "–"
	case notMet > 0:
		return "NOT MET"
	case open > 0:
		return "open"
	case evidence > 0:
		return "needs evidence"
	}
	return "met"
}

//go:embed report.md.tmpl
var mdTemplate string

//go:embed report.html.tmpl
var htmlTemplate string

// mdFuncs escape input text for Markdown; htmlFuncs leave escaping to
// html/template. Both sets have the same names, so the templates read alike.
var mdFuncs = map[string]any{
	"md":    mdText,
	"code":  mdCode,
	"link":  mdLink,
	"fence": mdFence,
	"sh":    shellWord,
}

var htmlFuncs = map[string]any{
	"md":   func(s string) string { return s },
	"code": func(s string) string { return s },
	"sh":   shellWord,
	// href returns a URL to link to, or "" when s is not http(s).
	"href": func(s string) string {
		if linkable(s) {
			return s
		}
		return ""
	},
}

var funcs = map[string]any{
	"date": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"class": func(s string) string {
		switch s {
		case "met":
			return "met"
		case "NOT MET":
			return "notmet"
		case "–":
			return "na"
		}
		return "open"
	},
	"status": render.StatusLabel,
	"short":  func(s string) string { return s[:min(len(s), 16)] },
}

// Markdown renders the report as Markdown.
func Markdown(m *Model) ([]byte, error) {
	return execute(texttemplate.Must(texttemplate.New("md").Funcs(funcs).Funcs(mdFuncs).Parse(mdTemplate)), m)
}

// HTML renders the report as one self-contained HTML file (inline styles, no
// external resources), readable on screen and in print.
func HTML(m *Model) ([]byte, error) {
	return execute(htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Funcs(htmlFuncs).Parse(htmlTemplate)), m)
}

// mdSpecial are the characters that start Markdown or HTML syntax inline.
const mdSpecial = "\\`*_{}[]()<>#|!~&"

// mdText escapes input text for Markdown: every character that could start
// emphasis, a link, a code span, raw HTML, a table cell or a heading is
// backslash-escaped (& and < as entities), and line breaks become spaces, so
// the text stays inside the line the template put it on.
func mdText(s string) string {
	s = safetext.Term(strings.Join(strings.Fields(strings.ReplaceAll(s, "\t", " ")), " "))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune(mdSpecial, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as an inline code span whose fence is longer than any run
// of backticks in s. Line breaks become spaces; a | is escaped because GFM
// splits table cells before it parses code spans.
func mdCode(s string) string {
	s = safetext.Term(strings.Join(strings.Fields(s), " "))
	s = strings.ReplaceAll(s, "|", "\\|")
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + s + pad + fence
}

// mdFence returns a code-block fence longer than any backtick run in s.
func mdFence(s string) string { return strings.Repeat("`", max(3, longestRun(s, '`')+1)) }

func longestRun(s string, c rune) int {
	n, best := 0, 0
	for _, r := range s {
		if r == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// linkable reports whether evidence is an http(s) URL to link to.
func linkable(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(s, " \t\n<>\"`")
}

// mdLink renders evidence as a Markdown link when it is an http(s) URL, and
// as escaped text otherwise. The URL is percent-encoded where Markdown would
// end it, and the link text is escaped.
func mdLink(s string) string {
	if !linkable(s) {
		return mdText(s)
	}
	r := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "\\", "%5C", "[", "%5B", "]", "%5D", "|", "%7C")
	return "[" + mdText(s) + "](<" + r.Replace(s) + ">)"
}

// shellWord quotes a file name for a copy-paste command line.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-+=:@,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(safetext.Term(s), "'", `'\''`) + "'"
}

func execute(t interface {
	Execute(io.Writer, any) error
}, m *Model) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
