package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// errInputEnded stops the accessible run when standard input is exhausted.
var errInputEnded = errors.New("input ended")

// lineReader reads the accessible input one line at a time.
type lineReader struct{ r *bufio.Reader }

// accessible runs the questionnaire as plain numbered prompts, saving after
// every field. An empty line never picks a choice: it is "nothing entered"
// for a text field and a reason to ask again for a choice.
type accessible struct {
	o   Options
	in  *lineReader
	out io.Writer
}

// RunAccessible asks the questionnaire line by line for screen readers and
// dumb terminals. It asks the profile (builders and signers, as the
// full-screen profile does) if no builder is given yet, then every
// unanswered question in order, saving after each field, and finally prints
// the assessment. It stops cleanly when the input ends or the user chooses
// to save and quit.
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
	fmt.Fprintf(out, "\nYour answers are saved in %s.\n\n", safetext.Term(o.Path))
	render.Assessment(out, o.Path, doc.Q(), assess.Assess(doc, assess.Options{}))
	fmt.Fprintf(out, "\nTo sign a builder capability attestation:\n  hallmark attest %s --key KEY -o builder.capability.json\n", safetext.Term(o.Path))
	return err
}

var errQuit = errors.New("quit")

func (a *accessible) save() error {
	if err := a.o.Save(a.o.Doc); err != nil {
		fmt.Fprintf(a.out, "NOT SAVED: %v\n", err)
		return err
	}
	return nil
}

// askValid asks until check accepts the line (empty lines are passed to
// check too, which decides whether "nothing" is allowed).
func (a *accessible) askValid(prompt string, check func(string) error) (string, error) {
	for {
		v, err := ask(a.in, a.out, prompt)
		if err != nil {
			return "", err
		}
		if cerr := check(v); cerr != nil {
			fmt.Fprintf(a.out, "Not accepted: %s\n", safetext.Term(cerr.Error()))
			continue
		}
		return v, nil
	}
}

func (a *accessible) run() error {
	doc := a.o.Doc
	q := doc.Q()
	fmt.Fprintf(a.out, "Hallmark: SLSA build-platform questionnaire, saving to %s.\nEach answer is saved as soon as you give it. Choose the last option of any question to save and quit.\n\n", safetext.Term(a.o.Path))
	if ids := doc.NeedsReanswer(); len(ids) > 0 {
		fmt.Fprintf(a.out, "These answers need a new answer because their choice was split in questionnaire %s: %s.\n\n", q.Version, strings.Join(ids, ", "))
	}
	if len(doc.Profile.Builders) == 0 {
		if err := a.profile(); err != nil {
			return err
		}
	}
	total := len(q.Questions)
	for i := range q.Questions {
		qu := &q.Questions[i]
		if doc.Answers[qu.ID].Answered() {
			continue
		}
		if err := a.question(qu, total); err != nil {
			return err
		}
	}
	return nil
}

func (a *accessible) profile() error {
	doc := a.o.Doc
	fmt.Fprintln(a.out, "Builder profile.")
	org, err := a.askValid("Organisation operating the platform (enter to skip):", func(s string) error {
		return questionnaire.ValidateText("organisation", s)
	})
	if err != nil {
		return err
	}
	if org != "" {
		doc.Profile.Organization = org
		if err := a.save(); err != nil {
			return err
		}
	}
	if err := a.builders(); err != nil {
		return err
	}
	if err := a.signers(); err != nil {
		return err
	}
	level, err := a.askValid("Claimed Build level (0-3, enter for none):", func(s string) error {
		if s == "" {
			return nil
		}
		_, err := questionnaire.ParseLevel(s)
		return err
	})
	if err != nil {
		return err
	}
	if l, perr := questionnaire.ParseLevel(level); perr == nil {
		doc.Profile.ClaimedLevel = &l
		return a.save()
	}
	return nil
}

// builders asks for builder.id values (or re:PATTERN) until an empty line.
func (a *accessible) builders() error {
	doc := a.o.Doc
	for {
		var b questionnaire.Builder
		v, err := a.askValid("Builder ID: the builder.id URI in your provenance, or re:PATTERN for every builder.id an anchored regular expression matches (enter when done):", func(s string) error {
			if s == "" {
				return nil
			}
			b = builderFrom(s)
			if err := b.Validate(); err != nil {
				return err
			}
			for _, o := range doc.Profile.Builders {
				if o.Name() == b.Name() {
					return fmt.Errorf("%s is already in the profile", o.Name())
				}
			}
			return nil
		})
		if err != nil || v == "" {
			return err
		}
		mode, err := a.askValid("What this builder mode is (enter to skip):", func(s string) error { return questionnaire.ValidateText("mode", s) })
		if err != nil && !errors.Is(err, errInputEnded) {
			return err
		}
		b.Mode = mode
		doc.Profile.Builders = append(doc.Profile.Builders, b)
		if serr := a.save(); serr != nil {
			return serr
		}
		fmt.Fprintf(a.out, "Builder %s added.\n", safetext.Term(b.Name()))
		if err != nil {
			return err
		}
	}
}

func builderFrom(s string) questionnaire.Builder {
	if p, ok := strings.CutPrefix(s, "re:"); ok {
		return questionnaire.Builder{IDRegexp: p}
	}
	return questionnaire.Builder{ID: s}
}

// signers asks for provenance signers until the user is done.
func (a *accessible) signers() error {
	doc := a.o.Doc
	for {
		i, err := choose(a.in, a.out, "Add a provenance signer verifiers should pin:", []string{
			"A public key file (PEM)",
			"A Sigstore identity: OIDC issuer and exact certificate SAN",
			"A Sigstore identity: OIDC issuer and SAN regular expression",
			"Done with signers",
		})
		if err != nil || i == 3 {
			return err
		}
		var s questionnaire.Signer
		if i == 0 {
			if _, err := a.askValid("Public key file:", func(path string) error {
				b, err := limitio.ReadFile(path, 64<<10)
				if err != nil {
					return err
				}
				s = questionnaire.Signer{PublicKey: string(b)}
				return s.Validate()
			}); err != nil {
				return err
			}
		} else {
			iss, err := a.askValid("OIDC issuer (an https URL, e.g. https://token.actions.githubusercontent.com):", func(v string) error {
				return questionnaire.Signer{OIDCIssuer: v, SAN: "x"}.Validate()
			})
			if err != nil {
				return err
			}
			prompt := "Certificate SAN (exact):"
			if i == 2 {
				prompt = "Certificate SAN regular expression (anchored at both ends):"
			}
			if _, err := a.askValid(prompt, func(v string) error {
				s = questionnaire.Signer{OIDCIssuer: iss, SAN: v}
				if i == 2 {
					s = questionnaire.Signer{OIDCIssuer: iss, SANRegexp: v}
				}
				return s.Validate()
			}); err != nil {
				return err
			}
		}
		doc.Profile.Signers = append(doc.Profile.Signers, s)
		if err := a.save(); err != nil {
			return err
		}
		fmt.Fprintln(a.out, "Signer added.")
	}
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
	ans := doc.Answers[qu.ID]
	if ans.NeedsReanswer != "" {
		fmt.Fprintf(a.out, "Your earlier answer %q was split into more precise choices in questionnaire %s: choose again.\n", ans.NeedsReanswer, q.Version)
	}
	opts := make([]string, 0, len(qu.Choices)+2)
	for _, c := range qu.Choices {
		opts = append(opts, c.Label)
	}
	opts = append(opts, "Skip this question for now", "Save and quit")
	i, err := choose(a.in, a.out, "Your answer:", opts)
	if err != nil {
		return err
	}
	switch i {
	case len(qu.Choices) + 1:
		return errQuit
	case len(qu.Choices):
		return nil
	}
	ans.Choice = qu.Choices[i].Value
	ans.Reviewed = a.o.Now().Format(time.DateOnly)
	if err := doc.Set(qu.ID, ans); err != nil {
		return err
	}
	if err := a.save(); err != nil {
		return err
	}
	ans = doc.Answers[qu.ID]
	prompt := "Explain in a sentence (enter to skip):"
	if ans.Explanation != "" {
		prompt = fmt.Sprintf("Explain in a sentence (enter keeps %q):", safetext.Term(ans.Explanation))
	}
	expl, err := a.askValid(prompt, func(s string) error { return questionnaire.ValidateText("explanation", s) })
	if err != nil {
		return err
	}
	if expl != "" {
		ans.Explanation = expl
		if err := doc.Set(qu.ID, ans); err != nil {
			return err
		}
		if err := a.save(); err != nil {
			return err
		}
	}
	ev, err := a.askValid("Evidence: "+questionnaire.EvidenceForms+"; several separated by commas (enter to skip):", func(s string) error {
		for _, e := range splitEvidence(s) {
			if err := questionnaire.ValidateEvidence(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ev != "" {
		ans.Evidence = splitEvidence(ev)
		if err := doc.Set(qu.ID, ans); err != nil {
			return err
		}
		return a.save()
	}
	return nil
}
