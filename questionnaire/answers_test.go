package questionnaire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/internal/golden"
)

func samples(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("../testdata/answers/*.json")
	if err != nil || len(paths) < 12 {
		t.Fatalf("sample answers: %v (%d files)", err, len(paths))
	}
	return paths
}

// The samples are stored in canonical form, so their file digest is the
// document digest. -update rewrites them canonically.
func TestSamplesAreCanonical(t *testing.T) {
	for _, p := range samples(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ParseAnswers(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		c, err := doc.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, p, c)
	}
}

func TestRoundTripAndDigestStability(t *testing.T) {
	dir := t.TempDir()
	for _, p := range samples(t) {
		b, _ := os.ReadFile(p)
		doc, err := ParseAnswers(b)
		if err != nil {
			t.Fatal(err)
		}
		d1, err := doc.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, filepath.Base(p))
		if err := doc.Save(out); err != nil {
			t.Fatal(err)
		}
		saved, _ := os.ReadFile(out)
		sum := sha256.Sum256(saved)
		if hex.EncodeToString(sum[:]) != d1 {
			t.Fatalf("%s: file digest differs from Digest()", p)
		}
		doc2, err := ParseAnswers(saved)
		if err != nil {
			t.Fatal(err)
		}
		d2, _ := doc2.Digest()
		if d1 != d2 {
			t.Fatalf("%s: digest changed across a round trip: %s vs %s", p, d1, d2)
		}
		// Re-encoding must not depend on map iteration order.
		for range 5 {
			c, _ := doc2.Canonical()
			if !bytes.Equal(c, saved) {
				t.Fatalf("%s: canonical encoding not stable", p)
			}
		}
	}
}

func TestDigestChangesWithContent(t *testing.T) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	d1, _ := doc.Digest()
	a := doc.Answers["IT1"]
	a.Explanation += "."
	if err := doc.Set("IT1", a); err != nil {
		t.Fatal(err)
	}
	d2, _ := doc.Digest()
	if d1 == d2 {
		t.Fatal("digest did not change when an explanation changed")
	}
}

const minimal = `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/2","profile":{},"answers":%s}`

func TestParseAnswersRejects(t *testing.T) {
	cases := []struct {
		name     string
		doc      string
		sentinel error
		mention  string
	}{
		{"unknown question", strings.Replace(minimal, "%s", `{"IT9":{"choice":"x"}}`, 1), ErrUnknownQuestion, `"IT9"`},
		{"wrong choice", strings.Replace(minimal, "%s", `{"IT1":{"choice":"docker"}}`, 1), ErrInvalidChoice, "question IT1"},
		{"bad date", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","reviewed":"15/10/2026"}}`, 1), ErrInvalidField, "question CA1"},
		{"blank evidence", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":[" "]}}`, 1), ErrInvalidEvidence, "evidence[0]"},
		{"empty evidence", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":[""]}}`, 1), ErrInvalidEvidence, "empty; expected an https URL"},
		{"evidence NONE", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["NONE"]}}`, 1), ErrInvalidEvidence, "doc:NAME"},
		{"evidence none", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["none"]}}`, 1), ErrInvalidEvidence, "an https URL"},
		{"evidence n/a", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["n/a"]}}`, 1), ErrInvalidEvidence, "doc:NAME"},
		{"evidence TBD", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["https://x.example/a","TBD"]}}`, 1), ErrInvalidEvidence, "evidence[1]"},
		{"evidence http", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["http://x.example/a"]}}`, 1), ErrInvalidEvidence, "http://x.example/a"},
		{"evidence javascript", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["javascript:alert(1)"]}}`, 1), ErrInvalidEvidence, "javascript"},
		{"evidence empty doc", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["doc:"]}}`, 1), ErrInvalidEvidence, "doc:"},
		{"evidence doc with space", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","evidence":["doc:a b"]}}`, 1), ErrInvalidEvidence, "doc:"},
		{"escape in explanation", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","explanation":"ok\u001b[2Jfine"}}`, 1), ErrInvalidField, "control character"},
		{"bidi override in explanation", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","explanation":"a\u202eb"}}`, 1), ErrInvalidField, "control character"},
		{"newline in organisation", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/2","profile":{"organization":"a\nb"},"answers":{}}`, ErrInvalidField, "one line"},
		{"duplicate answer", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none"},"CA1":{"choice":"mutable-shared"}}`, 1), ErrMalformed, "given twice"},
		{"duplicate choice member", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","choice":"mutable-shared"}}`, 1), ErrMalformed, "given twice"},
		{"case-variant member", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","Choice":"mutable-shared"}}`, 1), ErrMalformed, "case"},
		{"case-variant top member", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/2","Questionnaire":"slsa-build-1.0/1","profile":{},"answers":{}}`, ErrMalformed, "case"},
		{"case-variant question ids", strings.Replace(minimal, "%s", `{"it1":{"choice":"vm-per-build"},"IT1":{"choice":"vm-per-build"}}`, 1), ErrMalformed, "case"},
		{"unknown field", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","score":3}}`, 1), ErrMalformed, "score"},
		{"wrong schema", `{"schema":"https://example.com/v9","questionnaire":"slsa-build-1.0/1"}`, ErrUnknownSchema, "example.com"},
		{"unknown questionnaire", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"v0"}`, ErrUnknownQuestionnaire, `"v0"`},
		{"not json", `{"schema":`, ErrMalformed, ""},
		{"trailing data", strings.Replace(minimal, "%s", `{}`, 1) + `{}`, ErrMalformed, "more than one value"},
		{"bad level", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/2","profile":{"claimedLevel":5}}`, ErrMalformed, "expected 0-3"},
		{"bad builder id", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/1","profile":{"builders":[{"id":"not a uri"}]}}`, ErrInvalidField, "builders[0]"},
		{"bad public key", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/1","profile":{"signers":[{"publicKey":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}]}}`, ErrInvalidField, "signers[0]"},
		{"sigstore without san", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/1","profile":{"signers":[{"oidcIssuer":"https://token.actions.githubusercontent.com"}]}}`, ErrInvalidField, "san"},
		{"bad san regexp", `{"schema":"https://hallmark.build/answers/v1","questionnaire":"slsa-build-1.0/1","profile":{"signers":[{"oidcIssuer":"https://issuer.example","sanRegexp":"("}]}}`, ErrInvalidField, "sanRegexp"},
		{"oversize", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","explanation":"`+strings.Repeat("a", MaxAnswersBytes)+`"}}`, 1), ErrTooLarge, ""},
		{"oversize explanation", strings.Replace(minimal, "%s", `{"CA1":{"choice":"none","explanation":"`+strings.Repeat("a", MaxTextBytes+1)+`"}}`, 1), ErrInvalidField, "question CA1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAnswers([]byte(tc.doc))
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestPartialDocumentIsValid(t *testing.T) {
	doc, err := ParseAnswers([]byte(strings.Replace(minimal, "%s", `{"IT1":{"explanation":"still thinking"}}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Answers["IT1"].Answered() {
		t.Fatal("an answer without a choice counts as answered")
	}
}

func TestReadAnswersLimitsInput(t *testing.T) {
	big := strings.NewReader(strings.Repeat(" ", MaxAnswersBytes+10))
	if _, err := ReadAnswers(big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestSetValidatesAndClears(t *testing.T) {
	doc := NewDocument(Default())
	if err := doc.Set("IT1", Answer{Choice: "nope"}); !errors.Is(err, ErrInvalidChoice) {
		t.Fatalf("err = %v", err)
	}
	if err := doc.Set("XX", Answer{}); !errors.Is(err, ErrUnknownQuestion) {
		t.Fatalf("err = %v", err)
	}
	if err := doc.Set("IT1", Answer{Choice: "vm-per-build", Evidence: []string{"", "doc:runbook-12"}}); err != nil {
		t.Fatal(err)
	}
	if got := doc.Answers["IT1"].Evidence; len(got) != 1 || got[0] != "doc:runbook-12" {
		t.Fatalf("blank evidence kept: %q", got)
	}
	if err := doc.Set("IT1", Answer{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Answers["IT1"]; ok {
		t.Fatal("empty answer not removed")
	}
}

func TestSignerFingerprint(t *testing.T) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, err := ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := doc.Profile.Signers[0].Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+43 {
		t.Fatalf("fingerprint %q", fp)
	}
}

func FuzzParseAnswers(f *testing.F) {
	for _, p := range samples(f) {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(strings.Replace(minimal, "%s", `{"IT1":{"choice":"docker"}}`, 1)))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := ParseAnswers(b)
		if err != nil {
			return
		}
		// Property: anything accepted re-encodes canonically, parses again
		// and keeps its digest.
		c, err := doc.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		doc2, err := ParseAnswers(c)
		if err != nil {
			t.Fatalf("canonical form rejected: %v", err)
		}
		c2, _ := doc2.Canonical()
		if !bytes.Equal(c, c2) {
			t.Fatal("canonical form not a fixed point")
		}
	})
}

func TestReviewBindsAnswersDigest(t *testing.T) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	rv, err := NewReview(doc, "l3-hosted.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Record(doc, "IT1", Accepted, "seen the VM lifecycle code"); err != nil {
		t.Fatal(err)
	}
	if err := rv.Record(doc, "IT6", "maybe", ""); !errors.Is(err, ErrInvalidVerdict) {
		t.Fatalf("invalid verdict: %v", err)
	}
	out, _ := rv.Canonical()
	back, err := ParseReview(out, doc)
	if err != nil {
		t.Fatal(err)
	}
	if back.Verdicts["IT1"].Verdict != Accepted || back.VerdictMap()["IT1"] != Accepted {
		t.Fatalf("round trip: %+v", back.Verdicts)
	}
	// Against other answers: refused.
	other, _ := os.ReadFile("../testdata/answers/l2-reused-runners.json")
	odoc, _ := ParseAnswers(other)
	if _, err := ParseReview(out, odoc); !errors.Is(err, ErrReviewDigest) {
		t.Fatalf("other answers: %v", err)
	}
	// A verdict on an unanswered question, one moved to another answer, or
	// a bad verdict value: refused.
	d, _ := doc.Digest()
	v1 := `{"schema":"https://hallmark.build/review/v1","answersDigest":"` + d + `","verdicts":{"XX9":{"verdict":"accepted"}}}`
	if _, err := ParseReview([]byte(v1), doc); !errors.Is(err, ErrUnknownReviewEntry) {
		t.Fatalf("unknown entry: %v", err)
	}
	bad := strings.Replace(string(out), `"IT1"`, `"IT6"`, 1)
	if _, err := ParseReview([]byte(bad), doc); !errors.Is(err, ErrMalformedReview) || !strings.Contains(err.Error(), "answerDigest") {
		t.Fatalf("verdict moved to another question: %v", err)
	}
	bad = strings.Replace(string(out), `"accepted"`, `"ok"`, 1)
	if _, err := ParseReview([]byte(bad), doc); !errors.Is(err, ErrMalformedReview) || !strings.Contains(err.Error(), "expected accepted, rejected or needs-evidence") {
		t.Fatalf("bad verdict: %v", err)
	}
}

func FuzzParseReview(f *testing.F) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	rv, _ := NewReview(doc, "a.json")
	rv.Record(doc, "IT1", Rejected, "no")
	seed, _ := rv.Canonical()
	f.Add(seed)
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReview(b, doc)
		if err != nil {
			return
		}
		for id, e := range r.Verdicts {
			if _, ok := doc.Answers[id]; !ok || (e.Verdict != "" && !e.Verdict.Valid()) {
				t.Fatalf("accepted a bad entry %q %+v", id, e)
			}
		}
	})
}

func TestBuilderValidate(t *testing.T) {
	for _, tc := range []struct {
		b  Builder
		ok bool
	}{
		{Builder{ID: "https://ci.example/b@v1"}, true},
		{Builder{IDRegexp: `https://ci\.example/b@v[0-9]+`}, true},
		{Builder{}, false},
		{Builder{ID: "https://ci.example/b@v1", IDRegexp: "x"}, false},
		{Builder{IDRegexp: "("}, false},
		{Builder{ID: "relative/path"}, false},
	} {
		if err := tc.b.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v", tc.b, err)
		}
	}
}

// A v1 review (no per-answer digests) is still read against its answers and
// gains them; it is saved as v2.
func TestReviewV1StillReadable(t *testing.T) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	d, _ := doc.Digest()
	v1 := `{"schema":"https://hallmark.build/review/v1","answersDigest":"` + d + `","verdicts":{"IT1":{"verdict":"accepted","comment":"ok"}}}`
	rv, err := ParseReview([]byte(v1), doc)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Schema != ReviewSchema || rv.Verdicts["IT1"].AnswerDigest != AnswerDigest("IT1", doc.Answers["IT1"]) {
		t.Fatalf("not upgraded: %+v", rv)
	}
	// Against changed answers a v1 review cannot carry over.
	doc.Answers["IT6"] = Answer{Choice: "reused"}
	if _, _, err := ReopenReview([]byte(v1), doc); !errors.Is(err, ErrReviewDigest) {
		t.Fatalf("v1 carried over: %v", err)
	}
}

// Re-review: the verdicts on unchanged answers carry over; those on changed
// answers are withdrawn and marked, with the old answer kept.
func TestReopenReviewCarriesOverUnchanged(t *testing.T) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	rv, _ := NewReview(doc, "l3-hosted.json")
	for _, id := range []string{"IT1", "IT6", "CA1"} {
		if err := rv.Record(doc, id, Accepted, "checked"); err != nil {
			t.Fatal(err)
		}
	}
	saved, _ := rv.Canonical()

	old := doc.Answers["IT6"]
	changed := old
	changed.Choice, changed.Explanation = "reused", "Runners are reused now."
	if err := doc.Set("IT6", changed); err != nil {
		t.Fatal(err)
	}
	delete(doc.Answers, "CA1")
	if _, err := ParseReview(saved, doc); !errors.Is(err, ErrReviewDigest) {
		t.Fatalf("strict load of a review for other answers: %v", err)
	}
	re, ch, err := ReopenReview(saved, doc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch, []string{"CA1", "IT6"}) || !slices.Equal(re.Changed(), []string{"IT6"}) {
		t.Fatalf("changed %v, marked %v", ch, re.Changed())
	}
	if re.Verdicts["IT1"].Verdict != Accepted {
		t.Fatalf("unchanged verdict lost: %+v", re.Verdicts["IT1"])
	}
	e := re.Verdicts["IT6"]
	if e.Verdict != "" || !e.ChangedSinceReview || e.PreviousVerdict != Accepted || e.Answer == nil || e.Answer.Choice != old.Choice {
		t.Fatalf("changed entry: %+v", e)
	}
	if _, ok := re.Verdicts["CA1"]; ok {
		t.Fatal("verdict on a removed answer kept")
	}
	// Saved and loaded strictly against the new answers.
	out, _ := re.Canonical()
	back, err := ParseReview(out, doc)
	if err != nil {
		t.Fatal(err)
	}
	if back.VerdictMap()["IT6"] != "" || back.VerdictMap()["IT1"] != Accepted {
		t.Fatalf("verdicts %v", back.VerdictMap())
	}
	// A new verdict ends "changed since review".
	if err := back.Record(doc, "IT6", Rejected, "reused runners"); err != nil {
		t.Fatal(err)
	}
	if e := back.Verdicts["IT6"]; e.ChangedSinceReview || e.AnswerDigest != AnswerDigest("IT6", doc.Answers["IT6"]) {
		t.Fatalf("after a new verdict: %+v", e)
	}
}

func TestReviewStrictDecoding(t *testing.T) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	d, _ := doc.Digest()
	head := `{"schema":"https://hallmark.build/review/v1","answersDigest":"` + d + `",`
	for name, doc2 := range map[string]string{
		"duplicate verdict":      head + `"verdicts":{"IT1":{"verdict":"rejected","verdict":"accepted"}}}`,
		"duplicate question":     head + `"verdicts":{"IT1":{"verdict":"rejected"},"IT1":{"verdict":"accepted"}}}`,
		"case-variant member":    head + `"verdicts":{"IT1":{"Verdict":"accepted"}}}`,
		"case-variant top":       head + `"Verdicts":{},"verdicts":{}}`,
		"case-variant questions": head + `"verdicts":{"IT1":{"verdict":"rejected"},"it1":{"verdict":"accepted"}}}`,
		"unknown member":         head + `"verdicts":{},"score":1}`,
		"escape in comment":      head + `"verdicts":{"IT1":{"verdict":"accepted","comment":"\u001b[2J"}}}`,
	} {
		if _, err := ParseReview([]byte(doc2), doc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSaveKeepsPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.json")
	doc := NewDocument(Default())
	if err := doc.Save(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("new file mode %v", st.Mode().Perm())
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	doc.Profile.Organization = "x"
	if err := doc.Save(path); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("saving changed the mode to %v", st.Mode().Perm())
	}
	// Reviews too.
	rpath := filepath.Join(t.TempDir(), "answers.review.json")
	rv, err := NewReview(doc, "answers.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := rv.Save(rpath); err != nil {
		t.Fatal(err)
	}
	os.Chmod(rpath, 0o640)
	rv.Reviewer = "https://audit.example"
	if err := rv.Save(rpath); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(rpath); st.Mode().Perm() != 0o640 {
		t.Fatalf("saving the review changed its mode to %v", st.Mode().Perm())
	}
}

// Reopening a review against changed answers never keeps a verdict on an
// answer whose digest differs, whatever the review says.
func FuzzReopenReview(f *testing.F) {
	b, _ := os.ReadFile("../testdata/answers/l3-hosted.json")
	doc, _ := ParseAnswers(b)
	rv, _ := NewReview(doc, "a.json")
	rv.Record(doc, "IT1", Accepted, "ok")
	rv.Record(doc, "IT6", Rejected, "no")
	seed, _ := rv.Canonical()
	f.Add(seed)
	f.Add([]byte(`{"schema":"https://hallmark.build/review/v1","answersDigest":"x","verdicts":{}}`))
	changed, _ := ParseAnswers(b)
	a := changed.Answers["IT6"]
	a.Explanation = "changed"
	changed.Answers["IT6"] = a
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, err := ReopenReview(b, changed)
		if err != nil {
			return
		}
		for id, e := range r.Verdicts {
			if e.Verdict != "" && e.AnswerDigest != AnswerDigest(id, changed.Answers[id]) {
				t.Fatalf("verdict on %s kept for another answer", id)
			}
		}
	})
}

// Evidence is an https URL with a host or doc:NAME, and nothing else.
func FuzzValidateEvidence(f *testing.F) {
	for _, s := range []string{"https://x.example/a", "doc:runbook-1", "TBD", "", "http://x", "javascript:alert(1)", "doc:", "https://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateEvidence(s) != nil {
			return
		}
		if strings.HasPrefix(s, "doc:") {
			if strings.ContainsAny(s, " \t\n<>\"`") {
				t.Fatalf("accepted %q", s)
			}
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Fatalf("accepted %q", s)
		}
	})
}
