//go:build e2e

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/questionnaire"
)

// tmux drives a real terminal on a private server socket.
type tmux struct {
	t      *testing.T
	socket string
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (x *tmux) screen() string { return x.run("capture-pane", "-p", "-t", "e2e") }

// waitFor polls the screen until it shows want. The deadline only bounds a
// hang; no result depends on timing.
func (x *tmux) waitFor(want string) string {
	x.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var s string
	for time.Now().Before(deadline) {
		if s = x.screen(); strings.Contains(s, want) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	return ""
}

func (x *tmux) keys(keys ...string) { x.run(append([]string{"send-keys", "-t", "e2e"}, keys...)...) }

// literal types text without tmux interpreting key names.
func (x *tmux) literal(s string) { x.run("send-keys", "-t", "e2e", "-l", s) }

func (x *tmux) start(dir, bin, file string) {
	x.run("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", "-c", dir,
		fmt.Sprintf("env NO_COLOR=1 TERM=xterm-256color %s assess %s; sleep 60", bin, file))
}

func (x *tmux) pid(bin string) int { // the TUI process itself, not the shell around it
	x.t.Helper()
	out, err := exec.Command("pgrep", "-x", filepath.Base(bin)).Output()
	if err != nil {
		x.t.Fatalf("pgrep: %v", err)
	}
	var pid int
	fmt.Sscan(strings.Fields(string(out))[0], &pid)
	return pid
}

func TestTUIEndToEndSurvivesSIGKILL(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is required for the end-to-end TUI test (.ci/run installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hallmark-e2e")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	x := &tmux{t: t, socket: fmt.Sprintf("hallmark-e2e-%d", os.Getpid())}
	base := x.socket
	t.Cleanup(func() {
		exec.Command("tmux", "-L", base, "kill-server").Run()
		exec.Command("tmux", "-L", base+"-resumed", "kill-server").Run()
	})

	x.start(dir, bin, "answers.json")
	x.waitFor("Press enter to begin")
	x.keys("Enter")
	x.waitFor("Builder profile")
	// NO_COLOR is set: the screen carries no colour escape sequences
	// (capture-pane -e keeps them).
	if styled := x.run("capture-pane", "-p", "-e", "-t", "e2e"); regexp.MustCompile(`\x1b\[(3|4|9|10)[0-9]|38;|48;`).MatchString(styled) {
		t.Fatalf("colours despite NO_COLOR: %q", styled)
	}
	x.literal("Example Co")
	x.keys("Tab")
	x.literal("https://ci.example/builder@v1")
	x.keys("Tab")
	x.literal("one VM per build")
	x.keys("Tab")
	x.literal("3")
	x.keys("Tab", "PageDown")
	x.waitFor("Where do the builds run?")
	x.literal("1") // hosted
	x.waitFor("(*) Hosted build platform")
	x.literal("All builds run on the service")
	x.keys("Enter")
	x.literal("https://docs.example/arch")
	x.keys("Enter", "Enter") // leave evidence, then the review date: next question
	x.waitFor("Which provenance format")
	x.literal("1")
	x.waitFor("(*) SLSA Provenance v1")
	x.keys("PageDown")
	x.waitFor("How is the provenance signed?")
	x.literal("1") // kms
	x.waitFor("(*) Key in a cloud KMS")
	x.literal("half typed, never committed")
	x.waitFor("half typed")

	if err := syscall.Kill(x.pid(bin), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The shell's sleep keeps the pane; wait until the TUI is gone.
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("pgrep", "-x", filepath.Base(bin)).Run() == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}

	b, err := os.ReadFile(filepath.Join(dir, "answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatalf("answers file unreadable after SIGKILL: %v", err)
	}
	p := doc.Profile
	if p.Organization != "Example Co" || len(p.Builders) != 1 || p.Builders[0].ID != "https://ci.example/builder@v1" || p.ClaimedLevel == nil || *p.ClaimedLevel != 3 {
		t.Fatalf("profile after SIGKILL: %+v", p)
	}
	if a := doc.Answers["platform"]; a.Choice != "hosted" || a.Explanation != "All builds run on the service" || len(a.Evidence) != 1 {
		t.Fatalf("platform after SIGKILL: %+v", a)
	}
	if doc.Answers["provenance-format"].Choice != "slsa-provenance-v1" {
		t.Fatalf("provenance-format after SIGKILL: %+v", doc.Answers["provenance-format"])
	}
	if a := doc.Answers["signing"]; a.Choice != "kms" || a.Explanation != "" {
		t.Fatalf("signing after SIGKILL: %+v (the choice is saved, the field being edited is lost)", a)
	}

	// Restart on the same file: it resumes at the first unanswered question.
	x.run("kill-server")
	x.socket += "-resumed" // a fresh server: the old one may still be exiting
	x.start(dir, bin, "answers.json")
	s := x.waitFor("EP1")
	if !strings.Contains(s, "Answered 3 of 43") || !strings.Contains(s, "How does the control plane handle the external") {
		t.Fatalf("resumed screen:\n%s", s)
	}
	// Ctrl-C asks nothing and quits.
	x.keys("C-c")
	x.waitFor("Saved answers.json: 3 of 43 answered")
}

// An auditor re-reviews changed answers in a real terminal: the verdict on
// the changed answer is withdrawn, the screen opens on it and shows the old
// and the new answer, the key bar fits 80 columns, and a new verdict is saved.
func TestReviewTUIShowsChangedAnswers(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is required for the end-to-end TUI test (.ci/run installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hallmark-e2e-review")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// A review of l3-hosted with IT6 accepted, then the operator changes IT6.
	answers := filepath.Join(dir, "answers.json")
	copyFile(t, "../../testdata/answers/l3-hosted.json", answers)
	b, _ := os.ReadFile(answers)
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := questionnaire.NewReview(doc, "answers.json")
	for _, id := range []string{"IT1", "IT6"} {
		if err := rv.Record(doc, id, questionnaire.Accepted, "checked"); err != nil {
			t.Fatal(err)
		}
	}
	if err := rv.Save(filepath.Join(dir, "answers.review.json")); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "../../testdata/answers/l3-fails-is3.json", answers)

	x := &tmux{t: t, socket: fmt.Sprintf("hallmark-e2e-review-%d", os.Getpid())}
	t.Cleanup(func() { exec.Command("tmux", "-L", x.socket, "kill-server").Run() })
	x.run("new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", "-c", dir,
		fmt.Sprintf("env NO_COLOR=1 TERM=xterm-256color %s review answers.json; sleep 60", bin))
	s := x.waitFor("CHANGED SINCE REVIEW (was accepted)")
	for _, want := range []string{"IT6 · Isolation technologies", "changed since review, verdicts withdrawn: IT6",
		`answer: "The environment is destroyed after each`, `-> "Reused, cleaned on a best-effort`} {
		if !strings.Contains(s, want) {
			t.Fatalf("screen lacks %q:\n%s", want, s)
		}
	}
	for i, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if w := len([]rune(line)); w > 80 {
			t.Fatalf("line %d is %d cells wide:\n%s", i, w, s)
		}
	}
	if !strings.HasPrefix(lastLine(s), "a/r/e verdict") {
		t.Fatalf("key bar does not fit one line:\n%s", s)
	}
	x.literal("r")
	x.waitFor("Verdict: REJECTED")
	x.literal("q")
	x.waitFor("Saved answers.review.json")
	out, _ := os.ReadFile(filepath.Join(dir, "answers.review.json"))
	re, err := questionnaire.ParseReview(out, mustParse(t, answers))
	if err != nil {
		t.Fatal(err)
	}
	if e := re.Verdicts["IT6"]; e.Verdict != questionnaire.Rejected || e.ChangedSinceReview || re.Verdicts["IT1"].Verdict != questionnaire.Accepted {
		t.Fatalf("review after the session: IT6 %+v, IT1 %+v", e, re.Verdicts["IT1"])
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustParse(t *testing.T, path string) *questionnaire.Document {
	t.Helper()
	b, _ := os.ReadFile(path)
	d, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
