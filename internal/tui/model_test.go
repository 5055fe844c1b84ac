package tui

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hallmark-build/hallmark/questionnaire"
)

var today = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func newModel(t *testing.T, doc *questionnaire.Document) (*Model, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "answers.json")
	if doc == nil {
		doc = questionnaire.NewDocument(questionnaire.Default())
	}
	m := New(Options{Path: path, Doc: doc, Now: func() time.Time { return today }})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return m, path
}

// keyMsg turns a key name, or text to type, into a key message.
func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "ctrl+t":
		return tea.KeyMsg{Type: tea.KeyCtrlT}
	case "ctrl+x":
		return tea.KeyMsg{Type: tea.KeyCtrlX}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

func key(m tea.Model, keys ...string) {
	for _, k := range keys {
		m.Update(keyMsg(k))
	}
}

func saved(t *testing.T, path string) *questionnaire.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestWelcomeThenProfileIsSavedFieldByField(t *testing.T) {
	m, path := newModel(t, nil)
	if !strings.Contains(m.View(), "Welcome") {
		t.Fatal("new document does not start on the welcome screen")
	}
	key(m, "enter", "Example Co", "tab", "https://ci.example/builder@v1", "tab", "VM per build", "tab", "3", "tab")
	doc := saved(t, path)
	if doc.Profile.Organization != "Example Co" || len(doc.Profile.Builders) != 1 ||
		doc.Profile.Builders[0].ID != "https://ci.example/builder@v1" || doc.Profile.Builders[0].Mode != "VM per build" {
		t.Fatalf("profile %+v", doc.Profile)
	}
	if doc.Profile.ClaimedLevel == nil || *doc.Profile.ClaimedLevel != 3 {
		t.Fatal("claimed level not saved")
	}
	// An invalid builder id is not saved and says why.
	key(m, "shift+tab", "shift+tab", "shift+tab")
	for range len("https://ci.example/builder@v1") {
		m.Update(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	key(m, "not a uri", "tab")
	if !strings.Contains(m.View(), "builder ID not saved") {
		t.Fatalf("no error shown:\n%s", m.View())
	}
	if saved(t, path).Profile.Builders[0].ID != "https://ci.example/builder@v1" {
		t.Fatal("invalid builder id overwrote the saved one")
	}
}

func TestAnswerIsSavedAsSoonAsGiven(t *testing.T) {
	m, path := newModel(t, nil)
	key(m, "enter", "pgdown") // welcome -> profile -> first question
	if m.Current() != "platform" {
		t.Fatalf("on %q, want platform", m.Current())
	}
	key(m, "1") // choose "hosted"
	doc := saved(t, path)
	// The choice is saved at once; it counts as reviewed only when the user
	// confirms it by moving on.
	if doc.Answers["platform"].Choice != "hosted" || doc.Answers["platform"].Reviewed != "" {
		t.Fatalf("after choosing: %+v", doc.Answers["platform"])
	}
	// Typing is not saved until the field is left...
	key(m, "All builds run on our service")
	if saved(t, path).Answers["platform"].Explanation != "" {
		t.Fatal("explanation saved before the field was left")
	}
	// ...and is saved when it is.
	key(m, "enter", "https://docs.example/a, doc:runbook-v2", "enter")
	a := saved(t, path).Answers["platform"]
	if a.Explanation != "All builds run on our service" || len(a.Evidence) != 2 || a.Evidence[1] != "doc:runbook-v2" || a.Reviewed != "" {
		t.Fatalf("after fields: %+v", a)
	}
	key(m, "pgdown") // moving on confirms the answer
	if a := saved(t, path).Answers["platform"]; a.Reviewed != "2026-11-21" {
		t.Fatalf("after moving on: %+v", a)
	}
	key(m, "pgup")
	// The live panel follows: HO is met with evidence.
	if r, _ := m.Assessment().Requirement("HO"); r.Status != "met" {
		t.Fatalf("HO %s", r.Status)
	}
	if !strings.Contains(m.View(), "HO    met") {
		t.Fatalf("panel does not show HO met:\n%s", m.View())
	}
}

func TestCtrlCSavesTheFieldBeingEdited(t *testing.T) {
	m, path := newModel(t, nil)
	key(m, "enter", "pgdown", "2", "typed before ctrl-c")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	if cmd == nil {
		t.Fatal("ctrl+c did not quit")
	}
	if got := saved(t, path).Answers["platform"]; got.Choice != "workstation" || got.Explanation != "typed before ctrl-c" {
		t.Fatalf("after ctrl+c: %+v", got)
	}
}

func TestNavigationSkipAndResume(t *testing.T) {
	m, path := newModel(t, nil)
	key(m, "enter", "pgdown")
	key(m, "1", "esc", "n") // platform answered, go on
	key(m, "n")             // skip provenance-format
	key(m, "3", "esc", "n") // signing = sigstore-keyless
	if m.Current() != "EP1" {
		t.Fatalf("on %s, want EP1", m.Current())
	}
	key(m, "p", "p")
	if m.Current() != "provenance-format" {
		t.Fatalf("back twice: on %s", m.Current())
	}
	key(m, "q")
	// Resume on the same file: the first unanswered question.
	m2 := New(Options{Path: path, Doc: saved(t, path), Now: func() time.Time { return today }})
	if m2.Current() != "provenance-format" {
		t.Fatalf("resumed on %q, want provenance-format", m2.Current())
	}
	if !strings.Contains(m2.View(), "Answered 2 of 43") {
		t.Fatalf("progress not shown:\n%s", m2.View())
	}
}

func TestOverviewJumpsToComponent(t *testing.T) {
	m, _ := newModel(t, nil)
	key(m, "enter", "pgdown", "o")
	v := m.View()
	for _, want := range []string{"Overview", "External parameters", "Cache", " 0/ 3 answered", "Review"} {
		if !strings.Contains(v, want) {
			t.Fatalf("overview lacks %q:\n%s", want, v)
		}
	}
	key(m, "down", "down", "down", "down", "enter") // profile, ext params, control plane, build env, cache
	if m.Current() != "CA1" {
		t.Fatalf("jumped to %q, want CA1", m.Current())
	}
}

func TestReviewScreenShowsGapsAndSigningHint(t *testing.T) {
	b, _ := os.ReadFile("../../testdata/answers/l2-reused-runners.json")
	doc, _ := questionnaire.ParseAnswers(b)
	m, _ := newModel(t, doc)
	v := m.View()
	for _, want := range []string{"Your answers support Build L2", "To reach Build L3", "IS3", "hallmark attest"} {
		if !strings.Contains(v, want) {
			t.Fatalf("review lacks %q:\n%s", want, v)
		}
	}
}

func TestViewFits80x24(t *testing.T) {
	m, _ := newModel(t, nil)
	key(m, "enter", "pgdown")
	for i := 0; i < len(m.order); i++ {
		v := m.View()
		lines := strings.Split(v, "\n")
		if len(lines) != 24 {
			t.Fatalf("%s: %d lines", m.Current(), len(lines))
		}
		for _, l := range lines {
			if w := len([]rune(stripStyle(l))); w > 80 {
				t.Fatalf("%s: line of %d cells: %q", m.Current(), w, l)
			}
		}
		key(m, "n")
	}
}

func TestSaveFailureIsShown(t *testing.T) {
	doc := questionnaire.NewDocument(questionnaire.Default())
	m := New(Options{Path: "x.json", Doc: doc, Now: func() time.Time { return today },
		Save: func(*questionnaire.Document) error { return errors.New("disk full") }})
	key(m, "enter", "pgdown", "1")
	if m.Err() == nil || !strings.Contains(m.View(), "NOT SAVED: disk full") {
		t.Fatalf("save error not surfaced:\n%s", m.View())
	}
}

func TestSigningStep(t *testing.T) {
	b, _ := os.ReadFile("../../testdata/answers/l3-hosted.json")
	doc, _ := questionnaire.ParseAnswers(b)
	var got SignRequest
	m := New(Options{Path: "a.json", Doc: doc, Now: func() time.Time { return today },
		Save: func(*questionnaire.Document) error { return nil },
		Sign: func(_ context.Context, _ *questionnaire.Document, r SignRequest) (string, error) {
			got = r
			return "Signed: out.json", nil
		}})
	key(m, "s", "op.key", "enter", "pw", "enter", "enter")
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil {
		t.Fatal("enter on the last field did not sign")
	}
	m.Update(cmd())
	if got.KeyPath != "op.key" || string(got.Password) != "pw" || got.ValidFor != "90d" || got.Output != "builder.capability.json" {
		t.Fatalf("request %+v", got)
	}
	v := m.View()
	if !strings.Contains(v, "Signed: out.json") {
		t.Fatalf("result not shown:\n%s", v)
	}
	if strings.Contains(v, "pw") && strings.Contains(v, "**") {
		t.Fatal("password field still holds the password")
	}
	if m.sign[sfPassword].Value() != "" {
		t.Fatal("password kept in the form after signing")
	}
}

func TestAccessibleMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.json")
	doc := questionnaire.NewDocument(questionnaire.Default())
	// Profile: organisation, two builders (one a pattern), a bad builder
	// id, signers (a key file, a Sigstore SAN regexp), level; then
	// platform=1 with explanation and evidence; provenance-format skipped;
	// signing: quit.
	in := strings.Join([]string{
		"Example Co",
		"https://ci.example/b@v1", "VM per build",
		"not a uri",
		"re:https://ci\\.example/r@v[0-9]+", "release builder",
		"",
		"1", "../../testdata/keys/provenance-signer.pub",
		"3", "https://token.actions.githubusercontent.com", "https://github\\.com/o/r/\\.github/workflows/rel\\.yml@refs/tags/v.*",
		"4",
		"2",
		"1", "All builds on the service", "https://docs.example/a, doc:runbook",
		"4",
		"8",
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := RunAccessible(Options{Path: path, Doc: doc, Now: func() time.Time { return today }}, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	d := saved(t, path)
	if d.Profile.Organization != "Example Co" || d.Profile.Builders[0].ID != "https://ci.example/b@v1" || *d.Profile.ClaimedLevel != 2 {
		t.Fatalf("profile %+v", d.Profile)
	}
	if len(d.Profile.Builders) != 2 || d.Profile.Builders[1].IDRegexp != `https://ci\.example/r@v[0-9]+` || d.Profile.Builders[1].Mode != "release builder" {
		t.Fatalf("builders %+v", d.Profile.Builders)
	}
	if len(d.Profile.Signers) != 2 || d.Profile.Signers[0].PublicKey == "" || d.Profile.Signers[1].SANRegexp == "" {
		t.Fatalf("signers %+v", d.Profile.Signers)
	}
	a := d.Answers["platform"]
	if a.Choice != "hosted" || a.Explanation != "All builds on the service" || len(a.Evidence) != 2 || a.Reviewed != "2026-11-21" {
		t.Fatalf("platform %+v", a)
	}
	if d.Answers["provenance-format"].Answered() || d.Answers["signing"].Answered() {
		t.Fatalf("skipped questions answered: %+v", d.Answers)
	}
	s := out.String()
	for _, want := range []string{"Question platform", "1. Hosted build platform", "Component 1 of 6", "Level the answers support", "hallmark attest", "Not accepted: expected an absolute URI"} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestAccessibleModeStopsAtEndOfInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.json")
	b, _ := os.ReadFile("../../testdata/answers/l1-workstation.json")
	doc, _ := questionnaire.ParseAnswers(b)
	// One answer (EP1 = 1) with an invalid number first, then input ends
	// in the middle of the next question's prompt.
	in := "9\n1\nexpl\n\n12"
	var out bytes.Buffer
	if err := RunAccessible(Options{Path: path, Doc: doc, Now: func() time.Time { return today }}, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	d := saved(t, path)
	if d.Answers["EP1"].Choice != "parsed-recorded" || d.Answers["EP1"].Explanation != "expl" {
		t.Fatalf("EP1 %+v", d.Answers["EP1"])
	}
	if d.Answers["EP2"].Answered() {
		t.Fatal("EP2 answered from an invalid, truncated line")
	}
}

// An empty line never picks a choice: it asks again. Evidence that is not
// evidence is refused with what is accepted, and asked again.
func TestAccessibleEmptyLineNeverPicks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.json")
	b, _ := os.ReadFile("../../testdata/answers/l1-workstation.json")
	doc, _ := questionnaire.ParseAnswers(b)
	in := "\n\n  \n2\n\nTBD\ndoc:params-table\n"
	var out bytes.Buffer
	if err := RunAccessible(Options{Path: path, Doc: doc, Now: func() time.Time { return today }}, strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	d := saved(t, path)
	if a := d.Answers["EP1"]; a.Choice != "passed-through-recorded" || len(a.Evidence) != 1 || a.Evidence[0] != "doc:params-table" {
		t.Fatalf("EP1 %+v", a)
	}
	if d.Answers["EP2"].Answered() {
		t.Fatal("an empty line answered EP2")
	}
	s := out.String()
	if strings.Count(s, "Nothing chosen.") != 3 || !strings.Contains(s, `Not accepted: invalid evidence: "TBD" is not evidence`) {
		t.Fatalf("output:\n%s", s)
	}
}

// At 80x24 long questions drop their help from the question screen, so ?
// must always show it in full.
func TestHelpAlwaysReachable(t *testing.T) {
	m, _ := newModel(t, nil)
	key(m, "enter", "pgdown")
	for m.Current() != "EP1" {
		key(m, "n")
	}
	qu, _ := m.q.Question("EP1")
	key(m, "?")
	v := stripStyle(m.View())
	flat := strings.Join(strings.Fields(v), " ")
	for _, want := range append([]string{qu.Help}, qu.Examples...) {
		if !strings.Contains(flat, strings.Join(strings.Fields(want), " ")) {
			t.Fatalf("help screen lacks %q:\n%s", want, v)
		}
	}
	if !strings.Contains(flat, "UF-d (External parameters fully enumerated)") {
		t.Fatalf("help screen lacks the requirements:\n%s", v)
	}
	key(m, "x") // any key closes it, and does nothing else
	if m.helpOpen || m.doc.Answers["EP1"].Choice != "" || m.Current() != "EP1" {
		t.Fatal("closing the help changed the answer or the question")
	}
}

// The full-screen profile edits several builders and signers, regexp forms
// included; signing with several builders asks which one.
func TestProfileSeveralBuildersAndSigners(t *testing.T) {
	var got SignRequest
	m, path := newModel(t, nil)
	m.opts.Sign = func(_ context.Context, _ *questionnaire.Document, r SignRequest) (string, error) {
		got = r
		return "signed", nil
	}
	key(m, "enter", "Example Co", "tab", "https://ci.example/a@v1", "tab", "first", "ctrl+t")
	if m.profileFocus != pfBuilderID {
		t.Fatalf("ctrl+t left the focus on field %d", m.profileFocus)
	}
	key(m, `re:https://ci\.example/b@v[0-9]+`, "tab", "release", "tab", "3", "tab",
		"../../testdata/keys/provenance-signer.pub", "tab", "ctrl+t", "tab",
		"https://token.actions.githubusercontent.com", "tab", `re:https://github\.com/o/r/.*`, "tab")
	p := saved(t, path).Profile
	if len(p.Builders) != 2 || p.Builders[0].Mode != "first" || p.Builders[1].IDRegexp != `https://ci\.example/b@v[0-9]+` || p.Builders[1].Mode != "release" {
		t.Fatalf("builders %+v", p.Builders)
	}
	if len(p.Signers) != 2 || p.Signers[0].PublicKey == "" || p.Signers[1].SANRegexp != `https://github\.com/o/r/.*` {
		t.Fatalf("signers %+v", p.Signers)
	}
	// ctrl+x removes the builder the fields show.
	key(m, "tab", "ctrl+t", "ctrl+t", "ctrl+x") // builder 2, a new one, builder 1: removed
	if p := saved(t, path).Profile; len(p.Builders) != 1 || p.Builders[0].IDRegexp == "" {
		t.Fatalf("after removing builder 1: %+v", p.Builders)
	}
	key(m, "ctrl+x") // restore two builders for the signing step
	m.doc.Profile.Builders = []questionnaire.Builder{{ID: "https://ci.example/a@v1"}, {IDRegexp: `https://ci\.example/b@v[0-9]+`}}
	m.screen = screenSign
	m.setSignFocus(sfKey)
	if !strings.Contains(m.View(), "2. https://ci") {
		t.Fatalf("sign screen does not list the builders:\n%s", m.View())
	}
	key(m, "k.key", "tab", "secret-pw", "tab", "tab", "tab")
	if v := m.View(); strings.Contains(v, "secret-pw") || !strings.Contains(v, "********") {
		t.Fatalf("the password shows on the sign screen:\n%s", v)
	}
	key(m, "7", "enter")
	if m.signErr == nil || !strings.Contains(m.signErr.Error(), "from 1 to 2") {
		t.Fatalf("builder 7 accepted: %v", m.signErr)
	}
	m.sign[sfBuilder].SetValue("2")
	cmd := m.updateSign(keyMsg("enter"))
	if cmd == nil {
		t.Fatal("no signing command")
	}
	cmd()
	if got.BuilderID != `https://ci\.example/b@v[0-9]+` {
		t.Fatalf("signed for %q", got.BuilderID)
	}
}

// leftColumn is the main column of a screen with the requirements panel,
// styles removed.
func leftColumn(v string) string {
	var b strings.Builder
	for _, l := range strings.Split(stripStyle(v), "\n") {
		l, _, _ = strings.Cut(l, "│")
		b.WriteString(l + "\n")
	}
	return b.String()
}

// squash removes all white space, so text wrapped anywhere compares equal
// to the text it came from.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

func loadFile(t *testing.T, rel string) *questionnaire.Document {
	t.Helper()
	b, err := os.ReadFile("../../testdata/" + rel)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// At 80x24, with long explanations and evidence filling the fields, every
// choice label of every question is on screen in full: the fields shrink
// first, so choices that differ only at the end of their label (split
// choices) stay distinguishable. Nothing is wider than 80 cells.
func TestEveryChoiceLabelReadableAt80x24(t *testing.T) {
	m, _ := newModel(t, loadFile(t, "answers/l3-hosted.json"))
	for i, qu := range m.order {
		m.gotoQuestion(i)
		v := m.View()
		for _, l := range strings.Split(v, "\n") {
			if w := len([]rune(stripStyle(l))); w > 80 {
				t.Fatalf("%s: line of %d cells: %q", qu.ID, w, l)
			}
		}
		left := squash(leftColumn(v))
		for _, c := range qu.Choices {
			if !strings.Contains(left, squash(c.Label)) {
				t.Errorf("%s: choice %q not shown in full:\n%s", qu.ID, c.Label, leftColumn(v))
			}
		}
	}
}

// An answer whose choice a newer questionnaire split is never mapped: the
// TUI opens on it, says to answer again, and the new answer clears the mark
// and saves the document as the current questionnaire.
func TestSplitChoiceNeedsNewAnswer(t *testing.T) {
	doc := loadFile(t, "answers/v1/ce1-explicit-inputs.json")
	m, path := newModel(t, doc)
	if m.Current() != "CE1" {
		t.Fatalf("opened on %q, want CE1 (needs a new answer)", m.Current())
	}
	v := leftColumn(m.View())
	if !strings.Contains(squash(v), squash(`Answer again: your choice "explicit-inputs" was split in questionnaire slsa-build-1.0/2.`)) {
		t.Fatalf("no re-answer notice:\n%s", v)
	}
	key(m, "o")
	if !strings.Contains(m.View(), "1 to redo") {
		t.Fatalf("overview does not count the answer to redo:\n%s", m.View())
	}
	key(m, "esc", "1", "esc", "n")
	d := saved(t, path)
	if a := d.Answers["CE1"]; a.Choice != "explicit-inputs-no-signing" || a.NeedsReanswer != "" || a.Reviewed != "2026-11-21" {
		t.Fatalf("CE1 %+v", a)
	}
	if d.Questionnaire != questionnaire.DefaultVersion || len(d.NeedsReanswer()) != 0 {
		t.Fatalf("saved as %s, needs re-answer %v", d.Questionnaire, d.NeedsReanswer())
	}
	if strings.Contains(m.View(), "Answer again") {
		t.Fatal("the notice stays after the new answer")
	}
}

// A field the document refuses (evidence that is not evidence) is not
// saved, and the message saying what is accepted is shown in full, wrapped
// rather than cut at the screen edge.
func TestRefusedFieldMessageShownInFull(t *testing.T) {
	m, path := newModel(t, nil)
	key(m, "enter", "pgdown", "1", "tab", "TBD", "tab")
	if len(saved(t, path).Answers["platform"].Evidence) != 0 {
		t.Fatal("TBD saved as evidence")
	}
	v := m.View()
	want := `evidence[0]: invalid evidence: "TBD" is not evidence: expected ` + questionnaire.EvidenceForms
	if !strings.Contains(squash(stripStyle(v)), squash(want)) {
		t.Fatalf("message not shown in full:\n%s", v)
	}
	lines := strings.Split(v, "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if w := len([]rune(stripStyle(l))); w > 80 {
			t.Fatalf("line of %d cells: %q", w, l)
		}
	}
}

// Keys that arrive in one read (fast typing, a slow link) act one by one:
// "1" then "n" chooses and moves on rather than being ignored as "1n".
func TestBatchedKeysActOneByOne(t *testing.T) {
	m, path := newModel(t, nil)
	key(m, "enter", "pgdown", "1", "esc", "xn")
	if m.Current() != "provenance-format" || saved(t, path).Answers["platform"].Answered() {
		t.Fatalf("on %q with platform %+v; want the choice cleared and the next question", m.Current(), saved(t, path).Answers["platform"])
	}
	key(m, "pq")
	if m.Current() != "platform" || !m.quitting {
		t.Fatalf("on %q, quitting %v", m.Current(), m.quitting)
	}
}

// The review screen decides as hallmark check and hallmark attest do, and
// shows every reason in full: the answers that contradict each other, and
// best-practice findings that block signing.
func TestReviewScreenDecidesAsAttest(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"answers/l3-hosted.json", "hallmark attest would sign Build L3."},
		{"answers/l3-bp-short.json", `hallmark attest would refuse: best-practice answers fall short: AD5 (answered "No plan")`},
		{"answers/rules/sigstore-signer-with-key-signing.json", "profile.signers and signing disagree: The profile pins a Sigstore (keyless) signer, but the signing answer says provenance is signed with a key."},
	} {
		m, _ := newModel(t, loadFile(t, tc.file))
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 60})
		if m.screen != screenReview {
			t.Fatalf("%s: not on the review screen", tc.file)
		}
		if v := stripStyle(m.View()); !strings.Contains(squash(v), squash(tc.want)) {
			t.Errorf("%s: review lacks %q:\n%s", tc.file, tc.want, v)
		}
	}
}

// Control characters are refused when answers are loaded (newline and tab
// excepted); should one reach the model anyway, no screen shows it raw,
// whether the field is being edited or not.
func TestControlCharactersNeverReachTheScreen(t *testing.T) {
	evil := "ok\x1b[2J\x1b]0;pwned\x07\u202eevil\x00end"
	m, _ := newModel(t, loadFile(t, "answers/l3-hosted.json"))
	a := m.doc.Answers["IT1"]
	a.Explanation, a.Evidence = evil, []string{evil}
	m.doc.Answers["IT1"] = a
	m.doc.Profile.Organization = evil
	m.doc.Profile.Builders[0].Mode = evil
	for i, qu := range m.order {
		if qu.ID == "IT1" {
			m.gotoQuestion(i)
		}
	}
	check := func(where string) {
		t.Helper()
		v := m.View()
		for _, bad := range []string{"\x1b[2J", "\x1b]0;", "\x07", "\u202e", "\x00"} {
			if strings.Contains(v, bad) {
				t.Fatalf("%s: the screen carries %q", where, bad)
			}
		}
	}
	check("question")
	key(m, "tab")
	check("explanation being edited")
	key(m, "tab")
	check("evidence being edited")
	m.openProfile()
	check("profile")
	key(m, "tab", "tab")
	check("builder mode being edited")
}

// A text field being edited scrolls so that the caret stays visible, at
// the end while typing and at the start after home; it never widens the
// screen past 80 columns. Left alone, the text wraps under its label.
func TestCaretStaysVisible(t *testing.T) {
	m, _ := newModel(t, nil)
	long := "START " + strings.Repeat("the runners are recreated for every job ", 6) + "END"
	key(m, "enter", "pgdown", "1", long)
	fits := func() string {
		t.Helper()
		v := m.View()
		for _, l := range strings.Split(v, "\n") {
			if w := len([]rune(stripStyle(l))); w > 80 {
				t.Fatalf("line of %d cells: %q", w, l)
			}
		}
		return leftColumn(v)
	}
	if v := fits(); !strings.Contains(v, "job END") || strings.Contains(v, "START") {
		t.Fatalf("typing at the end: the end is not in view:\n%s", v)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyHome})
	if v := fits(); !strings.Contains(v, "START") || strings.Contains(v, "END") {
		t.Fatalf("after home: the start is not in view:\n%s", v)
	}
	key(m, "tab") // leave the field: it wraps under its label, start and end
	if v := fits(); !strings.Contains(v, "START") || !strings.Contains(squash(v), squash("the runners are recreated for")) {
		t.Fatalf("left alone: not wrapped under the label:\n%s", v)
	}
}

// Every screen of both TUIs is exactly 24 lines of at most 80 cells at
// 80x24, so the key bar is one line and visible.
func TestEveryScreenFits80x24(t *testing.T) {
	fits := func(where, v string) {
		t.Helper()
		lines := strings.Split(v, "\n")
		if len(lines) != 24 {
			t.Fatalf("%s: %d lines:\n%s", where, len(lines), v)
		}
		for _, l := range lines {
			if w := len([]rune(stripStyle(l))); w > 80 {
				t.Fatalf("%s: line of %d cells: %q", where, w, l)
			}
		}
		if strings.TrimSpace(stripStyle(lines[23])) == "" {
			t.Fatalf("%s: no key bar", where)
		}
	}
	m, _ := newModel(t, nil)
	m.opts.Sign = func(context.Context, *questionnaire.Document, SignRequest) (string, error) { return "", nil }
	fits("welcome", m.View())
	key(m, "enter")
	fits("profile", m.View())
	key(m, "pgdown")
	fits("question", m.View())
	key(m, "1")
	fits("question, editing", m.View())
	key(m, "esc", "?")
	fits("help", m.View())
	key(m, "x", "o")
	fits("overview", m.View())
	key(m, "esc", "r")
	fits("review", m.View())
	key(m, "s")
	fits("sign", m.View())

	r, _, _ := newReviewModel(t)
	fits("review answer", r.View())
	key(r, "tab")
	fits("review comment", r.View())
	key(r, "esc", "v")
	fits("review whole answer", r.View())
	key(r, "x", "o")
	fits("review overview", r.View())
}

// Answers that contradict each other: the live panel marks the requirement
// CONFLICT and the overview names the answers and the rule's message.
func TestInconsistentAnswersShown(t *testing.T) {
	m, _ := newModel(t, loadFile(t, "answers/rules/cache-without-population.json"))
	for i, qu := range m.order {
		if qu.ID == "CA2" {
			m.gotoQuestion(i)
		}
	}
	if v := stripStyle(m.View()); !strings.Contains(v, "IS4   CONFLICT") {
		t.Fatalf("panel does not mark IS4:\n%s", v)
	}
	key(m, "o")
	v := stripStyle(m.View())
	for _, want := range []string{"Answers that contradict each other:", "CA1 and CA2: CA1 says builds have a cache; CA2 says there is none to populate."} {
		if !strings.Contains(squash(leftColumn(v)), squash(want)) {
			t.Fatalf("overview lacks %q:\n%s", want, v)
		}
	}
}

// Accessible mode on answers whose choice was split: it says which need a
// new answer, asks them (an empty line still picks nothing), keeps the
// explanation on an empty line, and saves the current questionnaire.
func TestAccessibleAsksSplitChoicesAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.json")
	doc := loadFile(t, "answers/v1/ce1-explicit-inputs.json")
	var out bytes.Buffer
	if err := RunAccessible(Options{Path: path, Doc: doc, Now: func() time.Time { return today }}, strings.NewReader("\n1\n\n\n"), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"These answers need a new answer because their choice was split in questionnaire slsa-build-1.0/2: CE1.",
		`Your earlier answer "explicit-inputs" was split into more precise choices`, "Nothing chosen."} {
		if !strings.Contains(s, want) {
			t.Fatalf("output lacks %q:\n%s", want, s)
		}
	}
	d := saved(t, path)
	if a := d.Answers["CE1"]; a.Choice != "explicit-inputs-no-signing" || a.NeedsReanswer != "" || a.Explanation != doc.Answers["CE1"].Explanation || a.Explanation == "" {
		t.Fatalf("CE1 %+v", a)
	}
	if d.Questionnaire != questionnaire.DefaultVersion || len(d.NeedsReanswer()) != 0 {
		t.Fatalf("saved as %s, needs re-answer %v", d.Questionnaire, d.NeedsReanswer())
	}
}
