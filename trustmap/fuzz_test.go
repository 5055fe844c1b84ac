package trustmap_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

func FuzzVerifyProvenance(f *testing.F) {
	roots := loadRoots(f)
	for _, c := range loadCases(f) {
		b, err := os.ReadFile(filepath.Join(verifyDir, c.Provenance))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Real Sigstore bundles too, so the bundle path is explored.
	for _, p := range []string{"bcr/MODULE.bazel.intoto.jsonl", "gha_delegator-v2.1.0/binary-linux-amd64-push-v14.build.slsa"} {
		b, err := os.ReadFile(filepath.Join(corpusDir, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	trust := publicGood(f)
	art := trustmap.BytesArtifact("a", []byte(artifactData))
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := trustmap.Verify(context.Background(), roots, b, []*trustmap.Artifact{art}, trustmap.VerifyOptions{At: verifyAt, Sigstore: trust, Expect: &trustmap.Expectations{SourceURI: "https://git.example.com/app"}})
		// Property: a pass carries no error, a failure always has one.
		if (err == nil) != res.Passed {
			t.Fatalf("passed=%v with err=%v", res.Passed, err)
		}
		if res.Passed && res.Documents[res.Passing].Checks[0].ID != "signature" {
			t.Fatal("passed without a signature check first")
		}
	})
}

func FuzzParseRoots(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(verifyDir, "roots.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"schema":"https://hallmark.build/roots/v1","entries":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := trustmap.ParseRoots(b)
		if err != nil {
			return
		}
		// Property: what parses re-encodes to something that parses to
		// the same encoding.
		out, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := trustmap.ParseRoots(out)
		if err != nil {
			t.Fatalf("re-encoded roots rejected: %v", err)
		}
		out2, _ := r2.Marshal()
		if string(out) != string(out2) {
			t.Fatal("roots encoding not stable")
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(verifyDir, "policy.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"schema":"https://hallmark.build/policy/v1","packages":{"a":{"externalParameters":{"x":{"pattern":"["}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := trustmap.ParsePolicy(b)
		if err != nil {
			return
		}
		if p.Schema != trustmap.PolicySchema && p.Schema != trustmap.PolicySchemaV1 {
			t.Fatal("accepted a policy with another schema")
		}
	})
}

// FuzzParseConfig covers the verifier's other inputs: certifiers,
// revocations and the trust-on-first-use store. None may panic, and what
// parses keeps its schema.
func FuzzParseConfig(f *testing.F) {
	cb, err := os.ReadFile(filepath.Join(verifyDir, "certifiers.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(cb)
	f.Add([]byte(`{"schema":"https://hallmark.build/revocations/v1","revoked":[{"attestationDigest":"ab","reason":"x"}]}`))
	f.Add([]byte(`{"schema":"https://hallmark.build/trust-state/v1","serials":{"roots SHA256:x":3}}`))
	f.Add([]byte(`{"schema":"https://hallmark.build/tofu/v1","packages":{"a":{"builderId":"b","buildType":"t","parameters":{"x":null},"firstSeen":"2026-01-01T00:00:00Z"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := trustmap.ParseCertifiers(b); err == nil && (len(c.Certifiers) == 0 || c.Certifiers[0].Key() == nil) {
			t.Fatal("certifiers accepted without keys")
		}
		if r, err := trustmap.ParseRevocations(b); err == nil && r.Schema != trustmap.RevocationsSchema {
			t.Fatal("revocations with another schema")
		}
		if s, err := trustmap.ParseTOFU(b); err == nil && s.Packages == nil {
			t.Fatal("TOFU store without packages map")
		}
		if s, err := trustmap.ParseSerialState(b); err == nil && (s.Serials == nil || s.Schema != trustmap.SerialStateSchema) {
			t.Fatal("serial state without serials map or with another schema")
		}
	})
}

// FuzzParseApproval: approvals never panic, and what parses names a
// package, a builder and a window of at most MaxApprovalValidity.
func FuzzParseApproval(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(verifyDir, "admin", "approval.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	signed, _ := os.ReadFile(filepath.Join(verifyDir, "admin", "approval.signed.json"))
	f.Add(signed)
	f.Add([]byte(`{"schema":"https://hallmark.build/tofu-approval/v1","package":"a","builderId":"b","buildType":"t","parameters":{"/x":1},"issuedAt":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := trustmap.ParseApproval(b)
		if err != nil {
			return
		}
		if a.Package == "" || a.BuilderID == "" || !a.Expires.After(a.IssuedAt) || a.Expires.Sub(a.IssuedAt) > trustmap.MaxApprovalValidity {
			t.Fatalf("accepted %+v", a)
		}
	})
}

// FuzzCompileAnchored: a pattern either is refused or matches only whole
// strings: never a string with a prefix or suffix it does not match on its
// own.
func FuzzCompileAnchored(f *testing.F) {
	for _, p := range []string{`a)|(b`, `https://ci\.example/.*`, `a|b`, `(?m)^a$`, `\Qa)|(b`, `(a`, ``} {
		f.Add(p, "a")
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		re, err := questionnaire.CompileAnchored(p)
		if err != nil {
			return
		}
		if re.MatchString(s) {
			if loc := re.FindStringIndex(s); loc == nil || loc[0] != 0 || loc[1] != len(s) {
				t.Fatalf("%q matches %q only in part: %v", p, s, loc)
			}
		}
		// p parsed on its own, so wrapping its text cannot break out
		// (but for an unterminated \Q, which would quote the wrapper):
		// the parsed anchoring matches exactly what the textual one does.
		if !strings.Contains(p, `\Q`) {
			text, err := regexp.Compile(`\A(?:` + p + `)\z`)
			if err != nil {
				t.Fatalf("%q: accepted alone, refused wrapped: %v", p, err)
			}
			if text.MatchString(s) != re.MatchString(s) {
				t.Fatalf("%q on %q: parsed anchoring %v, textual %v", p, s, re.MatchString(s), text.MatchString(s))
			}
		}
	})
}

// FuzzVerifyVSA: any VSA document either fails with an error (never a
// panic) or passes only when it really is a PASSED VSA from the trusted
// verifier for the resource and level asked.
func FuzzVerifyVSA(f *testing.F) {
	for _, p := range []string{"vsas/source.vsa.json", "vsas/libfoo.vsa.json", "bad/source-l2.vsa.json", "bad/source-rogue.vsa.json", "verifiers.signed.json"} {
		f.Add(readSC(f, p))
	}
	roots, err := trustmap.ParseRoots(readSC(f, "roots.json"))
	if err != nil {
		f.Fatal(err)
	}
	set := roots.VerifierSet()
	res := trustmap.VSAResource{Digests: map[string]string{"gitCommit": scCommit}}
	level := trustmap.LevelRequirement{Name: "SLSA_SOURCE_LEVEL_3", Track: "SOURCE", Level: 3}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := trustmap.VerifyVSA(context.Background(), set, trustmap.VSAInput{Name: "f", Raw: b}, res,
			trustmap.VerifyVSAOptions{At: verifyAt, MaxAge: 30 * 24 * time.Hour, ResourceURI: "git+" + scRepo, Levels: []trustmap.LevelRequirement{level}})
		if err == nil && (!out.Passed || out.VerifierID != scSourceID || out.PayloadDigest == "") {
			t.Fatalf("passed without a trusted verifier: %+v", out)
		}
		if err != nil && out.Passed {
			t.Fatalf("error %v with a PASSED result", err)
		}
	})
}
