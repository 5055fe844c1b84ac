package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// check decides as attest does: for every sample answers file (synthetic,
// consistency-rule, real-platform and corpus answers), with and without
// waivers, "hallmark check" exits 0 exactly when "hallmark attest" signs, and
// 1 exactly when it refuses. A level check calls supported can be attested.
func TestCheckAndAttestAgree(t *testing.T) {
	dir := t.TempDir()
	k, err := attest.GenerateKey(attest.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := k.MarshalUnencrypted()
	key := filepath.Join(dir, "op.key")
	if err := os.WriteFile(key, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, g := range []string{"answers/*.json", "answers/rules/*.json", "platforms/*.json", "sigstore/*.answers.json"} {
		m, _ := filepath.Glob(filepath.Join("../../testdata", g))
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("only %d sample files", len(files))
	}
	// Each file as it is, and without provenance signers (attest cannot
	// sign above L1 without one, so check must not call it supported).
	var variants []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := questionnaire.ParseAnswers(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(doc.Profile.Signers) == 0 {
			continue
		}
		doc.Profile.Signers = nil
		nosigner := filepath.Join(dir, "nosigner-"+filepath.Base(f))
		if err := doc.Save(nosigner); err != nil {
			t.Fatal(err)
		}
		variants = append(variants, nosigner)
	}
	signed, refused := 0, 0
	for _, f := range append(files, variants...) {
		for _, extra := range [][]string{nil, {"--waive", "AD5=restore drill booked"}} {
			name := filepath.Base(f)
			answers := filepath.Join(dir, "copy-"+name)
			if b, err := os.ReadFile(f); err != nil || os.WriteFile(answers, b, 0o644) != nil {
				t.Fatalf("copy %s: %v", f, err)
			}
			ccode, cout, cerr := runArgs(t, "", append([]string{"check", answers}, extra...)...)
			out := filepath.Join(dir, name+".cap.json")
			acode, _, aerr := runArgs(t, "", append([]string{"attest", answers, "--key", key, "-o", out, "--force"}, extra...)...)
			if ccode != acode || (ccode != cli.ExitOK && ccode != cli.ExitFailed) {
				t.Errorf("%s %v: check exits %d, attest exits %d\ncheck: %s%s\nattest: %s", f, extra, ccode, acode, lastLines(cout, 3), cerr, aerr)
				continue
			}
			if ccode == cli.ExitOK {
				signed++
				if !strings.Contains(cout, "hallmark attest would sign") {
					t.Errorf("%s: check passes without saying attest would sign:\n%s", f, cout)
				}
			} else {
				refused++
				if !strings.Contains(cout, "hallmark attest would refuse") {
					t.Errorf("%s: check fails without saying attest would refuse:\n%s", f, cout)
				}
			}
		}
	}
	if signed == 0 || refused == 0 {
		t.Fatalf("signed %d, refused %d: the samples should exercise both", signed, refused)
	}
}

// With several builders, check says attest needs --builder-id; attest
// without it is a usage error (exit 2), with it signs.
func TestCheckAndAttestSeveralBuilders(t *testing.T) {
	dir := t.TempDir()
	k, _ := attest.GenerateKey(attest.Ed25519, nil)
	pem, _ := k.MarshalUnencrypted()
	key := filepath.Join(dir, "op.key")
	os.WriteFile(key, pem, 0o600)
	b, err := os.ReadFile("../../testdata/answers/l3-hosted.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	doc.Profile.Builders = append(doc.Profile.Builders, questionnaire.Builder{ID: "https://builds.example.com/builders/other@v1"})
	answers := filepath.Join(dir, "two.json")
	if err := doc.Save(answers); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runArgs(t, "", "check", answers)
	if code != cli.ExitOK || !strings.Contains(out, "--builder-id") {
		t.Fatalf("check exits %d:\n%s", code, out)
	}
	code, _, stderr := runArgs(t, "", "attest", answers, "--key", key, "-o", filepath.Join(dir, "a.json"))
	if code != cli.ExitUsage || !strings.Contains(stderr, "choose one with --builder-id") {
		t.Fatalf("attest without --builder-id exits %d: %s", code, stderr)
	}
	code, _, stderr = runArgs(t, "", "attest", answers, "--key", key, "-o", filepath.Join(dir, "b.json"), "--builder-id", "https://builds.example.com/builders/other@v1")
	if code != cli.ExitOK {
		t.Fatalf("attest --builder-id exits %d: %s", code, stderr)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n") + "\n"
}
