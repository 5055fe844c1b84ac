// Package tui is the full-screen questionnaire of `hallmark assess`, built
// with bubbletea, and its accessible line-by-line mode built with huh.
//
// Every answer is saved atomically as soon as it is given: a choice when it
// is selected, a text field when the cursor leaves it. Killing the process
// loses at most the field being edited; Ctrl-C saves that field too and quits
// without asking.
package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// SignRequest is what the signing step collects.
type SignRequest struct {
	KeyPath  string
	Password []byte
	ValidFor string
	Output   string
	// BuilderID is the builder of the profile to attest (its id or
	// pattern), chosen on the sign screen when the profile lists several.
	BuilderID string
}

// SignFunc signs an attestation for the saved answers and returns a summary
// to show (where it was written and how to verify it).
type SignFunc func(ctx context.Context, doc *questionnaire.Document, req SignRequest) (string, error)

// Options configure the TUI.
type Options struct {
	// Path is the answers file; it is written after every answer.
	Path string
	// Doc is the document to edit (new or loaded from Path).
	Doc *questionnaire.Document
	// Now gives today's date for review dates.
	Now func() time.Time
	// Sign, when set, enables the signing step on the review screen.
	Sign SignFunc
	// Save writes the document; nil means Doc.Save(Path).
	Save func(*questionnaire.Document) error
}

type screen int

const (
	screenWelcome screen = iota
	screenProfile
	screenQuestion
	screenOverview
	screenReview
	screenSign
)

// Focus targets on a question screen.
const (
	focusChoices = iota
	focusExplanation
	focusEvidence
	focusReviewed
	numQuestionFields
)

// Profile form fields.
const (
	pfOrganization = iota
	pfBuilderID
	pfMode
	pfLevel
	pfPublicKeyFile
	pfOIDCIssuer
	pfSAN
	numProfileFields
)

var profileLabels = [numProfileFields]string{
	"Organisation", "Builder ID (builder.id URI, or re:PATTERN)", "What this builder mode is", "Claimed Build level (0-3)",
	"Signer public key file (PEM)", "or Sigstore OIDC issuer", "and certificate SAN (or re:PATTERN)",
}

// Sign form fields.
const (
	sfKey = iota
	sfPassword
	sfValidFor
	sfOutput
	sfBuilder
	numSignFields
)

var signLabels = [numSignFields]string{"Private key file", "Password", "Valid for", "Write attestation to", "Builder (number)"}

// Model is the bubbletea model of the questionnaire.
type Model struct {
	opts  Options
	doc   *questionnaire.Document
	q     *questionnaire.Questionnaire
	order []*questionnaire.Question

	screen screen
	idx    int // current question in order
	focus  int
	cursor int
	fields [numQuestionFields]textinput.Model // index 0 unused
	// helpOpen shows the question's full help, examples and the
	// requirements it bears on, whatever the terminal size.
	helpOpen bool

	profile      [numProfileFields]textinput.Model
	profileFocus int
	// builderSel and signerSel are the profile entries the builder and
	// signer fields edit; an index equal to the list length is a new entry.
	builderSel, signerSel int

	sign       [numSignFields]textinput.Model
	signFocus  int
	signResult string
	signErr    error

	overviewCursor int
	reviewScroll   int
	// visit is the current question's answer as it was when the question
	// was opened: moving on from a changed answer confirms it (sets
	// Reviewed to today).
	visit questionnaire.Answer

	session
}

// session is what both TUIs keep about the screen and the last save.
type session struct {
	width, height int
	assessment    *assess.Assessment
	status        string
	err           error
	quitting      bool
}

// saved records the outcome of a save for the status line and reports
// whether it succeeded.
func (s *session) saved(err error) bool {
	s.err = err
	if err != nil {
		s.status = "NOT SAVED: " + err.Error()
		return false
	}
	s.status = "saved"
	return true
}

// New builds the model and places it where the document was left: the
// welcome screen for a new document, otherwise the first unanswered question,
// or the review screen when everything is answered.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Save == nil {
		path := o.Path
		o.Save = func(d *questionnaire.Document) error { return d.Save(path) }
	}
	m := &Model{opts: o, doc: o.Doc, q: o.Doc.Q(), session: session{width: 80, height: 24}}
	m.order = make([]*questionnaire.Question, len(m.q.Questions))
	for i := range m.q.Questions {
		m.order[i] = &m.q.Questions[i]
	}
	for i := range m.fields {
		m.fields[i] = newInput()
	}
	m.fields[focusEvidence].Placeholder = "https://… or doc:NAME, a, b, …"
	m.fields[focusReviewed].Placeholder = "YYYY-MM-DD"
	m.fields[focusReviewed].CharLimit = 10
	for i := range m.profile {
		m.profile[i] = newInput()
	}
	for i := range m.sign {
		m.sign[i] = newInput()
	}
	m.sign[sfPassword].EchoMode = textinput.EchoPassword
	m.sign[sfPassword].EchoCharacter = '*'
	m.sign[sfValidFor].SetValue("90d")
	m.sign[sfOutput].SetValue("builder.capability.json")
	m.sign[sfBuilder].Placeholder = "1, 2, ..."
	m.reassess()
	m.loadProfileFields()

	switch {
	case len(m.doc.Answers) == 0 && len(m.doc.Profile.Builders) == 0 && m.doc.Profile.Organization == "":
		m.screen = screenWelcome
	default:
		m.screen = screenReview
		for i, qu := range m.order {
			if !m.doc.Answers[qu.ID].Answered() {
				m.gotoQuestion(i)
				break
			}
		}
	}
	return m
}

func newInput() textinput.Model {
	t := textinput.New()
	t.Prompt = ""
	t.CharLimit = questionnaire.MaxTextBytes
	return t
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Assessment returns the live assessment.
func (m *Model) Assessment() *assess.Assessment { return m.assessment }

// Current returns the ID of the question on screen ("" when none).
func (m *Model) Current() string {
	if m.screen != screenQuestion {
		return ""
	}
	return m.order[m.idx].ID
}

// Err returns the last save error, if any.
func (m *Model) Err() error { return m.err }

func (m *Model) reassess() { m.assessment = assess.Assess(m.doc, assess.Options{}) }

// persist validates nothing more (Set did) and writes the document.
func (m *Model) persist() {
	if m.saved(m.opts.Save(m.doc)) {
		m.reassess()
	}
}

// gotoQuestion shows question i with its saved answer loaded.
func (m *Model) gotoQuestion(i int) {
	m.screen = screenQuestion
	m.idx = max(0, min(i, len(m.order)-1))
	qu := m.order[m.idx]
	a := m.doc.Answers[qu.ID]
	m.visit = a
	m.cursor = 0
	for ci, c := range qu.Choices {
		if c.Value == a.Choice {
			m.cursor = ci
		}
	}
	m.fields[focusExplanation].SetValue(a.Explanation)
	m.fields[focusEvidence].SetValue(strings.Join(a.Evidence, ", "))
	m.fields[focusReviewed].SetValue(a.Reviewed)
	m.setFocus(focusChoices)
}

func (m *Model) setFocus(f int) tea.Cmd {
	m.focus = f
	if f == focusChoices {
		return focusOnly(m.fields[:], -1) // the choices list is not an input
	}
	return focusOnly(m.fields[:], f)
}

// commitField saves the text field that has focus, if it changed.
func (m *Model) commitField() {
	if m.screen != screenQuestion || m.focus == focusChoices {
		return
	}
	qu := m.order[m.idx]
	a := m.doc.Answers[qu.ID]
	b := a
	switch m.focus {
	case focusExplanation:
		b.Explanation = strings.TrimSpace(m.fields[focusExplanation].Value())
	case focusEvidence:
		b.Evidence = splitEvidence(m.fields[focusEvidence].Value())
	case focusReviewed:
		b.Reviewed = strings.TrimSpace(m.fields[focusReviewed].Value())
	}
	if equalAnswers(a, b) {
		return
	}
	if err := m.doc.Set(qu.ID, b); err != nil {
		m.status = "not saved: " + err.Error()
		return
	}
	m.persist()
}

func splitEvidence(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func equalAnswers(a, b questionnaire.Answer) bool {
	return a.Choice == b.Choice && a.Explanation == b.Explanation && a.Reviewed == b.Reviewed &&
		strings.Join(a.Evidence, "\x00") == strings.Join(b.Evidence, "\x00")
}

// selectChoice records the choice under the cursor.
func (m *Model) selectChoice() {
	qu := m.order[m.idx]
	a := m.doc.Answers[qu.ID]
	a.Choice = qu.Choices[m.cursor].Value
	if err := m.doc.Set(qu.ID, a); err != nil {
		m.status = "not saved: " + err.Error()
		return
	}
	m.persist()
}

func (m *Model) clearChoice() {
	qu := m.order[m.idx]
	a := m.doc.Answers[qu.ID]
	if a.Choice == "" {
		return
	}
	a.Choice = ""
	if err := m.doc.Set(qu.ID, a); err == nil {
		m.persist()
	}
}

// confirm records that the user reviewed the current answer when they move
// on from it: an answered question whose answer changed on this visit, or
// that has no review date yet, gets today's date.
func (m *Model) confirm() {
	if m.screen != screenQuestion {
		return
	}
	qu := m.order[m.idx]
	a := m.doc.Answers[qu.ID]
	today := m.opts.Now().Format(time.DateOnly)
	if !a.Answered() || a.Reviewed == today || (a.Reviewed != "" && equalAnswers(a, m.visit)) || (a.Reviewed != "" && a.Reviewed != m.visit.Reviewed) {
		return
	}
	a.Reviewed = today
	if err := m.doc.Set(qu.ID, a); err != nil {
		m.status = "not saved: " + err.Error()
		return
	}
	m.fields[focusReviewed].SetValue(a.Reviewed)
	m.persist()
}

func (m *Model) next() {
	m.commitField()
	m.confirm()
	if m.idx+1 < len(m.order) {
		m.gotoQuestion(m.idx + 1)
		return
	}
	m.screen = screenReview
	m.reviewScroll = 0
}

func (m *Model) back() {
	m.commitField()
	if m.idx > 0 {
		m.gotoQuestion(m.idx - 1)
		return
	}
	m.openProfile()
}

func (m *Model) openProfile() {
	m.commitField()
	m.loadProfileFields()
	m.screen = screenProfile
	m.setProfileFocus(0)
}

func (m *Model) openOverview() {
	m.commitField()
	m.commitProfileField()
	m.screen = screenOverview
}

func (m *Model) quit() tea.Cmd {
	m.commitField()
	m.commitProfileField()
	m.quitting = true
	return tea.Quit
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case signDoneMsg:
		m.signResult, m.signErr = msg.summary, msg.err
		m.status = "signed"
		if msg.err != nil {
			m.status = "not signed"
		}
		return m, nil
	case tea.KeyMsg:
		if msg.String() == "ctrl+c" {
			return m, m.quit()
		}
		if !m.editingText() {
			if keys := splitKeys(msg); keys != nil {
				return m, eachKey(m, keys)
			}
		}
		switch m.screen {
		case screenWelcome:
			return m, m.updateWelcome(msg)
		case screenProfile:
			return m, m.updateProfile(msg)
		case screenQuestion:
			return m, m.updateQuestion(msg)
		case screenOverview:
			return m, m.updateOverview(msg)
		case screenReview:
			return m, m.updateReview(msg)
		case screenSign:
			return m, m.updateSign(msg)
		}
	}
	return m, nil
}

func (m *Model) updateWelcome(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "q", "esc":
		return m.quit()
	case "enter", " ", "right", "pgdown":
		m.openProfile()
	case "o":
		m.openOverview()
	}
	return nil
}

func (m *Model) updateQuestion(msg tea.KeyMsg) tea.Cmd {
	k := msg.String()
	if m.helpOpen {
		m.helpOpen = false // any key closes the help
		return nil
	}
	// Keys that work whatever has focus.
	switch k {
	case "pgdown", "ctrl+n":
		m.next()
		return nil
	case "pgup", "ctrl+p":
		m.back()
		return nil
	case "ctrl+o":
		m.openOverview()
		return nil
	case "tab":
		m.commitField()
		return m.setFocus((m.focus + 1) % numQuestionFields)
	case "shift+tab":
		m.commitField()
		return m.setFocus((m.focus + numQuestionFields - 1) % numQuestionFields)
	}
	if m.focus != focusChoices {
		switch k {
		case "esc":
			m.commitField()
			return m.setFocus(focusChoices)
		case "enter":
			m.commitField()
			if m.focus == focusReviewed {
				m.next()
				return nil
			}
			return m.setFocus(m.focus + 1)
		}
		var cmd tea.Cmd
		m.fields[m.focus], cmd = m.fields[m.focus].Update(msg)
		return cmd
	}
	qu := m.order[m.idx]
	switch k {
	case "up", "k":
		m.cursor = (m.cursor + len(qu.Choices) - 1) % len(qu.Choices)
	case "down", "j":
		m.cursor = (m.cursor + 1) % len(qu.Choices)
	case "enter", " ":
		m.selectChoice()
		return m.setFocus(focusExplanation)
	case "x", "delete", "backspace":
		m.clearChoice()
	case "right", "n":
		m.next()
	case "left", "p", "b":
		m.back()
	case "o":
		m.openOverview()
	case "r":
		m.screen = screenReview
		m.reviewScroll = 0
	case "?":
		m.helpOpen = true
	case "q", "esc":
		return m.quit()
	default:
		if len(k) == 1 && k[0] >= '1' && k[0] <= '9' {
			if n := int(k[0] - '1'); n < len(qu.Choices) {
				m.cursor = n
				m.selectChoice()
				return m.setFocus(focusExplanation)
			}
		}
	}
	return nil
}

// overviewEntries: profile, then each component, then the review.
func (m *Model) overviewEntries() []string {
	var out []string
	for _, c := range m.q.Components {
		out = append(out, c.ID)
	}
	return append(out, "review")
}

func (m *Model) updateOverview(msg tea.KeyMsg) tea.Cmd {
	entries := m.overviewEntries()
	switch msg.String() {
	case "up", "k":
		m.overviewCursor = (m.overviewCursor + len(entries) - 1) % len(entries)
	case "down", "j":
		m.overviewCursor = (m.overviewCursor + 1) % len(entries)
	case "enter", " ", "right":
		m.jumpTo(entries[m.overviewCursor])
	case "q":
		return m.quit()
	case "esc", "o":
		if m.idx < len(m.order) {
			m.gotoQuestion(m.idx)
		}
	}
	return nil
}

// jumpTo opens a component at its first unanswered question (or its first).
func (m *Model) jumpTo(component string) {
	switch component {
	case "review":
		m.screen = screenReview
		m.reviewScroll = 0
		return
	case questionnaire.ProfileComponent:
		m.openProfile()
		return
	}
	first := -1
	for i, qu := range m.order {
		if qu.Component != component {
			continue
		}
		if first < 0 {
			first = i
		}
		if !m.doc.Answers[qu.ID].Answered() {
			m.gotoQuestion(i)
			return
		}
	}
	if first >= 0 {
		m.gotoQuestion(first)
	}
}

func (m *Model) updateReview(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "up", "k":
		m.reviewScroll = max(0, m.reviewScroll-1)
	case "down", "j":
		m.reviewScroll++
	case "pgdown", " ":
		m.reviewScroll += 10
	case "pgup":
		m.reviewScroll = max(0, m.reviewScroll-10)
	case "o", "esc":
		m.openOverview()
	case "left", "p", "b":
		m.gotoQuestion(len(m.order) - 1)
	case "u":
		// Jump to the first unanswered question.
		for i, qu := range m.order {
			if !m.doc.Answers[qu.ID].Answered() {
				m.gotoQuestion(i)
				return nil
			}
		}
	case "s":
		if m.opts.Sign != nil {
			m.screen = screenSign
			m.signResult, m.signErr = "", nil
			return m.setSignFocus(sfKey)
		}
	case "q":
		return m.quit()
	}
	return nil
}

// ---- profile form ----

func (m *Model) loadProfileFields() {
	p := m.doc.Profile
	m.builderSel = min(m.builderSel, len(p.Builders))
	m.signerSel = min(m.signerSel, len(p.Signers))
	m.profile[pfOrganization].SetValue(p.Organization)
	m.profile[pfBuilderID].SetValue("")
	m.profile[pfMode].SetValue("")
	if m.builderSel < len(p.Builders) {
		b := p.Builders[m.builderSel]
		m.profile[pfBuilderID].SetValue(b.ID)
		if b.IDRegexp != "" {
			m.profile[pfBuilderID].SetValue("re:" + b.IDRegexp)
		}
		m.profile[pfMode].SetValue(b.Mode)
	}
	m.profile[pfLevel].SetValue("")
	if p.ClaimedLevel != nil {
		m.profile[pfLevel].SetValue(fmt.Sprint(int(*p.ClaimedLevel)))
	}
	m.profile[pfBuilderID].Placeholder = "https://... or re:PATTERN"
	m.profile[pfPublicKeyFile].Placeholder = "path to a .pub file"
	m.profile[pfPublicKeyFile].SetValue("")
	m.profile[pfOIDCIssuer].SetValue("")
	m.profile[pfSAN].SetValue("")
	if m.signerSel < len(p.Signers) {
		s := p.Signers[m.signerSel]
		if s.PublicKey != "" {
			if fp, err := s.Fingerprint(); err == nil {
				m.profile[pfPublicKeyFile].Placeholder = "set: " + fp + " (type a path to replace)"
			}
		} else {
			m.profile[pfOIDCIssuer].SetValue(s.OIDCIssuer)
			m.profile[pfSAN].SetValue(s.SAN)
			if s.SANRegexp != "" {
				m.profile[pfSAN].SetValue("re:" + s.SANRegexp)
			}
		}
	}
	m.profile[pfOIDCIssuer].Placeholder = "e.g. https://token.actions.githubusercontent.com"
	m.profile[pfSAN].Placeholder = "exact SAN, or re:PATTERN"
}

// profileEntry reports which list the focused profile field edits.
func (m *Model) profileEntry() (builders, signers bool) {
	switch m.profileFocus {
	case pfBuilderID, pfMode:
		return true, false
	case pfPublicKeyFile, pfOIDCIssuer, pfSAN:
		return false, true
	}
	return false, false
}

// nextEntry moves the builder or signer fields to the next entry of their
// list, and past the last one to a new, empty entry.
func (m *Model) nextEntry() {
	m.commitProfileField()
	focus := m.profileFocus
	switch b, s := m.profileEntry(); {
	case b:
		m.builderSel = (m.builderSel + 1) % (len(m.doc.Profile.Builders) + 1)
		focus = pfBuilderID
	case s:
		m.signerSel = (m.signerSel + 1) % (len(m.doc.Profile.Signers) + 1)
		focus = pfPublicKeyFile
		if m.signerSel < len(m.doc.Profile.Signers) && m.doc.Profile.Signers[m.signerSel].Sigstore() {
			focus = pfOIDCIssuer
		}
	}
	m.loadProfileFields()
	m.setProfileFocus(focus)
}

// removeEntry deletes the builder or signer the fields show.
func (m *Model) removeEntry() {
	p := m.doc.Profile
	switch b, s := m.profileEntry(); {
	case b && m.builderSel < len(p.Builders):
		p.Builders = append(append([]questionnaire.Builder(nil), p.Builders[:m.builderSel]...), p.Builders[m.builderSel+1:]...)
	case s && m.signerSel < len(p.Signers):
		p.Signers = append(append([]questionnaire.Signer(nil), p.Signers[:m.signerSel]...), p.Signers[m.signerSel+1:]...)
	default:
		return
	}
	m.doc.Profile = p
	m.persist()
	m.loadProfileFields()
	m.setProfileFocus(m.profileFocus)
}

// builderFrom reads a builder field: an ID, or re:PATTERN.
func builderField(v string) questionnaire.Builder {
	if p, ok := strings.CutPrefix(v, "re:"); ok {
		return questionnaire.Builder{IDRegexp: p}
	}
	return questionnaire.Builder{ID: v}
}

func (m *Model) setProfileFocus(f int) tea.Cmd {
	m.profileFocus = f
	return focusOnly(m.profile[:], f)
}

// focusOnly focuses inputs[f], with the cursor at the end, and blurs the
// others.
func focusOnly(inputs []textinput.Model, f int) tea.Cmd {
	for i := range inputs {
		inputs[i].Blur()
	}
	if f < 0 {
		return nil
	}
	inputs[f].CursorEnd()
	return inputs[f].Focus()
}

// commitProfileField applies the focused profile field to the document.
func (m *Model) commitProfileField() {
	if m.screen != screenProfile {
		return
	}
	p := m.doc.Profile
	p.Builders = append([]questionnaire.Builder(nil), p.Builders...)
	p.Signers = append([]questionnaire.Signer(nil), p.Signers...)
	v := strings.TrimSpace(m.profile[m.profileFocus].Value())
	setSigner := func(sg questionnaire.Signer) {
		if m.signerSel < len(p.Signers) {
			p.Signers[m.signerSel] = sg
		} else {
			p.Signers = append(p.Signers, sg)
		}
	}
	switch m.profileFocus {
	case pfOrganization:
		p.Organization = v
	case pfBuilderID:
		if v == "" {
			return // an entry is removed with ctrl+x, never by clearing it
		}
		b := builderField(v)
		if err := b.Validate(); err != nil {
			m.status = "builder ID not saved: " + err.Error()
			return
		}
		if m.builderSel < len(p.Builders) {
			b.Mode = p.Builders[m.builderSel].Mode
			p.Builders[m.builderSel] = b
		} else {
			b.Mode = strings.TrimSpace(m.profile[pfMode].Value())
			p.Builders = append(p.Builders, b)
		}
	case pfMode:
		if m.builderSel >= len(p.Builders) {
			if v != "" {
				m.status = "enter the builder ID to save the mode"
			}
			return
		}
		p.Builders[m.builderSel].Mode = v
	case pfLevel:
		if v == "" {
			p.ClaimedLevel = nil
			break
		}
		l, err := questionnaire.ParseLevel(v)
		if err != nil {
			m.status = "level not saved: " + err.Error()
			return
		}
		p.ClaimedLevel = &l
	case pfPublicKeyFile:
		if v == "" {
			return
		}
		b, err := limitio.ReadFile(v, 64<<10)
		if err != nil {
			m.status = "public key not saved: " + err.Error()
			return
		}
		sg := questionnaire.Signer{PublicKey: string(b)}
		if err := sg.Validate(); err != nil {
			m.status = "public key not saved: " + err.Error()
			return
		}
		setSigner(sg)
		m.profile[pfPublicKeyFile].SetValue("")
	case pfOIDCIssuer, pfSAN:
		iss := strings.TrimSpace(m.profile[pfOIDCIssuer].Value())
		san := strings.TrimSpace(m.profile[pfSAN].Value())
		if iss == "" || san == "" {
			return // saved once both are given
		}
		sg := questionnaire.Signer{OIDCIssuer: iss, SAN: san}
		if re, ok := strings.CutPrefix(san, "re:"); ok {
			sg = questionnaire.Signer{OIDCIssuer: iss, SANRegexp: re}
		}
		if err := sg.Validate(); err != nil {
			m.status = "Sigstore identity not saved: " + err.Error()
			return
		}
		setSigner(sg)
	}
	old := m.doc.Profile
	m.doc.Profile = p
	if err := m.doc.Validate(); err != nil {
		m.doc.Profile = old
		m.status = "not saved: " + err.Error()
		return
	}
	m.persist()
	m.loadProfileFields()
}

func (m *Model) updateProfile(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "tab", "down", "enter":
		m.commitProfileField()
		if m.profileFocus+1 == numProfileFields {
			if msg.String() == "enter" {
				m.gotoQuestion(0)
				return nil
			}
			return m.setProfileFocus(0)
		}
		return m.setProfileFocus(m.profileFocus + 1)
	case "shift+tab", "up":
		m.commitProfileField()
		return m.setProfileFocus((m.profileFocus + numProfileFields - 1) % numProfileFields)
	case "pgdown", "ctrl+n":
		m.commitProfileField()
		m.gotoQuestion(0)
		return nil
	case "ctrl+o", "esc":
		m.openOverview()
		return nil
	case "ctrl+t":
		m.nextEntry()
		return nil
	case "ctrl+x":
		m.removeEntry()
		return nil
	}
	var cmd tea.Cmd
	m.profile[m.profileFocus], cmd = m.profile[m.profileFocus].Update(msg)
	return cmd
}

// ---- signing ----

type signDoneMsg struct {
	summary string
	err     error
}

// signFields is how many sign fields are shown: the builder choice only
// when the profile lists several builders.
func (m *Model) signFields() int {
	if len(m.doc.Profile.Builders) > 1 {
		return numSignFields
	}
	return sfBuilder
}

func (m *Model) setSignFocus(f int) tea.Cmd {
	m.signFocus = f
	return focusOnly(m.sign[:], f)
}

func (m *Model) updateSign(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.sign[sfPassword].SetValue("")
		m.screen = screenReview
		return nil
	case "tab", "down":
		return m.setSignFocus((m.signFocus + 1) % m.signFields())
	case "shift+tab", "up":
		return m.setSignFocus((m.signFocus + m.signFields() - 1) % m.signFields())
	case "enter":
		if m.signFocus+1 < m.signFields() {
			return m.setSignFocus(m.signFocus + 1)
		}
		req := SignRequest{
			KeyPath:  strings.TrimSpace(m.sign[sfKey].Value()),
			Password: []byte(m.sign[sfPassword].Value()),
			ValidFor: strings.TrimSpace(m.sign[sfValidFor].Value()),
			Output:   strings.TrimSpace(m.sign[sfOutput].Value()),
		}
		if bs := m.doc.Profile.Builders; len(bs) > 1 {
			n, err := strconv.Atoi(strings.TrimSpace(m.sign[sfBuilder].Value()))
			if err != nil || n < 1 || n > len(bs) {
				m.signErr = fmt.Errorf("builder: expected a number from 1 to %d", len(bs))
				return m.setSignFocus(sfBuilder)
			}
			req.BuilderID = bs[n-1].Name()
		}
		// The password is not kept in the form once used.
		m.sign[sfPassword].SetValue("")
		m.signResult, m.signErr = "", nil
		doc, sign := m.doc, m.opts.Sign
		m.status = "signing..."
		return func() tea.Msg {
			s, err := sign(context.Background(), doc, req)
			return signDoneMsg{summary: s, err: err}
		}
	}
	var cmd tea.Cmd
	m.sign[m.signFocus], cmd = m.sign[m.signFocus].Update(msg)
	return cmd
}

// editingText reports whether a text field has the keyboard.
func (m *Model) editingText() bool {
	switch m.screen {
	case screenProfile, screenSign:
		return true
	case screenQuestion:
		return m.focus != focusChoices && !m.helpOpen
	}
	return false
}

// splitKeys splits typed runes that arrived in one read (fast typing, or
// keys batched by a slow link) into one key each, so that "a" then "n" is
// two commands and not an unknown key "an". It returns nil for anything
// else, pastes included.
func splitKeys(msg tea.KeyMsg) []tea.KeyMsg {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste {
		return nil
	}
	out := make([]tea.KeyMsg, len(msg.Runes))
	for i, r := range msg.Runes {
		out[i] = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
	}
	return out
}

// eachKey applies keys one at a time, as if typed one by one, stopping
// once one of them quits.
func eachKey(m interface {
	tea.Model
	done() bool
}, keys []tea.KeyMsg) tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		_, c := m.Update(k)
		cmds = append(cmds, c)
		if m.done() {
			break
		}
	}
	return tea.Batch(cmds...)
}

// done reports whether the user quit.
func (s *session) done() bool { return s.quitting }
