package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/huh"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// Sentinel choice values of the accessible prompts.
const (
	choiceSkip = "\x00skip"
	choiceQuit = "\x00quit"
)

// errInputEnded stops the accessible run when standard input is exhausted.
var errInputEnded = errors.New("input ended")

// lineReader hands out at most one line per Read. huh's accessible prompts
// wrap the reader in a fresh bufio.Scanner for every prompt; without this,
// the first scanner would buffer (and lose) the lines meant for later prompts.
type lineReader struct{ r *bufio.Reader }

func (l *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = c
		n++
		if c == '\n' {
			break
		}
	}
	return n, nil
}

// exhausted reports whether no input is left.
func (l *lineReader) exhausted() bool {
	_, err := l.r.Peek(1)
	return err != nil
}

// accessible runs questions as plain numbered prompts through huh's
// accessible mode, saving after every field.
type accessible struct {
	o   Options
	in  *lineReader
	out io.Writer
}

// RunAccessible asks the questionnaire line by line for screen readers and
// dumb terminals. It asks the profile if it is empty, then every unanswered
// question in order, saving after each field, and finally prints the
// assessment. It stops cleanly when the input ends or the user chooses to
// save and quit.
func RunAccessible(o Options, in io.Reader, out io.Writer) error {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Save == nil {
		path := o.Path
		o.Save = func(d *questionnaire.Document) error { return d.Save(path) }
	}
	a := &accessible{o: o, in: &lineReader{r: bufio.NewReader(in)}, out: out}
	err := a.run()
	if errors.Is(err, errInputEnded) || errors.Is(err, errQuit) {
		err = nil
	}
	doc := o.Doc
	fmt.Fprintf(out, "\nYour answers are saved in %s.\n\n", o.Path)
	render.Assessment(out, o.Path, doc.Q(), assess.Assess(doc, assess.Options{}))
	fmt.Fprintf(out, "\nTo sign a builder capability attestation:\n  hallmark attest %s --key KEY -o builder.capability.json\n", o.Path)
	return err
}

var errQuit = errors.New("quit")

// field runs one huh field accessibly. huh's accessible prompts index out of
// range when input ends mid-prompt; that is turned into errInputEnded.
func (a *accessible) field(f huh.Field) (err error) {
	if a.in.exhausted() {
		return errInputEnded
	}
	defer func() {
		if r := recover(); r != nil {
			err = errInputEnded
		}
	}()
	return huh.NewForm(huh.NewGroup(f)).WithAccessible(true).WithInput(a.in).WithOutput(a.out).Run()
}

func (a *accessible) save() error {
	if err := a.o.Save(a.o.Doc); err != nil {
		fmt.Fprintf(a.out, "NOT SAVED: %v\n", err)
		return err
	}
	return nil
}

func (a *accessible) run() error {
	doc := a.o.Doc
	q := doc.Q()
	fmt.Fprintf(a.out, "Hallmark: SLSA build-platform questionnaire, saving to %s.\nEach answer is saved as soon as you give it. Choose the last option of any question to save and quit.\n\n", a.o.Path)
	if len(doc.Profile.Builders) == 0 {
		if err := a.profile(); err != nil {
			return err
		}
	}
	total := len(q.Questions)
	for _, qu := range q.Questions {
		if doc.Answers[qu.ID].Answered() {
			continue
		}
		if err := a.question(&qu, total); err != nil {
			return err
		}
	}
	return nil
}

func (a *accessible) profile() error {
	doc := a.o.Doc
	fmt.Fprintln(a.out, "Builder profile.")
	var org, id, mode, level string
	org = doc.Profile.Organization
	if err := a.field(huh.NewInput().Title("Organisation operating the platform:").Value(&org)); err != nil {
		return err
	}
	doc.Profile.Organization = strings.TrimSpace(org)
	if err := a.save(); err != nil {
		return err
	}
	if err := a.field(huh.NewInput().Title("Builder ID (the builder.id URI in your provenance):").Value(&id).Validate(func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return questionnaire.ValidateBuilderID(strings.TrimSpace(s))
	})); err != nil {
		return err
	}
	if id = strings.TrimSpace(id); id != "" {
		if err := a.field(huh.NewInput().Title("What this builder mode is:").Value(&mode)); err != nil && !errors.Is(err, errInputEnded) {
			return err
		}
		doc.Profile.Builders = []questionnaire.Builder{{ID: id, Mode: strings.TrimSpace(mode)}}
		if err := a.save(); err != nil {
			return err
		}
	}
	if err := a.field(huh.NewInput().Title("Claimed Build level (0-3, empty for none):").Value(&level).Validate(func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		_, err := questionnaire.ParseLevel(strings.TrimSpace(s))
		return err
	})); err != nil {
		return err
	}
	if l, err := questionnaire.ParseLevel(strings.TrimSpace(level)); err == nil {
		doc.Profile.ClaimedLevel = &l
		return a.save()
	}
	return nil
}

func (a *accessible) question(qu *questionnaire.Question, total int) error {
	doc := a.o.Doc
	q := doc.Q()
	comp, ci := questionnaire.Component{}, 0
	for i, c := range q.Components {
		if c.ID == qu.Component {
			comp, ci = c, i+1
		}
	}
	answered := 0
	for _, x := range q.Questions {
		if doc.Answers[x.ID].Answered() {
			answered++
		}
	}
	fmt.Fprintf(a.out, "\nComponent %d of %d: %s. %d of %d questions answered.\n", ci, len(q.Components), comp.Title, answered, total)
	fmt.Fprintf(a.out, "Question %s (%s). %s\n%s\nSpec: %s%s\n", qu.ID, qu.Group, qu.Text, qu.Help, qu.Spec, reqs(qu))

	var choice string
	opts := make([]huh.Option[string], 0, len(qu.Choices)+2)
	for _, c := range qu.Choices {
		opts = append(opts, huh.NewOption(c.Label, c.Value))
	}
	opts = append(opts, huh.NewOption("Skip this question for now", choiceSkip), huh.NewOption("Save and quit", choiceQuit))
	if err := a.field(huh.NewSelect[string]().Title("Your answer:").Options(opts...).Value(&choice)); err != nil {
		return err
	}
	switch choice {
	case choiceQuit:
		return errQuit
	case choiceSkip, "":
		return nil
	}
	ans := doc.Answers[qu.ID]
	ans.Choice = choice
	if ans.Reviewed == "" {
		ans.Reviewed = a.o.Now().Format(time.DateOnly)
	}
	if err := doc.Set(qu.ID, ans); err != nil {
		return err
	}
	if err := a.save(); err != nil {
		return err
	}
	expl := ans.Explanation
	if err := a.field(huh.NewInput().Title("Explain in a sentence (enter to skip):").Value(&expl)); err != nil {
		return err
	}
	ans.Explanation = strings.TrimSpace(expl)
	if err := doc.Set(qu.ID, ans); err != nil {
		return err
	}
	if err := a.save(); err != nil {
		return err
	}
	ev := strings.Join(ans.Evidence, ", ")
	if err := a.field(huh.NewInput().Title("Evidence: URIs or document names, separated by commas (enter to skip):").Value(&ev)); err != nil {
		return err
	}
	ans.Evidence = splitEvidence(ev)
	if err := doc.Set(qu.ID, ans); err != nil {
		return err
	}
	return a.save()
}
