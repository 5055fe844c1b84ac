package report

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/golden"
	"github.com/hallmark-build/hallmark/questionnaire"
)

func input(t *testing.T) Input {
	t.Helper()
	b, err := os.ReadFile("../../testdata/verify/hosted-vm.answers.json")
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
	env, err := os.ReadFile("../../testdata/verify/hosted-vm.capability.json")
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
	return Input{AnswersName: "hosted-vm.answers.json", Doc: doc, Review: rv, ReviewName: "l3-hosted.some-rejected.json",
		Attestation: &Attestation{Path: "hosted-vm.capability.json", Digest: v.EnvelopeDigest, Predicate: v.Predicate, VerifiedBy: v.Key.Fingerprint}}
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
	golden.Check(t, "../../testdata/report/hosted-vm.review.md", md)
	for _, want := range []string{"## Requirements by build-model component", "| IS3 Builds cannot persist into later builds | L3 | NOT MET |", "Auditor's verdict: rejected (runner VMs are reused", "## Gaps to Build L3", "Build L3 for `https://builds.example.com/builders/hosted-vm@v1`", "verified with that key"} {
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
