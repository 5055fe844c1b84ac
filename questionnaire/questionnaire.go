// Package questionnaire holds the SLSA Build-track threat-model questionnaire
// as versioned data, and the answers documents operators fill in.
//
// The questionnaire follows the prompts of the SLSA specification's page
// "Verifying build platforms" (v1.0; unchanged through v1.2 "Assessing build
// platforms"). Each prompt is a [Question] with a stable ID (EP1 ... OS2), the
// build-model component it belongs to, our own wording, help text, the spec
// section it comes from and the requirement codes it bears on. Questions that
// bear on a requirement offer [Choice] values whose [Effect] on each
// requirement is part of the data: the mapping from answers to requirements
// lives in one reviewable file, data/slsa-build-v1.0-2.json, where every
// choice whose effect is not obvious cites the requirement it follows
// ("basis"). The same file holds the consistency [Rule] values: combinations of
// answers that contradict each other.
//
// Questionnaires are versioned. An answers document names the version it was
// made with; documents of an older version stay readable and are upgraded on
// load: an answer whose choice was split in the newer version keeps its text
// and evidence but is marked as needing a new answer ([Answer.NeedsReanswer]),
// never silently mapped to one of the new choices.
//
// Load the embedded questionnaire with [Default]:
//
//	q := questionnaire.Default()
//	doc, err := questionnaire.ParseAnswers(q, data)
//
// The package is pure data and validation: it never prints, reads the
// environment or touches the terminal.
package questionnaire

import (
	"embed"
	"fmt"
	"slices"
	"sync"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

//go:embed data/slsa-build-v1.0.json data/slsa-build-v1.0-2.json
var dataFS embed.FS

// DefaultVersion is the version of the embedded questionnaire.
const DefaultVersion = "slsa-build-1.0/2"

// versionFiles are the embedded questionnaires by version, oldest first.
var versionFiles = []struct{ version, file string }{
	{"slsa-build-1.0/1", "data/slsa-build-v1.0.json"},
	{DefaultVersion, "data/slsa-build-v1.0-2.json"},
}

// ProfileComponent is the component ID of the builder-profile questions.
const ProfileComponent = "profile"

// Effect is what choosing a [Choice] does to one requirement.
type Effect string

const (
	// Meets: the choice supports the requirement.
	Meets Effect = "meets"
	// Fails: the choice means the requirement is not met.
	Fails Effect = "fails"
)

// UnmarshalJSON re-validates the value.
func (e *Effect) UnmarshalJSON(b []byte) error {
	var s string
	if err := strictjson.Unmarshal(b, &s); err != nil {
		return err
	}
	switch Effect(s) {
	case Meets, Fails:
		*e = Effect(s)
		return nil
	}
	return fmt.Errorf("effect: expected %q or %q, got %q", Meets, Fails, s)
}

// Level is a SLSA Build level, 0 to 3.
type Level int

// MaxLevel is the highest SLSA Build level.
const MaxLevel Level = 3

// ParseLevel accepts "0".."3", "L0".."L3" and "SLSA_BUILD_LEVEL_0".."3".
func ParseLevel(s string) (Level, error) {
	t := s
	for _, p := range []string{"SLSA_BUILD_LEVEL_", "L", "l"} {
		if len(t) > len(p) && t[:len(p)] == p {
			t = t[len(p):]
			break
		}
	}
	if len(t) == 1 && t[0] >= '0' && t[0] <= '3' {
		return Level(t[0] - '0'), nil
	}
	return 0, fmt.Errorf("level: expected 0-3 (or L0-L3), got %q", s)
}

// Valid reports whether l is a defined Build level.
func (l Level) Valid() bool { return l >= 0 && l <= MaxLevel }

// String renders "L2".
func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("L%d", int(l))
}

var levelNames = [...]string{"L0", "L1", "L2", "L3"}

// UnmarshalJSON accepts only 0..3.
func (l *Level) UnmarshalJSON(b []byte) error {
	var n int
	if err := strictjson.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("level: expected an integer 0-3, got %s", truncate(string(b), 20))
	}
	if !Level(n).Valid() {
		return fmt.Errorf("level: expected 0-3, got %d", n)
	}
	*l = Level(n)
	return nil
}

// LevelInfo describes a Build level.
type LevelInfo struct {
	Level   Level  `json:"level"`
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// Component is a part of the SLSA build model (plus the builder profile).
type Component struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

// Requirement is an entry of the requirements catalogue.
type Requirement struct {
	Code        string `json:"code"`
	Level       Level  `json:"level"` // 0 for BP: required at every level, never level-defining
	Title       string `json:"title"`
	Description string `json:"description"`
	// Threats uses the threat letters of SLSA v1.1 and later (D–G);
	// ThreatsV1_0 keeps the letters of SLSA v1.0.
	Threats     []string `json:"threats"`
	ThreatsV1_0 []string `json:"threatsV1_0,omitempty"`
	Threat      string   `json:"threat"`
	HowToMeet   string   `json:"howToMeet"`
	// EvidenceRequired: an answer that meets this requirement must cite
	// evidence, or the requirement is reported as needing evidence.
	EvidenceRequired bool `json:"evidenceRequired"`
}

// BestPractice reports whether r is the best-practice requirement, which is
// reported separately and never raises or lowers the level.
func (r Requirement) BestPractice() bool { return r.Code == BestPracticeCode }

// BestPracticeCode is the code of the best-practice requirement.
const BestPracticeCode = "BP"

// Choice is one structured answer to a question.
type Choice struct {
	Value   string            `json:"value"`
	Label   string            `json:"label"`
	Effects map[string]Effect `json:"effects"`
	// Basis cites the requirement of the SLSA specification the effects
	// follow, where they are not obvious from the label.
	Basis string `json:"basis,omitempty"`
}

// Supersedes says which older questionnaire a version replaces, and which of
// that version's choices were split (question -> old choice -> new choices).
// An old answer whose choice is listed is not mapped: it needs a new answer.
type Supersedes struct {
	Version string                         `json:"version"`
	Note    string                         `json:"note"`
	Split   map[string]map[string][]string `json:"split"`
}

// Rule is a consistency rule: when every condition holds, the answers
// contradict each other, and the requirements listed get the status
// "inconsistent" (which blocks every level that needs them).
type Rule struct {
	ID           string      `json:"id"`
	Requirements []string    `json:"requirements"`
	When         []Condition `json:"when"`
	Message      string      `json:"message"`
}

// Condition is one part of a [Rule]. Exactly one of Question and Signer is
// given. With Question, the question must be answered with one of Choices,
// or with any choice other than OtherThan. With Signer ("sigstore" or "key"),
// the profile must pin a signer of that kind.
type Condition struct {
	Question  string   `json:"question,omitempty"`
	Choices   []string `json:"choices,omitempty"`
	OtherThan []string `json:"otherThan,omitempty"`
	Signer    string   `json:"signer,omitempty"`
}

// Signer kinds a [Condition] can name.
const (
	SignerSigstore = "sigstore"
	SignerKey      = "key"
)

// Question is one prompt of the questionnaire.
type Question struct {
	ID           string   `json:"id"`
	Component    string   `json:"component"`
	Group        string   `json:"group"`
	Text         string   `json:"text"`
	Help         string   `json:"help"`
	Examples     []string `json:"examples"`
	Spec         string   `json:"spec"`
	Requirements []string `json:"requirements"`
	Choices      []Choice `json:"choices"`
}

// Profile reports whether q belongs to the builder profile.
func (q *Question) Profile() bool { return q.Component == ProfileComponent }

// Choice returns the choice with the given value.
func (q *Question) Choice(value string) (Choice, bool) {
	for _, c := range q.Choices {
		if c.Value == value {
			return c, true
		}
	}
	return Choice{}, false
}

// ChoiceValues lists the allowed values, for error messages.
func (q *Question) ChoiceValues() []string {
	out := make([]string, len(q.Choices))
	for i, c := range q.Choices {
		out[i] = c.Value
	}
	return out
}

// Questionnaire is a loaded, validated questionnaire definition.
type Questionnaire struct {
	Version      string        `json:"version"`
	SpecVersion  string        `json:"specVersion"`
	SpecNote     string        `json:"specNote"`
	Levels       []LevelInfo   `json:"levels"`
	Components   []Component   `json:"components"`
	Requirements []Requirement `json:"requirements"`
	Questions    []Question    `json:"questions"`
	Supersedes   *Supersedes   `json:"supersedes,omitempty"`
	Rules        []Rule        `json:"rules,omitempty"`

	byID  map[string]int
	byReq map[string]int
}

// SpecPromptIDs are the IDs of the 40 prompts of the SLSA specification, in
// the spec's order. Every questionnaire must cover all of them.
var specPromptIDs = []string{
	"EP1", "EP2", "EP3", "EP4", "EP5",
	"AD1", "AD2", "AD3", "AD4", "AD5",
	"PG1", "PG2",
	"DP1", "DP2", "DP3", "DP4",
	"CE1", "CE2", "CE3",
	"CS1", "CS2", "CS3", "CS4", "CS5", "CS6",
	"IT1", "IT2", "IT3", "IT4", "IT5", "IT6",
	"CD1", "CD2",
	"NA1", "NA2",
	"CA1", "CA2", "CA3",
	"OS1", "OS2",
}

// SpecPromptIDs returns the IDs of the 40 spec prompts in order.
func SpecPromptIDs() []string { return slices.Clone(specPromptIDs) }

var (
	loadOnce sync.Once
	loaded   map[string]*Questionnaire
)

// load parses every embedded questionnaire once. The embedded data is
// validated by the package tests; an invalid embedded file is a build defect,
// so it panics rather than returning an error every caller must handle.
func load() map[string]*Questionnaire {
	loadOnce.Do(func() {
		loaded = map[string]*Questionnaire{}
		for _, vf := range versionFiles {
			b, err := dataFS.ReadFile(vf.file)
			if err != nil {
				panic("questionnaire: embedded data missing: " + err.Error())
			}
			q, err := Parse(b)
			if err != nil {
				panic("questionnaire: embedded data invalid: " + err.Error())
			}
			if q.Version != vf.version {
				panic("questionnaire: " + vf.file + " has version " + q.Version)
			}
			loaded[q.Version] = q
		}
		for v, q := range loaded {
			if q.Supersedes != nil {
				old, ok := loaded[q.Supersedes.Version]
				if !ok {
					panic("questionnaire: " + v + " supersedes unknown " + q.Supersedes.Version)
				}
				if err := q.checkSupersedes(old); err != nil {
					panic("questionnaire: " + v + ": " + err.Error())
				}
			}
		}
	})
	return loaded
}

// Default returns the current embedded questionnaire.
func Default() *Questionnaire { return load()[DefaultVersion] }

// Versions lists the questionnaire versions this build reads, oldest first.
func Versions() []string {
	out := make([]string, len(versionFiles))
	for i, vf := range versionFiles {
		out[i] = vf.version
	}
	return out
}

// ByVersion returns the questionnaire with the given version, for reading
// answers documents made with an older questionnaire.
func ByVersion(v string) (*Questionnaire, error) {
	if q, ok := load()[v]; ok {
		return q, nil
	}
	return nil, fmt.Errorf("%w: %q (this build knows %v)", ErrUnknownQuestionnaire, truncate(v, 60), Versions())
}

// Parse decodes and validates a questionnaire definition.
func Parse(b []byte) (*Questionnaire, error) {
	var q Questionnaire
	if err := strictjson.Unmarshal(b, &q); err != nil {
		return nil, fmt.Errorf("questionnaire: %w", err)
	}
	if err := q.validate(); err != nil {
		return nil, fmt.Errorf("questionnaire %s: %w", q.Version, err)
	}
	return &q, nil
}

// checkSupersedes checks that every choice of old either exists in q with the
// same value or is listed as split into choices q has.
func (q *Questionnaire) checkSupersedes(old *Questionnaire) error {
	for _, oq := range old.Questions {
		nq, ok := q.Question(oq.ID)
		if !ok {
			return fmt.Errorf("question %s of %s is gone", oq.ID, old.Version)
		}
		for _, c := range oq.Choices {
			into, split := q.Supersedes.Split[oq.ID][c.Value]
			_, kept := nq.Choice(c.Value)
			switch {
			case kept && split:
				return fmt.Errorf("question %s: choice %q is both kept and split", oq.ID, c.Value)
			case !kept && !split:
				return fmt.Errorf("question %s: choice %q of %s is neither kept nor listed as split", oq.ID, c.Value, old.Version)
			}
			for _, v := range into {
				if _, ok := nq.Choice(v); !ok {
					return fmt.Errorf("question %s: %q is split into unknown choice %q", oq.ID, c.Value, v)
				}
			}
		}
	}
	return nil
}

// SplitInto returns the choices an old choice of question id was split into,
// when q supersedes the version it came from.
func (q *Questionnaire) SplitInto(id, oldChoice string) []string {
	if q.Supersedes == nil {
		return nil
	}
	return q.Supersedes.Split[id][oldChoice]
}

func (q *Questionnaire) validate() error {
	if q.Version == "" {
		return fmt.Errorf("missing version")
	}
	comps := map[string]bool{}
	for _, c := range q.Components {
		if comps[c.ID] {
			return fmt.Errorf("duplicate component %q", c.ID)
		}
		comps[c.ID] = true
	}
	if !comps[ProfileComponent] {
		return fmt.Errorf("missing the %q component", ProfileComponent)
	}
	q.byReq = map[string]int{}
	for i, r := range q.Requirements {
		if _, dup := q.byReq[r.Code]; dup {
			return fmt.Errorf("duplicate requirement %q", r.Code)
		}
		if r.Threat == "" || r.HowToMeet == "" {
			return fmt.Errorf("requirement %s: threat and howToMeet are required", r.Code)
		}
		q.byReq[r.Code] = i
	}
	if _, ok := q.byReq[BestPracticeCode]; !ok {
		return fmt.Errorf("missing requirement %q", BestPracticeCode)
	}
	reached := map[string]map[Effect]bool{}
	q.byID = map[string]int{}
	for i := range q.Questions {
		qu := &q.Questions[i]
		if qu.ID == "" {
			return fmt.Errorf("question %d has no id", i)
		}
		if _, dup := q.byID[qu.ID]; dup {
			return fmt.Errorf("duplicate question id %q", qu.ID)
		}
		q.byID[qu.ID] = i
		if !comps[qu.Component] {
			return fmt.Errorf("question %s: unknown component %q", qu.ID, qu.Component)
		}
		if qu.Text == "" || qu.Help == "" || qu.Spec == "" {
			return fmt.Errorf("question %s: text, help and spec are required", qu.ID)
		}
		if len(qu.Choices) == 0 {
			return fmt.Errorf("question %s: no choices", qu.ID)
		}
		declared := map[string]bool{}
		for _, code := range qu.Requirements {
			if _, ok := q.byReq[code]; !ok {
				return fmt.Errorf("question %s: unknown requirement %q", qu.ID, code)
			}
			declared[code] = true
		}
		used := map[string]bool{}
		values := map[string]bool{}
		for _, c := range qu.Choices {
			if c.Value == "" || c.Label == "" {
				return fmt.Errorf("question %s: a choice needs a value and a label", qu.ID)
			}
			if values[c.Value] {
				return fmt.Errorf("question %s: duplicate choice %q", qu.ID, c.Value)
			}
			values[c.Value] = true
			for code, eff := range c.Effects {
				if !declared[code] {
					return fmt.Errorf("question %s choice %s: effect on %q, which the question does not declare", qu.ID, c.Value, code)
				}
				used[code] = true
				if reached[code] == nil {
					reached[code] = map[Effect]bool{}
				}
				reached[code][eff] = true
			}
		}
		for code := range declared {
			if !used[code] {
				return fmt.Errorf("question %s: declares %q but no choice affects it", qu.ID, code)
			}
		}
	}
	for _, r := range q.Requirements {
		if !reached[r.Code][Meets] || !reached[r.Code][Fails] {
			return fmt.Errorf("requirement %s: must be reachable both as met and as not met by some choice", r.Code)
		}
	}
	for _, id := range specPromptIDs {
		if _, ok := q.byID[id]; !ok {
			return fmt.Errorf("spec prompt %s is missing", id)
		}
	}
	return q.validateRules()
}

func (q *Questionnaire) validateRules() error {
	ids := map[string]bool{}
	for _, r := range q.Rules {
		if r.ID == "" || r.Message == "" {
			return fmt.Errorf("a rule needs an id and a message")
		}
		if ids[r.ID] {
			return fmt.Errorf("duplicate rule %q", r.ID)
		}
		ids[r.ID] = true
		if len(r.Requirements) == 0 || len(r.When) < 2 {
			return fmt.Errorf("rule %s: needs requirements and at least two conditions", r.ID)
		}
		for _, code := range r.Requirements {
			if _, ok := q.byReq[code]; !ok {
				return fmt.Errorf("rule %s: unknown requirement %q", r.ID, code)
			}
		}
		for i, c := range r.When {
			if err := q.validateCondition(c); err != nil {
				return fmt.Errorf("rule %s: when[%d]: %w", r.ID, i, err)
			}
		}
	}
	return nil
}

func (q *Questionnaire) validateCondition(c Condition) error {
	if (c.Question == "") == (c.Signer == "") {
		return fmt.Errorf("give exactly one of question and signer")
	}
	if c.Signer != "" {
		if c.Signer != SignerSigstore && c.Signer != SignerKey {
			return fmt.Errorf("signer: expected %q or %q, got %q", SignerSigstore, SignerKey, c.Signer)
		}
		if len(c.Choices)+len(c.OtherThan) > 0 {
			return fmt.Errorf("a signer condition takes no choices")
		}
		return nil
	}
	qu, ok := q.Question(c.Question)
	if !ok {
		return fmt.Errorf("unknown question %q", c.Question)
	}
	if (len(c.Choices) == 0) == (len(c.OtherThan) == 0) {
		return fmt.Errorf("give exactly one of choices and otherThan")
	}
	for _, v := range append(slices.Clone(c.Choices), c.OtherThan...) {
		if _, ok := qu.Choice(v); !ok {
			return fmt.Errorf("question %s has no choice %q", c.Question, v)
		}
	}
	return nil
}

// Question returns the question with the given ID.
func (q *Questionnaire) Question(id string) (*Question, bool) {
	i, ok := q.byID[id]
	if !ok {
		return nil, false
	}
	return &q.Questions[i], true
}

// Requirement returns the catalogue entry for a code.
func (q *Questionnaire) Requirement(code string) (Requirement, bool) {
	i, ok := q.byReq[code]
	if !ok {
		return Requirement{}, false
	}
	return q.Requirements[i], true
}

// QuestionsIn returns the questions of a component, in order.
func (q *Questionnaire) QuestionsIn(component string) []*Question {
	var out []*Question
	for i := range q.Questions {
		if q.Questions[i].Component == component {
			out = append(out, &q.Questions[i])
		}
	}
	return out
}

// Deciders returns the questions that bear on a requirement, in order.
func (q *Questionnaire) Deciders(code string) []*Question {
	var out []*Question
	for i := range q.Questions {
		if slices.Contains(q.Questions[i].Requirements, code) {
			out = append(out, &q.Questions[i])
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
