package tui

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

var (
	titleStyle = lipgloss.NewStyle().Bold(true)
	dimStyle   = lipgloss.NewStyle().Faint(true)
	selStyle   = lipgloss.NewStyle().Bold(true)
	metStyle   = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	failStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	openStyle  = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
)

const panelWidth = 24

// View implements tea.Model.
func (m *Model) View() string {
	if m.quitting {
		return ""
	}
	w, h := max(m.width, 40), max(m.height, 12)
	header := m.header(w)
	footer := m.footer(w)
	bodyH := h - lipgloss.Height(header) - lipgloss.Height(footer)

	var body string
	switch m.screen {
	case screenWelcome:
		body = m.welcomeView(w)
	case screenOverview:
		body = m.withPanel(m.overviewView(w-panelWidth-3), w, bodyH)
	case screenProfile:
		body = m.withPanel(m.profileView(w-panelWidth-3), w, bodyH)
	case screenQuestion:
		if m.helpOpen {
			body = m.helpView(w)
		} else {
			body = m.withPanel(m.questionView(w-panelWidth-3, bodyH), w, bodyH)
		}
	case screenReview:
		body = m.reviewView(w, bodyH)
	case screenSign:
		body = m.signView(w)
	}
	return header + "\n" + clip(body, bodyH, w) + "\n" + footer
}

// clip pads or cuts s to exactly h lines of at most w cells.
func clip(s string, h, w int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = truncateCells(l, w)
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

func truncateCells(s string, w int) string {
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r)) > w {
		r = r[:len(r)-1]
	}
	return string(r)
}

func (m *Model) header(w int) string {
	a := m.assessment
	comp := m.currentComponent()
	ci := 0
	for i, c := range m.q.Components {
		if c.ID == comp.ID {
			ci = i + 1
		}
	}
	left := titleStyle.Render("Hallmark") + " · SLSA build-platform questionnaire · " + screenSafe(m.opts.Path)
	status := m.status
	if status == "" {
		status = "autosave on"
	}
	line2 := fmt.Sprintf("Component %d of %d: %s · Answered %d of %d · Supports %s",
		ci, len(m.q.Components), comp.Title, a.Answered, a.Total, render.LevelName(a.Level))
	switch m.screen {
	case screenReview, screenSign:
		line2 = fmt.Sprintf("Review · Answered %d of %d · Supports %s", a.Answered, a.Total, render.LevelName(a.Level))
	case screenWelcome:
		line2 = fmt.Sprintf("Welcome · %d questions in %d parts", a.Total, len(m.q.Components))
	}
	if m.screen == screenQuestion {
		in := m.q.QuestionsIn(comp.ID)
		pos := 0
		for i, qu := range in {
			if qu.ID == m.order[m.idx].ID {
				pos = i + 1
			}
		}
		line2 = fmt.Sprintf("Component %d of %d: %s (question %d of %d) · Answered %d of %d",
			ci, len(m.q.Components), comp.Title, pos, len(in), a.Answered, a.Total)
	}
	return truncateCells(left, w) + "\n" + truncateCells(line2, w) + "\n" + statusLine(status, w)
}

// statusLine renders "[status] ───" in w cells. A status too long for one
// line (an error saying what a field accepts) wraps onto more lines instead
// of being cut: the user must be able to read why something was not saved.
func statusLine(status string, w int) string {
	s := "[" + screenSafe(status) + "]"
	if lipgloss.Width(s)+2 <= w {
		return truncateCells(s+" "+strings.Repeat("─", w), w)
	}
	return wrap(s, w) + "\n" + dimStyle.Render(strings.Repeat("─", w))
}

func (m *Model) currentComponent() questionnaire.Component {
	id := questionnaire.ProfileComponent
	switch m.screen {
	case screenQuestion:
		id = m.order[m.idx].Component
	case screenOverview:
		entries := m.overviewEntries()
		if e := entries[m.overviewCursor]; e != "review" {
			id = e
		}
	}
	for _, c := range m.q.Components {
		if c.ID == id {
			return c
		}
	}
	return m.q.Components[0]
}

func (m *Model) footer(w int) string {
	var keys string
	switch m.screen {
	case screenWelcome:
		keys = "enter start · o overview · q quit"
	case screenProfile:
		keys = fitKeys(w,
			"tab/enter next field · shift+tab back · pgdn questions · esc overview · ^c quit",
			"tab next field · ctrl+t next/new entry · pgdn questions · esc overview")
	case screenQuestion:
		if m.focus == focusChoices {
			keys = fitKeys(w,
				"↑/↓ move · enter/1-9 choose · x clear · tab fields · →/n next · ←/p back · o overview · r review · ? help · q quit",
				"1-9/enter choose · tab fields · ←→ back/next · o overview · r review · ? help · q quit",
				"1-9 choose · tab fields · ←→ back/next · o overview · r review · ? help · q quit",
				"1-9 choose · tab fields · ←→ back/next · ? help · q quit")
			if m.helpOpen {
				keys = "any key: back to the question"
			}
		} else {
			keys = fitKeys(w,
				"type to edit · enter/tab next field · esc back to choices · pgdn/pgup next/back · ctrl+c quit",
				"type · enter/tab next field · esc choices · pgdn/pgup next/back · ^c quit")
		}
	case screenOverview:
		keys = "↑/↓ move · enter open · esc back · q quit"
	case screenReview:
		sign := ""
		if m.opts.Sign != nil {
			sign = "s sign · "
		}
		keys = fitKeys(w,
			"↑/↓ scroll · u first unanswered · ←/p last question · o overview · "+sign+"q quit",
			"↑↓ scroll · u unanswered · ← last question · o overview · "+sign+"q quit")
	case screenSign:
		keys = "tab next field · enter on the last field signs · esc back"
	}
	return dimStyle.Render(truncateCells(strings.Repeat("─", w), w)) + "\n" + lipgloss.NewStyle().Width(w).Render(keys)
}

// fitKeys returns the first key bar that fits on one line of w cells (the
// last one otherwise): every key stays reachable through ? and the README.
func fitKeys(w int, bars ...string) string {
	for _, b := range bars {
		if lipgloss.Width(b) <= w {
			return b
		}
	}
	return bars[len(bars)-1]
}

func (m *Model) withPanel(main string, w, h int) string {
	mainW := w - panelWidth - 3
	left := lipgloss.NewStyle().Width(mainW).MaxWidth(mainW).Render(main)
	left = clip(left, h, mainW)
	sep := strings.TrimSuffix(strings.Repeat(" │\n", h), "\n")
	return lipgloss.JoinHorizontal(lipgloss.Top, left, sep, lipgloss.NewStyle().PaddingLeft(1).Render(m.panel()))
}

// statusWord is the short label of the live panel (always text, never colour
// alone).
func statusWord(s assess.Status) string {
	switch s {
	case assess.Met:
		return metStyle.Render("met")
	case assess.NotMet:
		return failStyle.Render("NOT MET")
	case assess.NeedsEvidence:
		return openStyle.Render("evidence?")
	case assess.Inconsistent:
		return failStyle.Render("CONFLICT")
	}
	return openStyle.Render("open")
}

func (m *Model) panel() string { return panelFor(m.assessment, "") }

// panelFor renders the live requirements panel of an assessment.
func panelFor(a *assess.Assessment, note string) string {
	var b strings.Builder
	b.WriteString(titleStyle.Render("Requirements") + "\n")
	if note != "" {
		b.WriteString(dimStyle.Render(truncateCells(note, panelWidth)) + "\n")
	}
	for _, r := range a.Requirements {
		fmt.Fprintf(&b, "%-2s %-5s %s\n", levelTag(r.Level), r.Code, statusWord(r.Status))
	}
	fmt.Fprintf(&b, "Supports: %s\n", titleStyle.Render(render.LevelName(a.Level)))
	if a.ClaimedLevel != nil {
		claim := "ok"
		if !a.ClaimSupported {
			claim = "not yet"
		}
		fmt.Fprintf(&b, "Claimed:  %s, %s", a.ClaimedLevel, claim)
	} else {
		b.WriteString("Claimed:  none")
	}
	return b.String()
}

func levelTag(l questionnaire.Level) string {
	if l == 0 {
		return "BP"
	}
	return l.String()
}

func (m *Model) welcomeView(w int) string {
	text := `Welcome. This questionnaire walks you through the SLSA Build-track
threat model for your build platform: a short builder profile, then 40
questions about external parameters, the control plane, the build
environment, caches and output storage.

For each question pick the choice that describes your platform, explain it in
a sentence, and cite evidence (https links, or doc:NAME for an internal
document). A live panel shows
which requirements your answers meet and the Build level they support.

Every answer is saved to ` + screenSafe(m.opts.Path) + ` as soon as you give it; you can
quit at any time and pick up where you left off. Expect 30 to 60 minutes.

When you are done, the review screen shows your level, what is missing for
the next one, and how to sign a builder capability attestation.

Press enter to begin.`
	return lipgloss.NewStyle().Width(min(w, 80)).Render(text)
}

func (m *Model) profileView(w int) string {
	var b strings.Builder
	b.WriteString(titleStyle.Render("Builder profile") + "\n")
	b.WriteString(dimStyle.Render(truncateCells("Who runs it; how verifiers recognise its provenance.", w)) + "\n")
	p := m.doc.Profile
	entry := func(sel, n int, what string) string {
		if sel < n {
			return fmt.Sprintf("%s %d/%d", what, sel+1, n)
		}
		return fmt.Sprintf("new %s", what)
	}
	for i := range m.profile {
		marker := "  "
		if i == m.profileFocus {
			marker = "> "
		}
		label := profileLabels[i]
		switch i {
		case pfBuilderID:
			label = entry(m.builderSel, len(p.Builders), "Builder") + ": builder.id (^T next/new, ^X delete)"
		case pfPublicKeyFile:
			label = entry(m.signerSel, len(p.Signers), "Signer") + ": key file (^T next/new, ^X delete)"
		}
		fmt.Fprintf(&b, "%s%s\n%s", marker, truncateCells(label, w-2), fieldView(&m.profile[i], "    ", w, i == m.profileFocus))
	}
	return b.String()
}

func (m *Model) questionView(w, h int) string {
	qu := m.order[m.idx]
	a := m.doc.Answers[qu.ID]
	head := fmt.Sprintf("%s · %s\n", titleStyle.Render(qu.ID), qu.Group) + wrap(titleStyle.Render(qu.Text), w) + "\n"
	help := wrap(dimStyle.Render(qu.Help), w) + "\n"
	examples := ""
	if len(qu.Examples) > 0 {
		examples = wrap(dimStyle.Render("e.g. "+strings.Join(qu.Examples, " / ")), w) + "\n"
	}
	spec := wrap(dimStyle.Render("Spec: "+qu.Spec+reqs(qu)), w) + "\n"
	choices := func(wrapLabels bool) string {
		var b strings.Builder
		for i, c := range qu.Choices {
			cur := "  "
			if m.focus == focusChoices && i == m.cursor {
				cur = "> "
			}
			mark := "( )"
			label := c.Label
			if a.Choice == c.Value {
				mark = "(*)"
				label = selStyle.Render(label)
			}
			prefix := fmt.Sprintf("%s%d %s ", cur, i+1, mark)
			if wrapLabels {
				body := lipgloss.NewStyle().Width(w - lipgloss.Width(prefix)).Render(label)
				b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, prefix, body) + "\n")
			} else {
				b.WriteString(truncateCells(prefix+label, w) + "\n")
			}
		}
		if !a.Answered() {
			b.WriteString(dimStyle.Render("  unanswered") + "\n")
		}
		return b.String()
	}
	labels := [numQuestionFields]string{"", "Explanation", "Evidence", "Reviewed"}
	fieldsIn := func(maxLines int) string {
		var fb strings.Builder
		for f := focusExplanation; f < numQuestionFields; f++ {
			marker := "  "
			if m.focus == f {
				marker = "> "
			}
			fb.WriteString(fieldLines(&m.fields[f], fmt.Sprintf("%s%-12s ", marker, labels[f]+":"), w, m.focus == f, maxLines))
		}
		return fb.String()
	}
	fields, compact := fieldsIn(3), fieldsIn(1)
	if a.NeedsReanswer != "" && !a.Answered() {
		head += wrap(failStyle.Render(fmt.Sprintf("Answer again: your choice %q was split in questionnaire %s.", a.NeedsReanswer, m.q.Version)), w) + "\n"
	}

	// Fit the screen: the most useful layout whose height fits, dropping
	// examples, then help (? opens it in full), then the text fields'
	// continuation lines, and only then wrapped choice labels: choices that
	// differ late in their label (a split choice) must stay readable.
	wrapped := choices(true)
	helpHint := dimStyle.Render("  ? shows the help and examples") + "\n"
	for _, l := range [][]string{
		{head, help, examples, spec, wrapped, fields},
		{head, help, spec, wrapped, fields},
		{head, spec, wrapped, fields, helpHint},
		{head, wrapped, fields, helpHint},
		{head, wrapped, compact, helpHint},
		{head, wrapped, compact},
	} {
		if out := strings.Join(l, ""); lipgloss.Height(out)-1 <= h {
			return out
		}
	}
	return head + choices(false) + compact + helpHint
}

// helpView shows everything about the current question.
func (m *Model) helpView(w int) string {
	qu := m.order[m.idx]
	var b strings.Builder
	fmt.Fprintf(&b, "%s · %s\n", titleStyle.Render(qu.ID), qu.Group)
	b.WriteString(wrap(titleStyle.Render(qu.Text), w) + "\n\n")
	b.WriteString(wrap(qu.Help, w) + "\n\n")
	for _, ex := range qu.Examples {
		b.WriteString(wrap("e.g. "+ex, w) + "\n")
	}
	b.WriteString("\n" + wrap("Spec: "+qu.Spec, w) + "\n")
	for _, code := range qu.Requirements {
		if r, ok := m.q.Requirement(code); ok {
			b.WriteString(wrap(fmt.Sprintf("%s (%s): %s", code, r.Title, r.Description), w) + "\n")
		}
	}
	b.WriteString("\n" + dimStyle.Render("Press any key to go back to the question."))
	return b.String()
}

// fieldView renders one labelled text field in w cells. The field being
// edited scrolls horizontally so the caret stays visible; the others wrap
// under their label (at most three lines, then an ellipsis).
func fieldView(in *textinput.Model, label string, w int, focused bool) string {
	return fieldLines(in, label, w, focused, 3)
}

// fieldLines is fieldView with at most maxLines lines for a field not being
// edited.
func fieldLines(in *textinput.Model, label string, w int, focused bool, maxLines int) string {
	lw := lipgloss.Width(label)
	fw := max(10, w-lw-1)
	if focused {
		in.Width = fw
		in.SetCursor(in.Position()) // recompute the visible window for this width
		if v := in.Value(); screenSafe(v) != v {
			// Show a copy with unsafe characters replaced one for one (the
			// caret stays put); the value itself is refused on save.
			shown := *in
			shown.SetValue(screenSafe(v))
			shown.SetCursor(in.Position())
			return label + shown.View() + "\n"
		}
		return label + in.View() + "\n"
	}
	v := screenSafe(in.Value())
	if in.EchoMode != textinput.EchoNormal && v != "" {
		// A password never reaches the screen, focused or not.
		v = strings.Repeat(string(in.EchoCharacter), min(len([]rune(v)), 8))
		if in.EchoMode == textinput.EchoNone {
			v = "(entered)"
		}
	}
	if v == "" {
		return label + dimStyle.Render(truncateCells(in.Placeholder, fw)) + "\n"
	}
	lines := strings.Split(lipgloss.NewStyle().Width(fw).Render(v), "\n")
	if len(lines) > maxLines {
		lines = append(lines[:maxLines-1], truncateCells(strings.TrimRight(lines[maxLines-1], " "), fw-1)+"…")
	}
	return underLabel(label, lw, lines)
}

// underLabel writes label before the first line and indent spaces before
// the others, one line each.
func underLabel(label string, indent int, lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			b.WriteString(label)
		} else {
			b.WriteString(strings.Repeat(" ", indent))
		}
		b.WriteString(strings.TrimRight(l, " ") + "\n")
	}
	return b.String()
}

// screenSafe replaces control and bidirectional formatting characters, which
// answers never contain once validated, so none reaches the screen raw.
func screenSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return '\uFFFD'
		}
		return r
	}, s)
}

func reqs(qu *questionnaire.Question) string {
	if len(qu.Requirements) == 0 {
		return " · informational"
	}
	return " · bears on " + strings.Join(qu.Requirements, ", ")
}

func wrap(s string, w int) string { return lipgloss.NewStyle().Width(w).Render(s) }

func (m *Model) overviewView(w int) string {
	var b strings.Builder
	b.WriteString(titleStyle.Render("Overview") + " — jump to any part\n\n")
	for i, e := range m.overviewEntries() {
		cur := "  "
		if i == m.overviewCursor {
			cur = "> "
		}
		if e == "review" {
			fmt.Fprintf(&b, "%sReview: level, gaps and signing\n", cur)
			continue
		}
		var title string
		for _, c := range m.q.Components {
			if c.ID == e {
				title = c.Title
			}
		}
		in := m.q.QuestionsIn(e)
		done := 0
		for _, qu := range in {
			if m.doc.Answers[qu.ID].Answered() {
				done++
			}
		}
		again := 0
		for _, qu := range in {
			if a := m.doc.Answers[qu.ID]; a.NeedsReanswer != "" && !a.Answered() {
				again++
			}
		}
		line := fmt.Sprintf("%s%-20s %2d/%2d answered", cur, title, done, len(in))
		if again > 0 {
			line += fmt.Sprintf(" · %d to redo", again)
		}
		b.WriteString(truncateCells(line, w) + "\n")
	}
	if a := m.assessment; len(a.Inconsistencies) > 0 {
		b.WriteString("\n" + failStyle.Render("Answers that contradict each other:") + "\n")
		for _, in := range a.Inconsistencies {
			b.WriteString(wrap("• "+strings.Join(in.Questions, " and ")+": "+in.Message, w) + "\n")
		}
	}
	return b.String()
}

func (m *Model) reviewView(w, h int) string {
	a := m.assessment
	var b strings.Builder
	b.WriteString(titleStyle.Render("Review") + "\n")
	fmt.Fprintf(&b, "Your answers support %s.", titleStyle.Render(render.LevelName(a.Level)))
	if a.ClaimedLevel != nil {
		if a.ClaimSupported {
			fmt.Fprintf(&b, " The claimed %s is supported.", render.LevelName(*a.ClaimedLevel))
		} else {
			fmt.Fprintf(&b, " The claimed %s is NOT supported yet.", render.LevelName(*a.ClaimedLevel))
		}
	}
	fmt.Fprintf(&b, "\nAnswered %d of %d questions.\n\n", a.Answered, a.Total)
	if a.NextLevel != nil {
		fmt.Fprintf(&b, "To reach %s:\n", render.LevelName(*a.NextLevel))
		for _, g := range a.Gaps {
			b.WriteString(hang("• ", fmt.Sprintf("%s %s (%s): %s", g.Code, g.Title, render.StatusLabel(g.Status), g.Reason), w))
			b.WriteString(hang("  threat: ", g.Threat, w))
			b.WriteString(hang("  change: ", g.HowToMeet, w))
		}
	} else {
		b.WriteString("Build L3 is the highest level: nothing is missing.\n")
	}
	if len(a.BestPractice) > 0 {
		fmt.Fprintf(&b, "\nBest practice (never changes the level): %d finding(s)\n", len(a.BestPractice))
		for _, f := range a.BestPractice {
			fmt.Fprintf(&b, "• %s %s\n", f.Question, render.StatusLabel(f.Status))
		}
	}
	if len(a.Unanswered) > 0 {
		b.WriteString("\nUnanswered: " + wrap(strings.Join(a.Unanswered, " "), w-12) + "\n")
	}
	b.WriteString("\n")
	// The same decision as hallmark check and hallmark attest.
	if level, err := a.Attestable(nil); err != nil {
		b.WriteString(wrap(failStyle.Render("hallmark attest would refuse: ")+screenSafe(err.Error()), w) + "\n")
	} else {
		b.WriteString(wrap(fmt.Sprintf("hallmark attest would sign %s.", render.LevelName(level)), w) + "\n")
	}
	if m.opts.Sign != nil {
		b.WriteString("Press s to sign a builder capability attestation.\n")
	}
	b.WriteString(wrap("Or sign from the command line: hallmark attest "+screenSafe(m.opts.Path)+" --key KEY -o builder.capability.json", w) + "\n")

	lines := strings.Split(b.String(), "\n")
	start := min(m.reviewScroll, max(0, len(lines)-h))
	m.reviewScroll = start
	return strings.Join(lines[start:], "\n")
}

func (m *Model) signView(w int) string {
	var b strings.Builder
	b.WriteString(titleStyle.Render("Sign a builder capability attestation") + "\n")
	b.WriteString(wrap(dimStyle.Render("The attestation binds the sha256 of "+screenSafe(m.opts.Path)+" and grants the level your answers support, for a limited time (at most 366d)."), w) + "\n\n")
	for i := range m.sign {
		if i == sfBuilder && len(m.doc.Profile.Builders) < 2 {
			continue
		}
		marker := "  "
		if i == m.signFocus {
			marker = "> "
		}
		b.WriteString(fieldView(&m.sign[i], fmt.Sprintf("%s%-22s ", marker, signLabels[i]+":"), w, i == m.signFocus))
	}
	if bs := m.doc.Profile.Builders; len(bs) > 1 {
		b.WriteString("\nThe profile lists several builders; the attestation certifies one:\n")
		for i, bl := range bs {
			b.WriteString(truncateCells(fmt.Sprintf("  %d. %s", i+1, screenSafe(bl.Name())), w) + "\n")
		}
	}
	b.WriteString("\n")
	switch {
	case m.signErr != nil:
		b.WriteString(wrap(failStyle.Render("Not signed: ")+screenSafe(m.signErr.Error()), w) + "\n")
	case m.signResult != "":
		for _, l := range strings.Split(m.signResult, "\n") {
			b.WriteString(hang("", l, w))
		}
	}
	return b.String()
}
