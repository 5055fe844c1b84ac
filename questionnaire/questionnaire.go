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
// lives in one reviewable file, data/slsa-build-v1.0.json.
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
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

//go:embed data/slsa-build-v1.0.json
var dataFS embed.FS

// DefaultVersion is the version of the embedded questionnaire.
const DefaultVersion = "slsa-build-1.0/1"

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
	if err := json.Unmarshal(b, &s); err != nil {
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
func (l Level) String() string { return fmt.Sprintf("L%d", int(l)) }

// UnmarshalJSON accepts only 0..3.
func (l *Level) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
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
	Code        string   `json:"code"`
	Level       Level    `json:"level"` // 0 for BP: required at every level, never level-defining
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Threats     []string `json:"threats"`
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
}

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
	defaultOnce sync.Once
	defaultQ    *Questionnaire
)

// Default returns the embedded questionnaire. The embedded data is validated
// by the package tests; an invalid embedded file is a build defect, so
// Default panics rather than returning an error every caller must handle.
func Default() *Questionnaire {
	defaultOnce.Do(func() {
		b, err := dataFS.ReadFile("data/slsa-build-v1.0.json")
		if err != nil {
			panic("questionnaire: embedded data missing: " + err.Error())
		}
		q, err := Parse(b)
		if err != nil {
			panic("questionnaire: embedded data invalid: " + err.Error())
		}
		defaultQ = q
	})
	return defaultQ
}

// ByVersion returns the questionnaire with the given version, for reading
// answers documents made with an older questionnaire.
func ByVersion(v string) (*Questionnaire, error) {
	if v == DefaultVersion {
		return Default(), nil
	}
	return nil, fmt.Errorf("%w: %q (this build knows %q)", ErrUnknownQuestionnaire, v, DefaultVersion)
}

// Parse decodes and validates a questionnaire definition.
func Parse(b []byte) (*Questionnaire, error) {
	var q Questionnaire
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return nil, fmt.Errorf("questionnaire: %w", err)
	}
	if err := q.validate(); err != nil {
		return nil, fmt.Errorf("questionnaire %s: %w", q.Version, err)
	}
	return &q, nil
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
