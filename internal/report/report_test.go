package report

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/golden"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func input(t *testing.T) Input {
	t.Helper()
	b, err := os.ReadFile("../../testdata/answers/l3-hosted.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := os.ReadFile("../../testdata/review/l3-hosted.some-rejected.json")
	if err != nil {
		t.Fatal(err)
	}
	rv, err := questionnaire.ParseReview(rb, doc)
	if err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile("../../testdata/report/l3-hosted.capability.json")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := attest.LoadPublicKeyFile("../../testdata/keys/operator.pub")
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Verify(context.Background(), env, []*attest.PublicKey{pub}, attest.VerifyOptions{At: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), Answers: b})
	if err != nil {
		t.Fatal(err)
	}
	return Input{AnswersName: "l3-hosted.json", Doc: doc, Review: rv, ReviewName: "l3-hosted.some-rejected.json",
		Generated:   time.Date(2026, 11, 15, 9, 30, 0, 0, time.UTC),
		Attestation: &Attestation{Path: "l3-hosted.capability.json", KeyName: "operator.pub", Digest: v.EnvelopeDigest, Predicate: v.Predicate, VerifiedBy: v.Key.Fingerprint}}
}

func TestMarkdownGolden(t *testing.T) {
	m, err := Build(input(t))
	if err != nil {
		t.Fatal(err)
	}
	md, err := Markdown(m)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "../../testdata/report/l3-hosted.review.md", md)
	for _, want := range []string{"## Requirements by build-model component", "| IS3 Builds cannot persist into later builds | L3 | NOT MET |", "Auditor's verdict: **REJECTED** (runner VMs are reused", "## Gaps to Build L3", "Build L3 for `https://builds.example.com/builders/hosted-vm@v1`", "verified with that key",
		"Report made on 2026-11-15T09:30:00Z", "hallmark verify-attestation l3-hosted.capability.json --key operator.pub --answers l3-hosted.json",
		"[https://builds.example.com/security/signing](<https://builds.example.com/security/signing>)"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	m, _ := Build(input(t))
	h, err := HTML(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if bytes.Contains(h, []byte(bad)) {
			t.Errorf("HTML loads an external resource (%s)", bad)
		}
	}
}

// Text from the answers cannot change the structure of the Markdown: no
// heading, no fake verdict line, no raw HTML, no javascript: link, no table
// cell break.
func TestMarkdownEscapesInput(t *testing.T) {
	in := input(t)
	doc := in.Doc
	evil := "ok\n## Verdict: accepted\n- Auditor's verdict: accepted <script>alert(1)</script> [click](javascript:alert(1)) | x | ![i](https://e.example/i.png) `code` *b* _i_ &amp;"
	a := doc.Answers["IT1"]
	a.Explanation = evil
	doc.Answers["IT1"] = a
	doc.Profile.Organization = "Org | injected <b>bold</b>"
	doc.Profile.Builders[0].Mode = "mode`with`ticks | and pipes"
	m, err := Build(Input{AnswersName: "a`b.json", Doc: doc, Review: nil})
	if err != nil {
		t.Fatal(err)
	}
	md, err := Markdown(m)
	if err != nil {
		t.Fatal(err)
	}
	s := string(md)
	for _, bad := range []string{"\n## Verdict", "\n- Auditor's verdict: accepted", "<script", "](javascript:", "<b>", "| x |", "![i]"} {
		if strings.Contains(s, bad) {
			t.Errorf("markdown contains %q", bad)
		}
	}
	for _, want := range []string{"ok \\#\\# Verdict: accepted", "&lt;script&gt;", "\\[click\\]\\(javascript:alert\\(1\\)\\)", "Org \\| injected &lt;b&gt;", "&amp;amp;"} {
		if !strings.Contains(s, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	h, _ := HTML(m)
	if strings.Contains(string(h), "<script>alert") || strings.Contains(string(h), `href="javascript:`) {
		t.Error("HTML carries the injected script or link")
	}
}

func TestMarkdownHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"https://x.example/a(b)": "[https://x.example/a\\(b\\)](<https://x.example/a%28b%29>)",
		"javascript:alert(1)":    "javascript:alert\\(1\\)",
		"doc:runbook-12":         "doc:runbook-12",
		"http://x.example/plain": "[http://x.example/plain](<http://x.example/plain>)",
	} {
		if got := mdLink(in); got != want {
			t.Errorf("mdLink(%q) = %q, want %q", in, got, want)
		}
	}
	if got := mdCode("a`b"); got != "``a`b``" {
		t.Errorf("mdCode = %q", got)
	}
	if got := shellWord("my file's.json"); got != `'my file'\''s.json'` {
		t.Errorf("shellWord = %q", got)
	}
}

// Whatever the text, the Markdown escaper keeps it on one line and lets no
// Markdown or HTML syntax character through unescaped.
func FuzzMarkdownText(f *testing.F) {
	for _, s := range []string{"ok\n## Verdict", "<script>", "[x](javascript:1)", "a|b", "`code`", "\\*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := mdText(s)
		if strings.ContainsAny(out, "\n\r<>") {
			t.Fatalf("mdText(%q) = %q", s, out)
		}
		for i := 0; i < len(out); i++ {
			c := out[i]
			if c == '\\' {
				i++ // an escape and the character it escapes
				continue
			}
			if strings.IndexByte("`*_{}[]()#|!~", c) >= 0 {
				t.Fatalf("mdText(%q) = %q: unescaped %q", s, out, c)
			}
		}
	})
}
