package assess_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/golden"
	"github.com/hallmark-build/hallmark/internal/render"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func load(t *testing.T, name string) *questionnaire.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "answers", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSamples(t *testing.T) {
	cases := []struct {
		name      string
		level     questionnaire.Level
		supported bool
		unmet     []string // level-defining requirements up to L3 not met
	}{
		{"l3-hosted", 3, true, nil},
		{"l2-reused-runners", 2, true, []string{"IS3"}},
		{"l1-workstation", 1, true, []string{"HO", "AU", "UF-a", "UF-b", "UF-c", "UF-d", "IS1", "IS2", "IS3", "IS4", "IS5"}},
		{"l3-fails-uf-a", 2, false, []string{"UF-a"}},
		{"l3-fails-uf-b", 2, false, []string{"UF-b"}},
		{"l3-fails-uf-c", 2, false, []string{"UF-c"}},
		{"l3-fails-uf-d", 2, false, []string{"UF-d"}},
		{"l3-fails-is1", 2, false, []string{"IS1"}},
		{"l3-fails-is2", 2, false, []string{"IS2"}},
		{"l3-fails-is3", 2, false, []string{"IS3"}},
		{"l3-fails-is4", 2, false, []string{"IS4"}},
		{"l3-fails-is5", 2, false, []string{"IS5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := load(t, tc.name)
			a := assess.Assess(doc, assess.Options{})
			if a.Level != tc.level {
				t.Errorf("level %v, want %v", a.Level, tc.level)
			}
			if a.ClaimSupported != tc.supported {
				t.Errorf("claim supported %v, want %v", a.ClaimSupported, tc.supported)
			}
			if got := a.Unmet(3); !slices.Equal(got, tc.unmet) {
				t.Errorf("unmet %v, want %v", got, tc.unmet)
			}
			// Only l3-fails-is3 contradicts itself: IT1 says a fresh VM per
			// build, the changed IT6 says environments are reused.
			if want := tc.name == "l3-fails-is3"; (len(a.Inconsistencies) != 0) != want ||
				(want && a.Inconsistencies[0].Rule != "fresh-environment-reused") {
				t.Errorf("inconsistencies %+v", a.Inconsistencies)
			}
			// Every failing L3 sample differs from the L3 set in exactly one
			// answer, so each gap points at one question.
			if strings.HasPrefix(tc.name, "l3-fails-") {
				if len(a.Gaps) != 1 || a.Gaps[0].Code != tc.unmet[0] {
					t.Fatalf("gaps %+v", a.Gaps)
				}
				if a.Gaps[0].Threat == "" || a.Gaps[0].HowToMeet == "" {
					t.Error("gap without threat or remedy")
				}
			}
			js, err := json.MarshalIndent(a, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("..", "testdata", "assess", tc.name+".json"), append(js, '\n'))
			var txt bytes.Buffer
			render.Assessment(&txt, tc.name+".json", doc.Q(), a)
			golden.Check(t, filepath.Join("..", "testdata", "assess", tc.name+".txt"), txt.Bytes())
		})
	}
}

func TestBestPracticeNeverChangesLevel(t *testing.T) {
	doc := load(t, "l3-hosted")
	for _, qu := range doc.Q().Deciders(questionnaire.BestPracticeCode) {
		for _, c := range qu.Choices {
			if c.Effects[questionnaire.BestPracticeCode] != questionnaire.Fails || len(c.Effects) > 1 {
				continue
			}
			a := doc.Answers[qu.ID]
			a.Choice = c.Value
			if err := doc.Set(qu.ID, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := assess.Assess(doc, assess.Options{})
	if a.Level != 3 {
		t.Fatalf("level %v after failing best practices, want L3", a.Level)
	}
	if len(a.BestPractice) == 0 {
		t.Fatal("no best-practice findings reported")
	}
	bp, _ := a.Requirement("BP")
	if bp.Status != assess.NotMet {
		t.Fatalf("BP status %s", bp.Status)
	}
}

func TestEmptyDocumentIsLevel0WithEverythingOpen(t *testing.T) {
	doc := questionnaire.NewDocument(questionnaire.Default())
	a := assess.Assess(doc, assess.Options{})
	if a.Level != 0 || a.ClaimSupported {
		t.Fatalf("level %v supported %v", a.Level, a.ClaimSupported)
	}
	if a.Answered != 0 || len(a.Unanswered) != a.Total {
		t.Fatalf("answered %d unanswered %d of %d", a.Answered, len(a.Unanswered), a.Total)
	}
	if a.NextLevel == nil || *a.NextLevel != 1 || len(a.Gaps) != 1 || a.Gaps[0].Code != "EX" || a.Gaps[0].Status != assess.Unanswered {
		t.Fatalf("gaps %+v", a.Gaps)
	}
}

func TestMissingEvidence(t *testing.T) {
	doc := load(t, "l3-hosted")
	a := doc.Answers["CA1"]
	a.Evidence = nil
	doc.Set("CA1", a)
	res := assess.Assess(doc, assess.Options{})
	r, _ := res.Requirement("IS4")
	if r.Status != assess.NeedsEvidence || res.Level != 2 {
		t.Fatalf("IS4 %s, level %v; want needs-evidence and L2", r.Status, res.Level)
	}
	if !strings.Contains(r.Reason, "CA1") {
		t.Fatalf("reason %q does not name CA1", r.Reason)
	}
}

func TestUnansweredDecider(t *testing.T) {
	doc := load(t, "l3-hosted")
	delete(doc.Answers, "EP5")
	res := assess.Assess(doc, assess.Options{})
	r, _ := res.Requirement("UF-d")
	if r.Status != assess.Unanswered || !strings.Contains(r.Reason, "EP5") {
		t.Fatalf("UF-d %s (%s)", r.Status, r.Reason)
	}
	if !slices.Contains(res.Unanswered, "EP5") {
		t.Fatal("EP5 not listed as unanswered")
	}
}

func TestVerdicts(t *testing.T) {
	doc := load(t, "l3-hosted")
	all := map[string]assess.Verdict{}
	for id := range doc.Answers {
		all[id] = assess.Accepted
	}
	if a := assess.Assess(doc, assess.Options{Verdicts: all}); a.Level != 3 {
		t.Fatalf("all accepted: level %v", a.Level)
	}
	all["IT6"] = assess.Rejected
	a := assess.Assess(doc, assess.Options{Verdicts: all})
	if r, _ := a.Requirement("IS3"); r.Status != assess.NotMet || a.Level != 2 {
		t.Fatalf("IT6 rejected: IS3 %s level %v", r.Status, a.Level)
	}
	all["IT6"] = assess.VerdictNeedsEvidence
	a = assess.Assess(doc, assess.Options{Verdicts: all})
	if r, _ := a.Requirement("IS3"); r.Status != assess.NeedsEvidence {
		t.Fatalf("IT6 needs evidence: IS3 %s", r.Status)
	}
	delete(all, "IT6")
	a = assess.Assess(doc, assess.Options{Verdicts: all})
	if r, _ := a.Requirement("IS3"); r.Status != assess.NeedsEvidence {
		t.Fatalf("IT6 unreviewed: IS3 %s", r.Status)
	}
}

func loadFile(t *testing.T, rel string) *questionnaire.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "answers", rel))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return doc
}

// Each mapping correction of questionnaire slsa-build-1.0/2: an answers file
// written with slsa-build-1.0/1 (testdata/answers/v1), most of which reached
// Build L3 then. Loaded now, a split choice needs a new answer (and blocks
// L3 until given); each honest new answer gets the level the corrected
// mapping gives.
func TestMappingCorrections(t *testing.T) {
	type answer struct{ q, choice string }
	cases := []struct {
		file     string
		was      questionnaire.Level // level under slsa-build-1.0/1
		reanswer []string            // questions marked "needs re-answer" on load
		loaded   questionnaire.Level // level as loaded
		set      []answer            // the honest new answers
		level    questionnaire.Level
		notMet   []string // requirements that must not be met afterwards
	}{
		{"ca2-trusted-writers", 3, []string{"CA2", "CA3"}, 2, []answer{{"CA2", "same-tenant-builds"}, {"CA3", "key-from-complete-inputs"}}, 2, []string{"IS4"}},
		{"ca2-trusted-writers", 3, []string{"CA2", "CA3"}, 2, []answer{{"CA2", "provenance-per-entry"}, {"CA3", "key-from-complete-inputs"}}, 3, nil},
		{"ca3-digest-verified", 3, []string{"CA2", "CA3"}, 2, []answer{{"CA2", "control-plane-only"}, {"CA3", "writer-recorded-digest"}}, 2, []string{"IS4"}},
		{"ca3-digest-verified", 3, []string{"CA2", "CA3"}, 2, []answer{{"CA2", "control-plane-only"}, {"CA3", "output-identical"}}, 3, nil},
		{"os2-build-reports-digests", 3, []string{"OS2"}, 0, []answer{{"OS2", "build-reports-unchecked"}}, 2, []string{"UF-c"}},
		{"os2-build-reports-digests", 3, []string{"OS2"}, 0, []answer{{"OS2", "build-reports-output-digests-only"}}, 3, nil},
		{"signing-keyless", 3, []string{"signing", "CS1"}, 1, []answer{{"signing", "sigstore-keyless-build-reachable"}, {"CS1", "keyless-build-reachable"}}, 2, []string{"UF-a", "UF-b"}},
		{"signing-keyless", 3, []string{"signing", "CS1"}, 1, []answer{{"signing", "sigstore-keyless-platform-job"}, {"CS1", "keyless-platform-job"}}, 3, nil},
		{"ce1-explicit-inputs", 3, []string{"CE1"}, 2, []answer{{"CE1", "explicit-inputs-signing-reachable"}}, 2, []string{"UF-b"}},
		{"ce1-explicit-inputs", 3, []string{"CE1"}, 2, []answer{{"CE1", "explicit-inputs-no-signing"}}, 3, nil},
		{"ce1-platform-credentials", 2, nil, 2, nil, 2, []string{"UF-b", "IS1"}},
		{"cs2-break-glass", 3, []string{"CS2"}, 2, []answer{{"CS2", "break-glass-single"}}, 2, []string{"UF-a"}},
		{"cs2-break-glass", 3, []string{"CS2"}, 2, []answer{{"CS2", "break-glass-multi-party"}}, 3, nil},
		{"it1-container-shared-kernel", 2, []string{"IT1"}, 2, []answer{{"IT1", "container-fresh-hardened"}}, 3, nil},
		{"it1-container-shared-kernel", 2, []string{"IT1"}, 2, []answer{{"IT1", "container-shared"}}, 2, []string{"IS2", "IS3"}},
		{"dp3-network-perimeter", 2, nil, 2, nil, 3, nil},
		{"it3-default", 2, nil, 2, nil, 3, nil},
		{"ep1-passed-through-build-reported", 2, nil, 2, nil, 2, []string{"UF-c", "UF-d"}},
		{"cd1-host-os", 3, nil, 2, nil, 2, []string{"IS1", "IS3"}},
		{"cd1-tenant-image", 3, []string{"CD1"}, 2, []answer{{"CD1", "tenant-image-unrecorded"}}, 2, []string{"UF-d"}},
		{"cd1-tenant-image", 3, []string{"CD1"}, 2, []answer{{"CD1", "tenant-image-recorded"}}, 3, nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			// Read with the mapping it was written for, the file reached
			// the level the correction changes (most reached Build L3).
			if old := assess.Assess(asWritten(t, "v1/"+tc.file+".json"), assess.Options{}); old.Level != tc.was {
				t.Fatalf("under slsa-build-1.0/1: level %v, want %v", old.Level, tc.was)
			}
			doc := loadFile(t, "v1/"+tc.file+".json")
			if doc.UpgradedFrom() != "slsa-build-1.0/1" || doc.Questionnaire != questionnaire.DefaultVersion {
				t.Fatalf("not upgraded: from %q to %q", doc.UpgradedFrom(), doc.Questionnaire)
			}
			// Every v1 file but one answered CE1 "explicit-inputs", itself split.
			want := slices.Clone(tc.reanswer)
			if doc.Answers["CE1"].NeedsReanswer != "" {
				if !slices.ContainsFunc(tc.set, func(a answer) bool { return a.q == "CE1" }) {
					tc.set = append(tc.set, answer{"CE1", "explicit-inputs-no-signing"})
				}
				if !slices.Contains(want, "CE1") {
					want = append(want, "CE1")
				}
			}
			if got := doc.NeedsReanswer(); !sameSet(got, want) {
				t.Fatalf("needs re-answer %v, want %v", got, want)
			}
			a := assess.Assess(doc, assess.Options{})
			if a.Level != tc.loaded {
				t.Fatalf("level as loaded %v, want %v", a.Level, tc.loaded)
			}
			if !sameSet(a.NeedsReanswer, want) {
				t.Fatalf("assessment needs re-answer %v", a.NeedsReanswer)
			}
			for _, s := range tc.set {
				ans := doc.Answers[s.q]
				ans.Choice = s.choice
				if err := doc.Set(s.q, ans); err != nil {
					t.Fatal(err)
				}
			}
			if got := doc.NeedsReanswer(); len(got) != 0 {
				t.Fatalf("still needs re-answer: %v", got)
			}
			a = assess.Assess(doc, assess.Options{})
			if a.Level != tc.level {
				t.Errorf("level %v, want %v (unmet %v)", a.Level, tc.level, a.Unmet(3))
			}
			for _, code := range tc.notMet {
				if r, _ := a.Requirement(code); r.Status != assess.NotMet {
					t.Errorf("%s is %s, want not met", code, r.Status)
				}
			}
		})
	}
}

// asWritten reads an answers file with the questionnaire version it names,
// without upgrading it: what that version's mapping made of it.
func asWritten(t *testing.T, rel string) *questionnaire.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "answers", rel))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Questionnaire string                          `json:"questionnaire"`
		Profile       questionnaire.Profile           `json:"profile"`
		Answers       map[string]questionnaire.Answer `json:"answers"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	q, err := questionnaire.ByVersion(raw.Questionnaire)
	if err != nil {
		t.Fatal(err)
	}
	doc := questionnaire.NewDocument(q)
	doc.Profile = raw.Profile
	for id, a := range raw.Answers {
		if err := doc.Set(id, a); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
	}
	return doc
}

// Each consistency rule: an answers file that is L3 but for two answers that
// contradict each other. The requirements the rule names are inconsistent,
// the level drops, and the reason names the answers that disagree.
func TestConsistencyRules(t *testing.T) {
	q := questionnaire.Default()
	if len(q.Rules) == 0 {
		t.Fatal("no consistency rules")
	}
	for _, rule := range q.Rules {
		t.Run(rule.ID, func(t *testing.T) {
			doc := loadFile(t, "rules/"+rule.ID+".json")
			a := assess.Assess(doc, assess.Options{})
			if a.Level >= 3 {
				t.Fatalf("level %v despite contradicting answers", a.Level)
			}
			var fired bool
			for _, in := range a.Inconsistencies {
				fired = fired || in.Rule == rule.ID
			}
			if !fired {
				t.Fatalf("rule did not fire: %+v", a.Inconsistencies)
			}
			// Nothing else keeps the file from L3: every unmet requirement
			// is one the rule names. Where the contradicting answers each
			// meet it on their own, the rule alone blocks L3 (inconsistent);
			// where one of them fails it anyway (not met), the reason still
			// names the contradiction.
			for _, code := range a.Unmet(3) {
				if !slices.Contains(rule.Requirements, code) {
					t.Errorf("%s is unmet too: the file should differ from L3 only by the contradiction", code)
				}
			}
			for _, code := range rule.Requirements {
				r, _ := a.Requirement(code)
				if r.Status != assess.Inconsistent && r.Status != assess.NotMet {
					t.Errorf("%s is %s, want inconsistent", code, r.Status)
				}
				if !strings.Contains(r.Reason, "inconsistent answers") {
					t.Errorf("%s reason %q does not name the inconsistency", code, r.Reason)
				}
				for _, c := range rule.When {
					if c.Question != "" && !strings.Contains(r.Reason, c.Question) {
						t.Errorf("%s reason %q does not name %s", code, r.Reason, c.Question)
					}
				}
			}
		})
	}
	// The consistent baseline fires no rule.
	if a := assess.Assess(load(t, "l3-hosted"), assess.Options{}); len(a.Inconsistencies) != 0 || a.Level != 3 {
		t.Fatalf("baseline: level %v, inconsistencies %+v", a.Level, a.Inconsistencies)
	}
}

func TestProfileBlocksLevelWithoutBuilderOrSigner(t *testing.T) {
	doc := load(t, "l3-hosted")
	doc.Profile.Signers = nil
	a := assess.Assess(doc, assess.Options{})
	if r, _ := a.Requirement("AU"); a.Level != 1 || r.Status != assess.NotMet || !strings.Contains(r.Reason, "profile.signers") {
		t.Fatalf("no signer: level %v, AU %+v", a.Level, r)
	}
	doc.Profile.Builders = nil
	a = assess.Assess(doc, assess.Options{})
	if r, _ := a.Requirement("EX"); a.Level != 0 || r.Status != assess.NotMet || !strings.Contains(r.Reason, "profile.builders") {
		t.Fatalf("no builder: level %v, EX %+v", a.Level, r)
	}
}

func TestBestPracticeConformance(t *testing.T) {
	doc := load(t, "l3-hosted")
	if err := assess.Assess(doc, assess.Options{}).Conformance(); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	ans := doc.Answers["AD5"]
	ans.Choice = "none"
	doc.Set("AD5", ans)
	a := assess.Assess(doc, assess.Options{})
	if a.Level != 3 {
		t.Fatalf("best practice changed the level to %v", a.Level)
	}
	if err := a.Conformance(); !errors.Is(err, assess.ErrBestPractice) || !strings.Contains(err.Error(), "AD5") {
		t.Fatalf("err = %v, want ErrBestPractice naming AD5", err)
	}
	a = assess.Assess(doc, assess.Options{Waivers: map[string]string{"AD5": "recovery drill scheduled for Q1"}})
	if err := a.Conformance(); err != nil {
		t.Fatalf("waived: %v", err)
	}
	if a.BestPractice[0].Waived != "recovery drill scheduled for Q1" {
		t.Fatalf("waiver not recorded: %+v", a.BestPractice)
	}
	a = assess.Assess(doc, assess.Options{Waivers: map[string]string{"AD5": "x", "AD1": "nothing to waive"}})
	if err := a.Conformance(); !errors.Is(err, assess.ErrWaiver) || !strings.Contains(err.Error(), "AD1") {
		t.Fatalf("err = %v, want ErrWaiver naming AD1", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// The real-platform samples (testdata/platforms), written from each
// platform's public documentation with the sources in evidence, and the
// answers behind the GitHub corpus (testdata/sigstore): the level each
// supports, and the requirements that keep it there.
func TestRealPlatformSamples(t *testing.T) {
	cases := []struct {
		file   string
		level  questionnaire.Level
		notMet []string // level-defining requirements not met
	}{
		{"platforms/github-reusable-workflow.json", 3, nil},
		{"platforms/github-generator-generic.json", 2, []string{"IS4"}},
		{"platforms/github-attest-build-provenance.json", 2, []string{"UF-a", "UF-b", "UF-c", "IS1", "IS4"}},
		{"platforms/google-cloud-build.json", 3, nil},
		{"platforms/jenkins-reused-agents.json", 1, []string{"AU", "UF-a", "UF-b", "UF-c", "UF-d", "IS1", "IS2", "IS3", "IS4", "IS5"}},
		{"platforms/gitlab-hosted-runner.json", 2, []string{"UF-a", "UF-b", "UF-c", "UF-d", "IS1", "IS4"}},
		{"sigstore/example-trw.answers.json", 3, nil},
		{"sigstore/generator-generic.answers.json", 2, []string{"IS4"}},
		{"sigstore/publish-to-bcr.answers.json", 2, []string{"UF-a", "UF-b", "UF-c", "IS1", "IS4"}},
		{"sigstore/release-ruleset.answers.json", 2, []string{"UF-a", "UF-b", "UF-c", "IS1", "IS4"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := questionnaire.ParseAnswers(b)
			if err != nil {
				t.Fatal(err)
			}
			if c, _ := doc.Canonical(); !bytes.Equal(c, b) {
				t.Fatal("not in canonical form")
			}
			a := assess.Assess(doc, assess.Options{})
			if a.Level != tc.level {
				t.Errorf("level %v, want %v (unmet %v)", a.Level, tc.level, a.Unmet(3))
			}
			if got := a.Unmet(3); !sameSet(got, tc.notMet) {
				t.Errorf("unmet %v, want %v", got, tc.notMet)
			}
			if len(a.Inconsistencies) > 0 || len(a.NeedsReanswer) > 0 {
				t.Errorf("inconsistent %+v, needs re-answer %v", a.Inconsistencies, a.NeedsReanswer)
			}
			// Every level-defining answer cites its public source.
			for id, ans := range doc.Answers {
				if qu, _ := doc.Q().Question(id); !slices.Contains(qu.Requirements, questionnaire.BestPracticeCode) && len(ans.Evidence) == 0 && len(qu.Requirements) > 0 {
					t.Errorf("%s cites no source", id)
				}
				for _, e := range ans.Evidence {
					if !strings.HasPrefix(e, "https://") {
						t.Errorf("%s: evidence %q is not a public URL", id, e)
					}
				}
			}
		})
	}
}
