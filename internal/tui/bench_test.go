package tui

import (
	"os"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/questionnaire"
)

// BenchmarkStartupToFirstFrame measures what `hallmark assess FILE` does
// before its first frame: parse the questionnaire definition, load and
// validate an answers document, build the model (which assesses the answers)
// and render the first view.
func BenchmarkStartupToFirstFrame(b *testing.B) {
	def, err := os.ReadFile("../../questionnaire/data/slsa-build-v1.0.json")
	if err != nil {
		b.Fatal(err)
	}
	answers, err := os.ReadFile("../../testdata/answers/l2-reused-runners.json")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := questionnaire.Parse(def); err != nil {
			b.Fatal(err)
		}
		doc, err := questionnaire.ParseAnswers(answers)
		if err != nil {
			b.Fatal(err)
		}
		m := New(Options{Path: "a.json", Doc: doc, Now: func() time.Time { return today }})
		if m.View() == "" {
			b.Fatal("empty first frame")
		}
	}
}
