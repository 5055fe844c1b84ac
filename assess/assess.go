// Package assess turns a questionnaire and an answers document into an
// Assessment: the status of every requirement, the SLSA Build level the
// answers support, and what is missing for the next level up.
//
// The mapping from answers to requirements is data (each choice's effects in
// the questionnaire); this package only combines those effects:
//
//   - a requirement is not met when any answer deciding it has a choice that
//     fails it, or when its deciding questions are answered but none meets it;
//   - otherwise it is unanswered while any deciding question is unanswered;
//   - otherwise it needs evidence when the catalogue requires evidence and an
//     answer that meets it cites none (or an auditor asked for more);
//   - otherwise it is met;
//   - whatever the above gives, a requirement named by a consistency rule
//     whose conditions all hold (answers that contradict each other) is
//     inconsistent, unless it is already not met; the reason names the
//     answers that disagree.
//
// The builder profile counts too: EX is not met while the profile names no
// builder.id, and AU is not met while it pins no provenance signer, because
// an attestation without them cannot be issued or verified. So a level this
// package reports is a level `hallmark attest` can sign.
//
// Best practices (BP) are part of conformance but never change the level:
// every best-practice question that falls short or is unanswered is a
// [Finding], and [Assessment.Conformance] fails until each is answered or
// waived with a reason (Options.Waivers).
//
// The achieved level is the highest level whose requirements, and those of
// every level below, are all met. Best-practice (BP) findings are reported
// separately and never raise or lower the level.
//
// Assess is a pure function: no I/O, no clock.
package assess

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hallmark-build/hallmark/questionnaire"
)

// Errors of [Assessment.Conformance]; test with errors.Is.
var (
	// ErrBestPractice: best-practice answers fall short and are not waived.
	ErrBestPractice = errors.New("best-practice answers fall short")
	// ErrWaiver: a waiver names no best-practice finding, or has no reason.
	ErrWaiver = errors.New("invalid best-practice waiver")
	// ErrLevelNotSupported: the level asked for is above what the answers
	// support (or below L1).
	ErrLevelNotSupported = errors.New("the answers do not support the requested level")
)

// Status is the state of one requirement.
type Status string

const (
	Met           Status = "met"
	NotMet        Status = "not-met"
	Unanswered    Status = "unanswered"
	NeedsEvidence Status = "needs-evidence"
	// Inconsistent: answers bearing on the requirement contradict each
	// other (a consistency rule of the questionnaire holds).
	Inconsistent Status = "inconsistent"
)

// Verdict is an auditor's decision on one answer (see the review document).
type Verdict = questionnaire.Verdict

const (
	Accepted             = questionnaire.Accepted
	Rejected             = questionnaire.Rejected
	VerdictNeedsEvidence = questionnaire.NeedsEvidence
)

// Options changes how answers count.
type Options struct {
	// Verdicts, when non-nil, makes the assessment count only accepted
	// answers: a rejected answer fails every requirement it decides, a
	// needs-evidence or unreviewed answer marks them as needing evidence.
	Verdicts map[string]Verdict
	// Waivers maps a best-practice question ID to the reason its finding is
	// accepted (hallmark attest --waive ID=REASON).
	Waivers map[string]string
}

// Decision is one answer that bears on a requirement.
type Decision struct {
	Question string               `json:"question"`
	Choice   string               `json:"choice,omitempty"`
	Label    string               `json:"label,omitempty"`
	Effect   questionnaire.Effect `json:"effect,omitempty"`
	Evidence int                  `json:"evidence"`
	Verdict  Verdict              `json:"verdict,omitempty"`
	Outcome  Status               `json:"outcome"`
}

// RequirementResult is the status of one requirement with the answers that
// decided it.
type RequirementResult struct {
	Code      string              `json:"code"`
	Title     string              `json:"title"`
	Level     questionnaire.Level `json:"level"`
	Status    Status              `json:"status"`
	Reason    string              `json:"reason"`
	Decisions []Decision          `json:"decisions"`
}

// Gap is a requirement of the next level that is not met, with the threat it
// leaves open and what to change.
type Gap struct {
	Code      string     `json:"code"`
	Title     string     `json:"title"`
	Status    Status     `json:"status"`
	Reason    string     `json:"reason"`
	Threats   []string   `json:"threats"`
	Threat    string     `json:"threat"`
	HowToMeet string     `json:"howToMeet"`
	Decisions []Decision `json:"decisions"`
}

// Finding is a best-practice answer that falls short or is missing.
type Finding struct {
	Question string `json:"question"`
	Text     string `json:"text"`
	Status   Status `json:"status"`
	Label    string `json:"label,omitempty"`
	// Waived is the reason given for accepting the finding, if any.
	Waived string `json:"waived,omitempty"`
}

// Inconsistency is a consistency rule whose conditions all hold.
type Inconsistency struct {
	Rule         string   `json:"rule"`
	Message      string   `json:"message"`
	Questions    []string `json:"questions"`
	Requirements []string `json:"requirements"`
}

// Assessment is the result of assessing an answers document.
type Assessment struct {
	Questionnaire  string               `json:"questionnaire"`
	Level          questionnaire.Level  `json:"level"`
	ClaimedLevel   *questionnaire.Level `json:"claimedLevel,omitempty"`
	ClaimSupported bool                 `json:"claimSupported"`
	Reviewed       bool                 `json:"reviewed"`
	Requirements   []RequirementResult  `json:"requirements"`
	NextLevel      *questionnaire.Level `json:"nextLevel,omitempty"`
	Gaps           []Gap                `json:"gaps"`
	BestPractice   []Finding            `json:"bestPractice"`
	// Inconsistencies are the answers that contradict each other.
	Inconsistencies []Inconsistency `json:"inconsistencies"`
	// NeedsReanswer lists questions whose earlier choice was split by a
	// newer questionnaire: they count as unanswered until answered again.
	NeedsReanswer []string `json:"needsReanswer"`
	// UnknownWaivers are waivers given for questions without a finding.
	UnknownWaivers []string `json:"unknownWaivers,omitempty"`
	Answered       int      `json:"answered"`
	Total          int      `json:"total"`
	Unanswered     []string `json:"unanswered"`
}

// Attestable returns the level an attestation would grant and whether it may
// be issued: requested, else the claimed level, else the supported level must
// be 1 or more and supported, and the answers must conform (best practices
// met or waived). `hallmark check` and `hallmark attest` both decide by it.
func (a *Assessment) Attestable(requested *questionnaire.Level) (questionnaire.Level, error) {
	level := a.Level
	switch {
	case requested != nil:
		level = *requested
	case a.ClaimedLevel != nil:
		level = *a.ClaimedLevel
	}
	if level > a.Level || level < 1 {
		var unmet []string
		for _, code := range a.Unmet(max(level, 1)) {
			r, _ := a.Requirement(code)
			unmet = append(unmet, fmt.Sprintf("%s (%s: %s)", code, r.Title, r.Status))
		}
		return level, fmt.Errorf("%w: requested %s, the answers support %s; unmet: %s", ErrLevelNotSupported, level, a.Level, strings.Join(unmet, "; "))
	}
	return level, a.Conformance()
}

// Conformance reports whether the answers conform apart from the level:
// every best-practice finding is waived with a reason, and every waiver
// names a finding. The error lists what is missing.
func (a *Assessment) Conformance() error {
	var short []string
	for _, f := range a.BestPractice {
		if f.Waived == "" {
			what := "unanswered"
			if f.Status != Unanswered {
				what = fmt.Sprintf("answered %q", f.Label)
			}
			short = append(short, fmt.Sprintf("%s (%s)", f.Question, what))
		}
	}
	if len(a.UnknownWaivers) > 0 {
		return fmt.Errorf("%w: no best-practice finding to waive for %s", ErrWaiver, strings.Join(a.UnknownWaivers, ", "))
	}
	if len(short) > 0 {
		return fmt.Errorf("%w: %s; answer them, or waive each with --waive ID=REASON", ErrBestPractice, strings.Join(short, ", "))
	}
	return nil
}

// Requirement returns the result for a code.
func (a *Assessment) Requirement(code string) (RequirementResult, bool) {
	for _, r := range a.Requirements {
		if r.Code == code {
			return r, true
		}
	}
	return RequirementResult{}, false
}

// Unmet lists the codes of level-defining requirements up to and including
// level l that are not met.
func (a *Assessment) Unmet(l questionnaire.Level) []string {
	var out []string
	for _, r := range a.Requirements {
		if r.Level >= 1 && r.Level <= l && r.Status != Met {
			out = append(out, r.Code)
		}
	}
	return out
}

// Assess evaluates doc against its questionnaire.
func Assess(doc *questionnaire.Document, opts Options) *Assessment {
	q := doc.Q()
	a := &Assessment{
		Questionnaire:   q.Version,
		ClaimedLevel:    doc.Profile.ClaimedLevel,
		Reviewed:        opts.Verdicts != nil,
		Total:           len(q.Questions),
		Gaps:            []Gap{},
		BestPractice:    []Finding{},
		Inconsistencies: inconsistencies(doc),
		NeedsReanswer:   doc.NeedsReanswer(),
		Unanswered:      []string{},
	}
	if a.NeedsReanswer == nil {
		a.NeedsReanswer = []string{}
	}
	for _, qu := range q.Questions {
		if doc.Answers[qu.ID].Answered() {
			a.Answered++
		} else {
			a.Unanswered = append(a.Unanswered, qu.ID)
		}
	}
	for _, req := range q.Requirements {
		r := evaluate(q, doc, req, opts)
		profileCheck(doc, &r)
		applyRules(a.Inconsistencies, &r)
		a.Requirements = append(a.Requirements, r)
	}

	for l := questionnaire.Level(1); l <= questionnaire.MaxLevel; l++ {
		if len(a.Unmet(l)) > 0 {
			break
		}
		a.Level = l
	}
	if a.ClaimedLevel != nil {
		a.ClaimSupported = a.Level >= *a.ClaimedLevel
	}
	if a.Level < questionnaire.MaxLevel {
		next := a.Level + 1
		a.NextLevel = &next
		for _, r := range a.Requirements {
			if r.Level != next || r.Status == Met {
				continue
			}
			req, _ := q.Requirement(r.Code)
			a.Gaps = append(a.Gaps, Gap{
				Code: r.Code, Title: r.Title, Status: r.Status, Reason: r.Reason,
				Threats: req.Threats, Threat: req.Threat, HowToMeet: req.HowToMeet,
				Decisions: r.Decisions,
			})
		}
	}
	for _, qu := range q.Deciders(questionnaire.BestPracticeCode) {
		ans := doc.Answers[qu.ID]
		d := decide(qu, ans, questionnaire.BestPracticeCode, false, opts)
		if d.Outcome != Met {
			a.BestPractice = append(a.BestPractice, Finding{Question: qu.ID, Text: qu.Text, Status: d.Outcome, Label: d.Label, Waived: strings.TrimSpace(opts.Waivers[qu.ID])})
		}
	}
	for id := range opts.Waivers {
		if !slices.ContainsFunc(a.BestPractice, func(f Finding) bool { return f.Question == id }) {
			a.UnknownWaivers = append(a.UnknownWaivers, id)
		}
	}
	sort.Strings(a.UnknownWaivers)
	return a
}

// profileCheck fails EX without a builder.id and AU without a provenance
// signer: without them there is nothing a verifier could recognise.
func profileCheck(doc *questionnaire.Document, r *RequirementResult) {
	var why string
	switch {
	case r.Code == "EX" && len(doc.Profile.Builders) == 0:
		why = "the profile names no builder.id (profile.builders)"
	case r.Code == "AU" && len(doc.Profile.Signers) == 0:
		why = "the profile pins no provenance signer for verifiers (profile.signers)"
	default:
		return
	}
	if r.Status == NotMet || r.Status == Unanswered {
		r.Reason += "; " + why
		return
	}
	r.Status, r.Reason = NotMet, why
}

// inconsistencies evaluates the questionnaire's consistency rules.
func inconsistencies(doc *questionnaire.Document) []Inconsistency {
	out := []Inconsistency{}
	for _, rule := range doc.Q().Rules {
		var qs []string
		holds := true
		for _, c := range rule.When {
			if !conditionHolds(doc, c) {
				holds = false
				break
			}
			if c.Question != "" {
				qs = append(qs, c.Question)
			} else {
				qs = append(qs, "profile.signers")
			}
		}
		if holds {
			out = append(out, Inconsistency{Rule: rule.ID, Message: rule.Message, Questions: qs, Requirements: rule.Requirements})
		}
	}
	return out
}

func conditionHolds(doc *questionnaire.Document, c questionnaire.Condition) bool {
	if c.Signer != "" {
		return slices.ContainsFunc(doc.Profile.Signers, func(s questionnaire.Signer) bool {
			return s.Sigstore() == (c.Signer == questionnaire.SignerSigstore)
		})
	}
	ch := doc.Answers[c.Question].Choice
	if ch == "" {
		return false
	}
	if len(c.Choices) > 0 {
		return slices.Contains(c.Choices, ch)
	}
	return !slices.Contains(c.OtherThan, ch)
}

// applyRules marks a requirement inconsistent when a rule names it.
func applyRules(incs []Inconsistency, r *RequirementResult) {
	var msgs []string
	for _, in := range incs {
		if slices.Contains(in.Requirements, r.Code) {
			msgs = append(msgs, fmt.Sprintf("%s disagree: %s", join(in.Questions), in.Message))
		}
	}
	if len(msgs) == 0 {
		return
	}
	why := "inconsistent answers: " + strings.Join(msgs, "; ")
	if r.Status == NotMet {
		r.Reason += "; also " + why
		return
	}
	r.Status, r.Reason = Inconsistent, why
}

// decide works out what one answer does to one requirement.
func decide(qu *questionnaire.Question, ans questionnaire.Answer, code string, evidenceRequired bool, opts Options) Decision {
	d := Decision{Question: qu.ID, Evidence: len(ans.Evidence)}
	if opts.Verdicts != nil {
		d.Verdict = opts.Verdicts[qu.ID]
	}
	if !ans.Answered() {
		d.Outcome = Unanswered
		return d
	}
	c, _ := qu.Choice(ans.Choice)
	d.Choice, d.Label = c.Value, c.Label
	d.Effect = c.Effects[code]
	switch {
	case opts.Verdicts != nil && d.Verdict == Rejected:
		d.Outcome = NotMet
	case d.Effect == questionnaire.Fails:
		d.Outcome = NotMet
	case d.Effect != questionnaire.Meets:
		d.Outcome = "" // neutral: this choice neither meets nor fails the requirement
	case opts.Verdicts != nil && d.Verdict != Accepted:
		d.Outcome = NeedsEvidence
	case evidenceRequired && len(ans.Evidence) == 0:
		d.Outcome = NeedsEvidence
	default:
		d.Outcome = Met
	}
	return d
}

func evaluate(q *questionnaire.Questionnaire, doc *questionnaire.Document, req questionnaire.Requirement, opts Options) RequirementResult {
	r := RequirementResult{Code: req.Code, Title: req.Title, Level: req.Level, Decisions: []Decision{}}
	var failing, unanswered, evidence []string
	meets := 0
	for _, qu := range q.Deciders(req.Code) {
		d := decide(qu, doc.Answers[qu.ID], req.Code, req.EvidenceRequired, opts)
		r.Decisions = append(r.Decisions, d)
		switch d.Outcome {
		case NotMet:
			failing = append(failing, qu.ID)
		case Unanswered:
			unanswered = append(unanswered, qu.ID)
		case NeedsEvidence:
			evidence = append(evidence, qu.ID)
			meets++
		case Met:
			meets++
		}
	}
	switch {
	case len(failing) > 0:
		r.Status = NotMet
		r.Reason = "not met by " + answersTo(failing)
	case len(unanswered) > 0:
		r.Status = Unanswered
		r.Reason = "waiting for " + join(unanswered)
	case meets == 0:
		r.Status = NotMet
		r.Reason = "no answer establishes it"
	case len(evidence) > 0:
		r.Status = NeedsEvidence
		if opts.Verdicts != nil {
			r.Reason = "not accepted by the auditor (needs evidence, or not reviewed): " + answersTo(evidence)
		} else {
			r.Reason = "no evidence cited for " + answersTo(evidence)
		}
	default:
		r.Status = Met
		r.Reason = "met by " + answersTo(questionIDs(r.Decisions))
	}
	return r
}

func questionIDs(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		if d.Outcome == Met {
			out = append(out, d.Question)
		}
	}
	return out
}

// answersTo renders "the answer to X" or "the answers to X and Y".
func answersTo(ids []string) string {
	if len(ids) == 1 {
		return "the answer to " + ids[0]
	}
	return "the answers to " + join(ids)
}

func join(ids []string) string {
	switch len(ids) {
	case 0:
		return ""
	case 1:
		return ids[0]
	}
	s := ""
	for i, id := range ids {
		switch {
		case i == 0:
		case i == len(ids)-1:
			s += " and "
		default:
			s += ", "
		}
		s += id
	}
	return s
}
