package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hallmark-build/hallmark/questionnaire"
)

func newReviewModel(t *testing.T) (*ReviewModel, *questionnaire.Document, string) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/answers/l3-hosted.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := questionnaire.ParseAnswers(b)
	rv, _ := questionnaire.NewReview(doc, "l3-hosted.json")
	path := filepath.Join(t.TempDir(), "review.json")
	m := NewReview(ReviewOptions{AnswersPath: "l3-hosted.json", ReviewPath: path, Doc: doc, Review: rv})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return m, doc, path
}

func savedReview(t *testing.T, path string, doc *questionnaire.Document) *questionnaire.Review {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := questionnaire.ParseReview(b, doc)
	if err != nil {
		t.Fatal(err)
	}
	return rv
}

func TestReviewVerdictsAreSavedAndCounted(t *testing.T) {
	m, doc, path := newReviewModel(t)
	if m.Current() != "platform" {
		t.Fatalf("starts at %q", m.Current())
	}
	v := m.View()
	for _, want := range []string{"Answer: Hosted build platform", "Explanation: All builds run", "https://builds.example.com/security/architecture", "Verdict: open", "open 43"} {
		if !strings.Contains(v, want) {
			t.Fatalf("screen lacks %q:\n%s", want, v)
		}
	}
	key(m, "a") // platform accepted
	if savedReview(t, path, doc).Verdicts["platform"].Verdict != questionnaire.Accepted {
		t.Fatal("verdict not saved at once")
	}
	key(m, "n", "r", "tab", "no provenance samples shown", "enter") // provenance-format rejected, with comment
	rv := savedReview(t, path, doc)
	if e := rv.Verdicts["provenance-format"]; e.Verdict != questionnaire.Rejected || e.Comment != "no provenance samples shown" {
		t.Fatalf("provenance-format %+v", e)
	}
	key(m, "n", "e") // signing needs evidence
	c := m.Counts()
	if c[questionnaire.Accepted] != 1 || c[questionnaire.Rejected] != 1 || c[questionnaire.NeedsEvidence] != 1 || c[""] != 40 {
		t.Fatalf("counts %v", c)
	}
	if !strings.Contains(m.View(), "accepted 1 · rejected 1 · needs evidence 1 · open 40") {
		t.Fatalf("header counts:\n%s", m.View())
	}
	// The live panel counts accepted answers only: EX is not met (its
	// provenance-format answer was rejected).
	if r, _ := m.assessment.Requirement("EX"); r.Status != "not-met" {
		t.Fatalf("EX %s", r.Status)
	}
	// The overview lists each answer's state; resuming starts at the first
	// answer without a verdict.
	key(m, "o")
	if !strings.Contains(m.View(), "REJECTED") || m.Current() != "" {
		t.Fatalf("overview:\n%s", m.View())
	}
	m2 := NewReview(ReviewOptions{AnswersPath: "a", ReviewPath: path, Doc: doc, Review: savedReview(t, path, doc)})
	if m2.Current() != "EP1" {
		t.Fatalf("resumed at %q, want EP1", m2.Current())
	}
}

func TestReviewCtrlCKeepsComment(t *testing.T) {
	m, doc, path := newReviewModel(t)
	key(m, "tab", "half written")
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlC})
	if savedReview(t, path, doc).Verdicts["platform"].Comment != "half written" {
		t.Fatal("comment lost on ctrl+c")
	}
}

// After the operator changes an answer, the review opens on it, says the
// verdict was withdrawn, and shows the old answer against the new one; the
// verdicts on unchanged answers carry over.
func TestReviewShowsChangesSinceReview(t *testing.T) {
	m, doc, path := newReviewModel(t)
	key(m, "a") // platform
	for m.Current() != "IT6" {
		key(m, "n")
	}
	key(m, "a")
	b, err := os.ReadFile("../../testdata/answers/l3-fails-is3.json")
	if err != nil {
		t.Fatal(err)
	}
	changed, _ := questionnaire.ParseAnswers(b)
	saved, _ := os.ReadFile(path)
	rv, ids, err := questionnaire.ReopenReview(saved, changed)
	if err != nil || len(ids) != 1 || ids[0] != "IT6" {
		t.Fatalf("reopen: %v, changed %v", err, ids)
	}
	m2 := NewReview(ReviewOptions{AnswersPath: "a.json", ReviewPath: path, Doc: changed, Review: rv})
	m2.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if m2.Current() != "IT6" {
		t.Fatalf("opened on %q, want the changed IT6", m2.Current())
	}
	v := leftColumn(m2.View())
	for _, want := range []string{"changed since review, verdicts withdrawn: IT6", "CHANGED SINCE REVIEW (was accepted)",
		`answer: "The environment is destroyed after each build" -> "Reused, cleaned on a best-effort basis"`, "Verdict: open", "Comment:"} {
		if !strings.Contains(squash(v), squash(want)) {
			t.Fatalf("screen lacks %q:\n%s", want, v)
		}
	}
	if rv.Verdicts["platform"].Verdict != questionnaire.Accepted {
		t.Fatal("the verdict on an unchanged answer did not carry over")
	}
	_ = doc
}

// Keys that arrive together act one by one: "an" accepts and moves on.
func TestReviewBatchedKeys(t *testing.T) {
	m, doc, path := newReviewModel(t)
	key(m, "an")
	if m.Current() != "provenance-format" || savedReview(t, path, doc).Verdicts["platform"].Verdict != questionnaire.Accepted {
		t.Fatalf("on %q", m.Current())
	}
}

// Evidence is shown in full, wrapped, never cut at the screen edge.
func TestReviewShowsEvidenceInFull(t *testing.T) {
	m, doc, _ := newReviewModel(t)
	long := "https://builds.example.com/security/" + strings.Repeat("very-long-path-segment/", 5) + "end"
	a := doc.Answers["platform"]
	a.Evidence = []string{long}
	doc.Answers["platform"] = a
	if v := stripStyle(m.View()); !strings.Contains(squash(leftColumn(v)), long) {
		t.Fatalf("evidence cut:\n%s", v)
	}
}

// At 80x24 a long changed answer leaves the verdict and the comment field on
// screen; v shows the whole answer at full width, any key goes back.
func TestReviewLongAnswerKeepsVerdictOnScreen(t *testing.T) {
	m, doc, _ := newReviewModel(t)
	long := strings.Repeat("The runner is wiped by a script that the platform team maintains. ", 8) + "END"
	a := doc.Answers["platform"]
	a.Explanation = long
	doc.Answers["platform"] = a
	v := stripStyle(m.View())
	for _, want := range []string{"Verdict: open", "Comment:", "v shows the whole answer"} {
		if !strings.Contains(v, want) {
			t.Fatalf("screen lacks %q:\n%s", want, v)
		}
	}
	if got := len(strings.Split(m.View(), "\n")); got != 24 {
		t.Fatalf("%d lines", got)
	}
	key(m, "v")
	if v := stripStyle(m.View()); !strings.Contains(squash(v), squash(long)) {
		t.Fatalf("whole answer not shown:\n%s", v)
	}
	key(m, "a") // any key goes back, and gives no verdict
	if m.whole || m.rv.Verdicts["platform"].Verdict != "" {
		t.Fatal("the key that closed the whole answer did more")
	}
}
