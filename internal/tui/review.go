package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// ReviewOptions configure the auditor's review TUI.
type ReviewOptions struct {
	AnswersPath string
	ReviewPath  string
	Doc         *questionnaire.Document
	Review      *questionnaire.Review
	// Save writes the review; nil means Review.Save(ReviewPath).
	Save func(*questionnaire.Review) error
}

// ReviewModel walks an auditor through the operator's answers and records
// a verdict and comment for each. Every verdict is saved as soon as it is
// given, a comment when the cursor leaves it.
type ReviewModel struct {
	opts     ReviewOptions
	doc      *questionnaire.Document
	rv       *questionnaire.Review
	items    []*questionnaire.Question // answered questions, in order
	idx      int
	comment  textinput.Model
	editing  bool
	overview bool
	// whole shows the current answer alone, at full width, until a key.
	whole    bool
	ovCursor int

	session
}

// NewReview builds the review model, resuming at the first answer without
// a verdict.
func NewReview(o ReviewOptions) *ReviewModel {
	if o.Save == nil {
		path := o.ReviewPath
		o.Save = func(r *questionnaire.Review) error { return r.Save(path) }
	}
	m := &ReviewModel{opts: o, doc: o.Doc, rv: o.Review, session: session{width: 80, height: 24}, comment: newInput()}
	m.comment.Placeholder = "why: what you checked, what is missing"
	for i := range o.Doc.Q().Questions {
		qu := &o.Doc.Q().Questions[i]
		if o.Doc.Answers[qu.ID].Answered() {
			m.items = append(m.items, qu)
		}
	}
	m.reassess()
	// Answers changed since the review come first, and the status says so.
	if ch := m.rv.Changed(); len(ch) > 0 {
		m.status = "changed since review, verdicts withdrawn: " + strings.Join(ch, ", ")
		for i, qu := range m.items {
			if m.rv.Verdicts[qu.ID].ChangedSinceReview {
				m.goTo(i)
				return m
			}
		}
	}
	for i, qu := range m.items {
		if m.rv.Verdicts[qu.ID].Verdict == "" {
			m.goTo(i)
			return m
		}
	}
	m.goTo(0)
	if len(m.items) > 0 {
		m.overview = true
	}
	return m
}

func (m *ReviewModel) reassess() {
	m.assessment = assess.Assess(m.doc, assess.Options{Verdicts: m.rv.VerdictMap()})
}

// Init implements tea.Model.
func (m *ReviewModel) Init() tea.Cmd { return nil }

// Current is the question under review ("" on the overview).
func (m *ReviewModel) Current() string {
	if m.overview || len(m.items) == 0 {
		return ""
	}
	return m.items[m.idx].ID
}

// Err is the last save error.
func (m *ReviewModel) Err() error { return m.err }

// Counts returns how many answers are in each state ("" for open).
func (m *ReviewModel) Counts() map[questionnaire.Verdict]int {
	c := map[questionnaire.Verdict]int{}
	for _, qu := range m.items {
		c[m.rv.Verdicts[qu.ID].Verdict]++
	}
	return c
}

func (m *ReviewModel) goTo(i int) {
	if len(m.items) == 0 {
		return
	}
	m.idx = max(0, min(i, len(m.items)-1))
	m.comment.SetValue(m.rv.Verdicts[m.items[m.idx].ID].Comment)
	m.editing = false
	m.comment.Blur()
	m.overview = false
}

func (m *ReviewModel) persist() {
	if m.saved(m.opts.Save(m.rv)) {
		m.reassess()
	}
}

func (m *ReviewModel) setVerdict(v questionnaire.Verdict) {
	id := m.items[m.idx].ID
	if err := m.rv.Record(m.doc, id, v, m.rv.Verdicts[id].Comment); err != nil {
		m.status = "not saved: " + err.Error()
		return
	}
	m.persist()
}

func (m *ReviewModel) commitComment() {
	if !m.editing || len(m.items) == 0 {
		return
	}
	id := m.items[m.idx].ID
	e := m.rv.Verdicts[id]
	c := strings.TrimSpace(m.comment.Value())
	if c == e.Comment {
		return
	}
	if err := m.rv.Record(m.doc, id, e.Verdict, c); err != nil {
		m.status = "not saved: " + err.Error()
		return
	}
	m.persist()
}

func (m *ReviewModel) quit() tea.Cmd {
	m.commitComment()
	m.quitting = true
	return tea.Quit
}

// Update implements tea.Model.
func (m *ReviewModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyMsg:
		k := msg.String()
		if k == "ctrl+c" {
			return m, m.quit()
		}
		if !m.editing {
			if keys := splitKeys(msg); keys != nil {
				return m, eachKey(m, keys)
			}
		}
		if len(m.items) == 0 {
			if k == "q" || k == "esc" || k == "enter" {
				return m, m.quit()
			}
			return m, nil
		}
		if m.whole {
			m.whole = false // any key goes back
			return m, nil
		}
		if m.overview {
			switch k {
			case "up", "k":
				m.ovCursor = (m.ovCursor + len(m.items) - 1) % len(m.items)
			case "down", "j":
				m.ovCursor = (m.ovCursor + 1) % len(m.items)
			case "enter", " ":
				m.goTo(m.ovCursor)
			case "esc", "o":
				m.goTo(m.idx)
			case "q":
				return m, m.quit()
			}
			return m, nil
		}
		if m.editing {
			switch k {
			case "enter", "tab", "esc":
				m.commitComment()
				m.editing = false
				m.comment.Blur()
				return m, nil
			case "pgdown":
				m.commitComment()
				m.goTo(m.idx + 1)
				return m, nil
			case "pgup":
				m.commitComment()
				m.goTo(m.idx - 1)
				return m, nil
			}
			var cmd tea.Cmd
			m.comment, cmd = m.comment.Update(msg)
			return m, cmd
		}
		switch k {
		case "a":
			m.setVerdict(questionnaire.Accepted)
		case "r":
			m.setVerdict(questionnaire.Rejected)
		case "e":
			m.setVerdict(questionnaire.NeedsEvidence)
		case "x":
			m.setVerdict("")
		case "tab", "c":
			m.editing = true
			m.comment.CursorEnd()
			return m, m.comment.Focus()
		case "right", "n", "pgdown":
			m.goTo(m.idx + 1)
		case "left", "p", "pgup":
			m.goTo(m.idx - 1)
		case "o":
			m.overview, m.ovCursor = true, m.idx
		case "v":
			m.whole = true
		case "q", "esc":
			return m, m.quit()
		}
	}
	return m, nil
}

// View implements tea.Model.
func (m *ReviewModel) View() string {
	if m.quitting {
		return ""
	}
	w, h := max(m.width, 40), max(m.height, 12)
	c := m.Counts()
	header := truncateCells(titleStyle.Render("Hallmark review")+" · "+screenSafe(m.opts.AnswersPath)+" -> "+screenSafe(m.opts.ReviewPath), w) + "\n" +
		truncateCells(fmt.Sprintf("Answer %d of %d · accepted %d · rejected %d · needs evidence %d · open %d",
			min(m.idx+1, len(m.items)), len(m.items), c[questionnaire.Accepted], c[questionnaire.Rejected], c[questionnaire.NeedsEvidence], c[""]), w) + "\n" +
		statusLine(orDefault(m.status, "autosave on"), w)
	keys := fitKeys(w,
		"a accept · r reject · e needs evidence · x clear · tab comment · →/n next · ←/p back · v whole answer · o overview · q quit",
		"a accept · r reject · e evidence · x clear · tab comment · ←→ back/next · v whole · o list · q quit",
		"a/r/e verdict · x clear · tab comment · ←→ back/next · v whole · o list · q quit")
	switch {
	case m.editing:
		keys = "type the comment · enter/tab/esc done · pgdn/pgup next/back · ctrl+c quit"
	case m.overview:
		keys = "↑/↓ move · enter open · esc back · q quit"
	case m.whole:
		keys = "any key: back to the verdict"
	}
	footer := dimStyle.Render(strings.Repeat("─", w)) + "\n" + lipgloss.NewStyle().Width(w).Render(keys)
	bodyH := h - lipgloss.Height(header) - lipgloss.Height(footer)
	var body string
	switch {
	case len(m.items) == 0:
		body = "The answers document has no answers to review. Press q to quit."
	case m.overview:
		body = m.overviewView(w - panelWidth - 3)
	case m.whole:
		return header + "\n" + clip(m.wholeView(w), bodyH, w) + "\n" + footer
	default:
		body = m.answerView(w-panelWidth-3, bodyH)
	}
	body = lipgloss.JoinHorizontal(lipgloss.Top,
		clip(lipgloss.NewStyle().Width(w-panelWidth-3).Render(body), bodyH, w-panelWidth-3),
		strings.TrimSuffix(strings.Repeat(" │\n", bodyH), "\n"),
		lipgloss.NewStyle().PaddingLeft(1).Render(panelFor(m.assessment, "accepted answers only")))
	return header + "\n" + clip(body, bodyH, w) + "\n" + footer
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func verdictWord(v questionnaire.Verdict) string {
	switch v {
	case questionnaire.Accepted:
		return metStyle.Render("accepted")
	case questionnaire.Rejected:
		return failStyle.Render("REJECTED")
	case questionnaire.NeedsEvidence:
		return openStyle.Render("needs evidence")
	}
	return openStyle.Render("open")
}

func (m *ReviewModel) answerView(w, h int) string {
	qu := m.items[m.idx]
	a := m.doc.Answers[qu.ID]
	c, _ := qu.Choice(a.Choice)
	e := m.rv.Verdicts[qu.ID]
	head := fmt.Sprintf("%s · %s%s\n", titleStyle.Render(qu.ID), qu.Group, reqs(qu)) +
		wrap(titleStyle.Render(qu.Text), w) + "\n" +
		hang("Answer: ", selStyle.Render(c.Label), w)
	// details renders the explanation and evidence with at most n lines
	// each (0: no limit).
	details := func(n int) string {
		var b strings.Builder
		b.WriteString(limitLines(hang("Explanation: ", orDefault(safetext.Term(a.Explanation), "(none)"), w), n))
		if len(a.Evidence) == 0 {
			b.WriteString("Evidence: (none)\n")
		} else {
			b.WriteString("Evidence:\n")
			for _, ev := range a.Evidence {
				b.WriteString(limitLines(underLabel("  • ", 4, strings.Split(lipgloss.NewStyle().Width(max(10, w-4)).Render(safetext.Term(ev)), "\n")), n))
			}
		}
		fmt.Fprintf(&b, "Reviewed by the operator: %s\n\n", orDefault(a.Reviewed, "(no date)"))
		return b.String()
	}
	var changes strings.Builder
	if e.ChangedSinceReview && e.Answer != nil {
		changes.WriteString(failStyle.Render("CHANGED SINCE REVIEW") + fmt.Sprintf(" (was %s)\n", stripStyle(verdictWord(e.PreviousVerdict))))
		for _, d := range AnswerChanges(qu, *e.Answer, a) {
			changes.WriteString(hang("  ", d, w))
		}
		changes.WriteString("\n")
	}
	marker := "  "
	if m.editing {
		marker = "> "
	}
	// The verdict and the comment field always stay on screen: the
	// operator's text gives way first (the full text is one screen away
	// on a taller terminal, and in the report).
	tail := fmt.Sprintf("Verdict: %s\n", verdictWord(e.Verdict)) + fieldView(&m.comment, marker+"Comment: ", w, m.editing)
	hint := dimStyle.Render("… v shows the whole answer") + "\n"
	if out := head + details(0) + changes.String() + tail; lipgloss.Height(out)-1 <= h {
		return out
	}
	for _, n := range []int{3, 1} {
		if out := head + details(n) + changes.String() + hint + tail; lipgloss.Height(out)-1 <= h {
			return out
		}
	}
	top := strings.Split(strings.TrimSuffix(head+details(1)+changes.String(), "\n"), "\n")
	room := max(1, h-(lipgloss.Height(tail)-1))
	if len(top) > room {
		top = append(top[:room-1], dimStyle.Render("… v shows the whole answer"))
	}
	return strings.Join(top, "\n") + "\n" + tail
}

// wholeView is the current answer at full width: the question, the answer,
// its explanation and evidence, and what changed since the review.
func (m *ReviewModel) wholeView(w int) string {
	qu := m.items[m.idx]
	a := m.doc.Answers[qu.ID]
	c, _ := qu.Choice(a.Choice)
	e := m.rv.Verdicts[qu.ID]
	var b strings.Builder
	fmt.Fprintf(&b, "%s · %s%s\n", titleStyle.Render(qu.ID), qu.Group, reqs(qu))
	b.WriteString(wrap(titleStyle.Render(qu.Text), w) + "\n")
	b.WriteString(hang("Answer: ", c.Label, w))
	b.WriteString(hang("Explanation: ", orDefault(safetext.Term(a.Explanation), "(none)"), w))
	for _, ev := range a.Evidence {
		b.WriteString(hang("Evidence: ", safetext.Term(ev), w))
	}
	if e.ChangedSinceReview && e.Answer != nil {
		b.WriteString("\n" + failStyle.Render("CHANGED SINCE REVIEW") + fmt.Sprintf(" (was %s)\n", stripStyle(verdictWord(e.PreviousVerdict))))
		for _, d := range AnswerChanges(qu, *e.Answer, a) {
			b.WriteString(hang("  ", d, w))
		}
	}
	return b.String()
}

// limitLines keeps at most n lines of s (all when n is 0), marking a cut
// with an ellipsis.
func limitLines(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if n == 0 || len(lines) <= n {
		return s
	}
	lines = lines[:n]
	lines[n-1] = strings.TrimRight(lines[n-1], " ") + "…"
	return strings.Join(lines, "\n") + "\n"
}

// hang wraps s to w cells after prefix, indenting continuation lines by
// the prefix's width plus two.
func hang(prefix, s string, w int) string {
	ind := lipgloss.Width(prefix) + 2
	return underLabel(prefix, ind, strings.Split(lipgloss.NewStyle().Width(max(10, w-ind)).Render(s), "\n"))
}

// AnswerChanges describes, field by field, how answer b differs from a
// (old -> new), with input text escaped for the terminal.
func AnswerChanges(qu *questionnaire.Question, a, b questionnaire.Answer) []string {
	label := func(v string) string {
		if c, ok := qu.Choice(v); ok {
			return c.Label
		}
		return orDefault(v, "(none)")
	}
	var out []string
	if a.Choice != b.Choice {
		out = append(out, fmt.Sprintf("answer: %q -> %q", label(a.Choice), label(b.Choice)))
	}
	if a.Explanation != b.Explanation {
		out = append(out, fmt.Sprintf("explanation: %s -> %s", safetext.Quote(a.Explanation), safetext.Quote(b.Explanation)))
	}
	if strings.Join(a.Evidence, "\n") != strings.Join(b.Evidence, "\n") {
		out = append(out, fmt.Sprintf("evidence: %s -> %s", safetext.Quote(strings.Join(a.Evidence, ", ")), safetext.Quote(strings.Join(b.Evidence, ", "))))
	}
	if a.Reviewed != b.Reviewed {
		out = append(out, fmt.Sprintf("reviewed: %s -> %s", orDefault(a.Reviewed, "(none)"), orDefault(b.Reviewed, "(none)")))
	}
	if len(out) == 0 {
		out = append(out, "(the answer was removed and given again)")
	}
	return out
}

func (m *ReviewModel) overviewView(w int) string {
	var b strings.Builder
	b.WriteString(titleStyle.Render("Overview") + " — every answer and its verdict\n")
	start := max(0, m.ovCursor-(m.height-10))
	for i := start; i < len(m.items); i++ {
		qu := m.items[i]
		cur := "  "
		if i == m.ovCursor {
			cur = "> "
		}
		word := stripStyle(verdictWord(m.rv.Verdicts[qu.ID].Verdict))
		if m.rv.Verdicts[qu.ID].ChangedSinceReview {
			word = "CHANGED"
		}
		b.WriteString(truncateCells(fmt.Sprintf("%s%-18s %-16s %s", cur, qu.ID, word, qu.Group), w) + "\n")
	}
	return b.String()
}

// stripStyle keeps the words of a styled label for fixed-width columns.
func stripStyle(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
				i++
			}
			continue
		}
		out.WriteByte(s[i])
	}
	return out.String()
}
