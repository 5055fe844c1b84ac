// Package render formats assessments and attestations as human text, for the
// commands and the TUI.
package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// StatusLabel spells a status in words (never colour alone).
func StatusLabel(s assess.Status) string {
	switch s {
	case assess.Met:
		return "met"
	case assess.NotMet:
		return "NOT MET"
	case assess.Unanswered:
		return "open"
	case assess.NeedsEvidence:
		return "needs evidence"
	case assess.Inconsistent:
		return "INCONSISTENT"
	}
	return string(s)
}

// LevelName renders "Build L2".
func LevelName(l questionnaire.Level) string { return "Build " + l.String() }

// Assessment writes the human-readable assessment of a document named name.
func Assessment(w io.Writer, name string, q *questionnaire.Questionnaire, a *assess.Assessment) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("Assessment of %s (questionnaire %s", safetext.Term(name), a.Questionnaire)
	if a.Reviewed {
		p(", counting only answers the auditor accepted")
	}
	p(")\n")
	p("Answered: %d of %d questions\n\n", a.Answered, a.Total)
	p("Level the answers support: %s\n", LevelName(a.Level))
	if a.ClaimedLevel != nil {
		verdict := "supported"
		if !a.ClaimSupported {
			verdict = "NOT SUPPORTED"
		}
		p("Claimed level:             %s (%s)\n", LevelName(*a.ClaimedLevel), verdict)
	} else {
		p("Claimed level:             none given (profile.claimedLevel)\n")
	}
	p("\nRequirements\n")
	for _, r := range a.Requirements {
		lvl := r.Level.String()
		if r.Level == 0 {
			lvl = "BP"
		}
		p("  %-3s %-5s %-15s %s: %s\n", lvl, r.Code, StatusLabel(r.Status), r.Title, r.Reason)
	}
	if a.NextLevel != nil {
		p("\nTo reach %s\n", LevelName(*a.NextLevel))
		for _, g := range a.Gaps {
			p("  %s  %s (%s)\n", g.Code, g.Title, StatusLabel(g.Status))
			p("       why: %s\n", gapWhy(q, g))
			p("       threat left open: %s\n", g.Threat)
			p("       what to change: %s\n", g.HowToMeet)
		}
	} else {
		p("\n%s is the highest Build level: nothing is missing.\n", LevelName(a.Level))
	}
	if len(a.Inconsistencies) > 0 {
		p("\nInconsistent answers (they block every level that needs the requirements named)\n")
		for _, in := range a.Inconsistencies {
			p("  %s disagree (%s): %s\n", strings.Join(in.Questions, " and "), strings.Join(in.Requirements, ", "), in.Message)
		}
	}
	if len(a.NeedsReanswer) > 0 {
		p("\nNeeds re-answer (the choice was split in questionnaire %s; answer again with hallmark assess)\n", a.Questionnaire)
		for _, id := range a.NeedsReanswer {
			text := ""
			if qu, ok := q.Question(id); ok {
				text = qu.Text
			}
			p("  %-8s %s\n", id, text)
		}
	}
	p("\nBest practice (part of conformance, never changes the level: attest refuses\nuntil each finding is answered or waived with --waive ID=REASON)\n")
	if len(a.BestPractice) == 0 {
		p("  every best-practice answer meets the bar\n")
	}
	for _, f := range a.BestPractice {
		state := "waivable"
		if f.Waived != "" {
			state = "waived: " + safetext.Term(f.Waived)
		}
		if f.Status == assess.Unanswered {
			p("  %-4s open: %s [%s]\n", f.Question, f.Text, state)
		} else {
			p("  %-4s %s: %s (answered %q) [%s]\n", f.Question, StatusLabel(f.Status), f.Text, f.Label, state)
		}
	}
	for _, id := range a.UnknownWaivers {
		p("  %-4s waiver given, but there is no finding to waive\n", safetext.Term(id))
	}
	if len(a.Unanswered) > 0 {
		p("\nUnanswered: %s\n", strings.Join(a.Unanswered, " "))
	}
}

func gapWhy(q *questionnaire.Questionnaire, g assess.Gap) string {
	var parts []string
	for _, d := range g.Decisions {
		switch d.Outcome {
		case assess.NotMet:
			if d.Verdict == assess.Rejected {
				parts = append(parts, fmt.Sprintf("the auditor rejected the answer to %s", d.Question))
			} else {
				parts = append(parts, fmt.Sprintf("%s answered %q", d.Question, d.Label))
			}
		case assess.Unanswered:
			text := ""
			if qu, ok := q.Question(d.Question); ok {
				text = ": " + qu.Text
			}
			parts = append(parts, fmt.Sprintf("%s is unanswered%s", d.Question, text))
		case assess.NeedsEvidence:
			parts = append(parts, fmt.Sprintf("%s needs evidence", d.Question))
		}
	}
	if len(parts) == 0 || g.Status == assess.Inconsistent {
		return g.Reason
	}
	return strings.Join(parts, "; ")
}
