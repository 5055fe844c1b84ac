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
