package tui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// RunAccessibleReview walks an auditor through the answers line by line, for
// screen readers and dumb terminals: each answer without a verdict (answers
// changed since the review first, with what changed), then a verdict by
// number and an optional comment, saved after each. It stops cleanly when
// the input ends or the auditor chooses to save and quit.
func RunAccessibleReview(o ReviewOptions, in io.Reader, out io.Writer) error {
	if o.Save == nil {
		path := o.ReviewPath
		o.Save = func(r *questionnaire.Review) error { return r.Save(path) }
	}
	lr := &lineReader{r: bufio.NewReader(in)}
	doc, rv := o.Doc, o.Review
	q := doc.Q()
	fmt.Fprintf(out, "Hallmark review of %s, saving to %s.\nEach verdict is saved as soon as you give it.\n", safetext.Term(o.AnswersPath), safetext.Term(o.ReviewPath))
	if ch := rv.Changed(); len(ch) > 0 {
		fmt.Fprintf(out, "Changed since the review (verdicts withdrawn): %s.\n", strings.Join(ch, ", "))
	}
	var todo []*questionnaire.Question
	for i := range q.Questions {
		qu := &q.Questions[i]
		if doc.Answers[qu.ID].Answered() && rv.Verdicts[qu.ID].Verdict == "" {
			if rv.Verdicts[qu.ID].ChangedSinceReview {
				todo = append([]*questionnaire.Question{qu}, todo...)
			} else {
				todo = append(todo, qu)
			}
		}
	}
	if len(todo) == 0 {
		fmt.Fprintln(out, "Every answer has a verdict.")
	}
	verdicts := []questionnaire.Verdict{questionnaire.Accepted, questionnaire.Rejected, questionnaire.NeedsEvidence}
	var err error
	for n, qu := range todo {
		a := doc.Answers[qu.ID]
		e := rv.Verdicts[qu.ID]
		c, _ := qu.Choice(a.Choice)
		fmt.Fprintf(out, "\nAnswer %d of %d to review. Question %s (%s). %s\n", n+1, len(todo), qu.ID, qu.Group, qu.Text)
		fmt.Fprintf(out, "Answer: %s\n", c.Label)
		fmt.Fprintf(out, "Explanation: %s\n", orDefault(safetext.Term(a.Explanation), "(none)"))
		if len(a.Evidence) == 0 {
			fmt.Fprintln(out, "Evidence: (none)")
		}
		for _, ev := range a.Evidence {
			fmt.Fprintf(out, "Evidence: %s\n", safetext.Term(ev))
		}
		if e.ChangedSinceReview && e.Answer != nil {
			fmt.Fprintf(out, "Changed since the review (the verdict was %s):\n", orDefault(string(e.PreviousVerdict), "none"))
			for _, d := range AnswerChanges(qu, *e.Answer, a) {
				fmt.Fprintf(out, "  %s\n", d)
			}
		}
		var i int
		i, err = choose(lr, out, "Your verdict:", []string{"Accept", "Reject", "Needs evidence", "Skip this answer for now", "Save and quit"})
		if err != nil || i == 4 {
			break
		}
		if i == 3 {
			continue
		}
		var comment string
		comment, err = ask(lr, out, "Comment (what you checked or what is missing; enter for none):")
		if err != nil && !errors.Is(err, errInputEnded) {
			break
		}
		if comment == "" {
			comment = e.Comment
		}
		if rerr := rv.Record(doc, qu.ID, verdicts[i], comment); rerr != nil {
			fmt.Fprintf(out, "NOT SAVED: %v\n", rerr)
			return rerr
		}
		if serr := o.Save(rv); serr != nil {
			fmt.Fprintf(out, "NOT SAVED: %v\n", serr)
			return serr
		}
		fmt.Fprintf(out, "Saved: %s %s.\n", qu.ID, verdicts[i])
		if err != nil {
			break
		}
	}
	if errors.Is(err, errInputEnded) {
		err = nil
	}
	c := map[questionnaire.Verdict]int{}
	for id, ans := range doc.Answers {
		if ans.Answered() {
			c[rv.Verdicts[id].Verdict]++
		}
	}
	fmt.Fprintf(out, "\nReview saved in %s: %d accepted, %d rejected, %d need evidence, %d open.\n",
		safetext.Term(o.ReviewPath), c[questionnaire.Accepted], c[questionnaire.Rejected], c[questionnaire.NeedsEvidence], c[""])
	return err
}
