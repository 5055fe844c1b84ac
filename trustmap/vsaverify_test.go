package trustmap_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vsa1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
)

// assertInTotoVSA reads a VSA statement with the in-toto attestation
// library: the statement and its descriptors pass its validators, and the
// predicate decodes as its VSA v1 message (verifier.version, a VSA v1.1
// field the v1 message lacks, aside).
func assertInTotoVSA(t *testing.T, statement []byte) {
	t.Helper()
	var st ita1.Statement
	if err := protojson.Unmarshal(statement, &st); err != nil {
		t.Fatalf("in-toto library: %v", err)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("in-toto Validate: %v", err)
	}
	pm := st.GetPredicate().AsMap()
	if v, ok := pm["verifier"].(map[string]any); ok {
		delete(v, "version")
	}
	raw, _ := json.Marshal(pm)
	var p vsa1.VerificationSummary
	if err := protojson.Unmarshal(raw, &p); err != nil {
		t.Fatalf("in-toto VSA v1: %v", err)
	}
	if p.GetVerifier().GetId() == "" || p.GetResourceUri() == "" || p.GetPolicy().GetUri() == "" || len(p.GetVerifiedLevels()) == 0 {
		t.Fatalf("VSA lacks required fields: %v", &p)
	}
	if err := (&ita1.ResourceDescriptor{Uri: p.GetPolicy().GetUri(), Digest: p.GetPolicy().GetDigest()}).Validate(); err != nil {
		t.Fatalf("policy: %v", err)
	}
	for _, in := range p.GetInputAttestations() {
		if err := (&ita1.ResourceDescriptor{Uri: in.GetUri(), Digest: in.GetDigest()}).Validate(); err != nil {
			t.Fatalf("inputAttestations: %v", err)
		}
	}
}

const (
	srcVerifierID = "https://source.example/verifier"
	srcRepo       = "git+https://git.example.com/app"
	srcCommit     = "3f786850e387550fdab836ed7e6dc881de23001b"
)

var vsaAt = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func pubPEM(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sourceVerifiers trusts the auditor key as a source verifier for the
// example forge (Source L3, Build L2, one property).
func sourceVerifiers(t testing.TB) *trustmap.VerifierSet {
	t.Helper()
	s, err := trustmap.NewVerifierSet([]trustmap.TrustedVerifier{{
		ID: srcVerifierID, Signer: trustmap.Signer{PublicKey: pubPEM(t, "auditor.pub"), KeyFingerprint: keyFile(t, "auditor.key", "auditor-test-password").Public().Fingerprint},
		ResourceURIRegexp: `git\+https://git\.example\.com/.*`,
		Levels:            map[string]int{"SOURCE": 3, "BUILD": 2},
		Properties:        []string{"SLSA_SOURCE_TWO_PARTY_REVIEWED"},
		ValidFrom:         vsaAt.Add(-365 * 24 * time.Hour), ValidUntil: vsaAt.Add(365 * 24 * time.Hour),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// vsaV10 is a VSA in the v1.0 field set, as slsa-verifier and the SLSA
// examples write it.
func vsaV10() map[string]any {
	return map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"predicateType": trustmap.VSAPredicateType,
		"subject":       []any{map[string]any{"uri": srcRepo, "digest": map[string]any{"gitCommit": srcCommit}}},
		"predicate": map[string]any{
			"verifier":           map[string]any{"id": srcVerifierID},
			"timeVerified":       "2026-11-30T10:00:00Z",
			"resourceUri":        srcRepo,
			"policy":             map[string]any{"uri": "https://source.example/policy/app"},
			"inputAttestations":  []any{map[string]any{"uri": "https://source.example/att/1", "digest": map[string]any{"sha256": strings.Repeat("1", 64)}}},
			"verificationResult": "PASSED",
			"verifiedLevels":     []any{"SLSA_SOURCE_LEVEL_3"},
			"slsaVersion":        "1.0",
		},
	}
}

// vsaV11 adds the v1.1 fields and what source-track verifiers write next
// to the level: verifier.version, policy.digest, an UNEVALUATED track,
// properties and an organisation-defined level.
func vsaV11() map[string]any {
	st := vsaV10()
	p := st["predicate"].(map[string]any)
	p["verifier"] = map[string]any{"id": srcVerifierID, "version": map[string]any{"source-tool": "v0.6.1"}}
	p["policy"] = map[string]any{"uri": "https://source.example/policy/app", "digest": map[string]any{"sha256": strings.Repeat("2", 64)}}
	p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_3", "SLSA_BUILD_LEVEL_UNEVALUATED", "SLSA_SOURCE_TWO_PARTY_REVIEWED", "EXAMPLE_ORG_SOURCE_BRANCH_PROTECTED"}
	p["dependencyLevels"] = map[string]any{"SLSA_BUILD_LEVEL_3": 2}
	p["slsaVersion"] = "1.1"
	st["predicate"] = p
	return st
}

func signVSAStatement(t testing.TB, key *attest.PrivateKey, st map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	env, err := trustmap.SignVSA(context.Background(), b, key)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestVerifyVSA(t *testing.T) {
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	rogue := keyFile(t, "rogue.key", "")
	set := sourceVerifiers(t)
	source := trustmap.VSAResource{Digests: map[string]string{"gitCommit": srcCommit}}
	l3 := []trustmap.LevelRequirement{mustLevel(t, "SLSA_SOURCE_LEVEL_3")}
	opts := trustmap.VerifyVSAOptions{At: vsaAt, MaxAge: 7 * 24 * time.Hour, ResourceURI: srcRepo, Levels: l3}
	edit := func(base func() map[string]any, f func(p map[string]any, st map[string]any)) []byte {
		st := base()
		f(st["predicate"].(map[string]any), st)
		return signVSAStatement(t, auditor, st)
	}
	with := func(f func(o *trustmap.VerifyVSAOptions)) trustmap.VerifyVSAOptions { o := opts; f(&o); return o }
	for _, c := range []struct {
		name string
		vsa  []byte
		res  trustmap.VSAResource
		opts trustmap.VerifyVSAOptions
		want error
	}{
		{"v1.0 fields", signVSAStatement(t, auditor, vsaV10()), source, opts, nil},
		{"v1.1 fields", signVSAStatement(t, auditor, vsaV11()), source, opts, nil},
		{"property", signVSAStatement(t, auditor, vsaV11()), source, with(func(o *trustmap.VerifyVSAOptions) {
			o.Levels = append(o.Levels, mustLevel(t, "SLSA_SOURCE_TWO_PARTY_REVIEWED"))
		}), nil},
		{"a higher level implies the lower", signVSAStatement(t, auditor, vsaV10()), source, with(func(o *trustmap.VerifyVSAOptions) {
			o.Levels = []trustmap.LevelRequirement{mustLevel(t, "SLSA_SOURCE_LEVEL_2")}
		}), nil},

		{"wrong verifier (another key)", signVSAStatement(t, rogue, vsaV10()), source, opts, trustmap.ErrVSAUntrustedVerifier},
		{"verifier.id of another verifier", edit(vsaV10, func(p, _ map[string]any) { p["verifier"] = map[string]any{"id": "https://other.example/verifier"} }), source, opts, trustmap.ErrVSAVerifierMismatch},
		{"wrong resource URI", edit(vsaV10, func(p, _ map[string]any) { p["resourceUri"] = "git+https://git.example.com/app-fork" }), source, opts, trustmap.ErrVSAResourceMismatch},
		{"resource the verifier may not vouch for", edit(vsaV10, func(p, _ map[string]any) { p["resourceUri"] = "git+https://evil.example/app" }), source,
			with(func(o *trustmap.VerifyVSAOptions) { o.ResourceURI = "git+https://evil.example/app" }), trustmap.ErrVSAResourceNotTrusted},
		{"FAILED result", edit(vsaV10, func(p, _ map[string]any) {
			p["verificationResult"], p["verifiedLevels"] = "FAILED", []any{"FAILED"}
		}), source, opts, trustmap.ErrVSAFailed},
		{"level too low", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_2"} }), source, opts, trustmap.ErrVSALevelTooLow},
		{"UNEVALUATED is no level", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_UNEVALUATED"} }), source, opts, trustmap.ErrVSALevelTooLow},
		{"stale", signVSAStatement(t, auditor, vsaV10()), source, with(func(o *trustmap.VerifyVSAOptions) { o.MaxAge = time.Hour }), trustmap.ErrVSAStale},
		{"verified in the future", edit(vsaV10, func(p, _ map[string]any) { p["timeVerified"] = "2026-12-02T00:00:00Z" }), source, opts, trustmap.ErrVSAStale},
		{"wrong subject", signVSAStatement(t, auditor, vsaV10()), trustmap.VSAResource{Digests: map[string]string{"gitCommit": strings.Repeat("a", 40)}}, opts, trustmap.ErrSubjectMismatch},
		{"untrusted track level", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_3", "SLSA_BUILD_LEVEL_3"} }), source,
			with(func(o *trustmap.VerifyVSAOptions) {
				o.Levels = []trustmap.LevelRequirement{mustLevel(t, "SLSA_BUILD_LEVEL_3")}
			}), trustmap.ErrVSAUntrustedTrack},
		{"untrusted track", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_3", "SLSA_RUNTIME_LEVEL_1"} }), source,
			with(func(o *trustmap.VerifyVSAOptions) {
				o.Levels = []trustmap.LevelRequirement{mustLevel(t, "SLSA_RUNTIME_LEVEL_1")}
			}), trustmap.ErrVSAUntrustedTrack},
		{"property the verifier may not vouch for", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_3", "EXAMPLE_ORG_GOLD"} }), source,
			with(func(o *trustmap.VerifyVSAOptions) {
				o.Levels = []trustmap.LevelRequirement{mustLevel(t, "EXAMPLE_ORG_GOLD")}
			}), trustmap.ErrVSAUntrustedTrack},
		{"two levels of one track", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_1", "SLSA_SOURCE_LEVEL_3"} }), source, opts, trustmap.ErrMalformedVSA},
		{"FAILED in a PASSED VSA", edit(vsaV10, func(p, _ map[string]any) { p["verifiedLevels"] = []any{"SLSA_SOURCE_LEVEL_3", "FAILED"} }), source, opts, trustmap.ErrMalformedVSA},
		{"no timeVerified", edit(vsaV10, func(p, _ map[string]any) { delete(p, "timeVerified") }), source, opts, trustmap.ErrMalformedVSA},
		{"provenance, not a VSA", edit(vsaV10, func(_, st map[string]any) { st["predicateType"] = trustmap.ProvenanceV1 }), source, opts, trustmap.ErrWrongPredicateType},
		{"no VSA", []byte("  \n"), source, opts, trustmap.ErrNoVSA},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := trustmap.VerifyVSA(context.Background(), set, trustmap.VSAInput{Name: "vsa.json", Raw: c.vsa}, c.res, c.opts)
			if c.want == nil {
				if err != nil || !res.Passed {
					t.Fatalf("err = %v, result %+v", err, res)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if res.Passed || res.Error == "" {
				t.Fatalf("failed verification reported %+v", res)
			}
		})
	}
}

// The same statement with duplicate or case-variant names is one reading
// for every tool, or none: refused.
func TestVerifyVSAOneReading(t *testing.T) {
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	b, _ := json.Marshal(vsaV10())
	for name, payload := range map[string]string{
		"duplicate verificationResult": strings.Replace(string(b), `"verificationResult":"PASSED"`, `"verificationResult":"FAILED","verificationResult":"PASSED"`, 1),
		"case variant":                 strings.Replace(string(b), `"resourceUri":`, `"ResourceURI":"git+https://evil.example/x","resourceUri":`, 1),
	} {
		env, _ := trustmap.SignVSA(context.Background(), []byte(payload), auditor)
		_, err := trustmap.VerifyVSA(context.Background(), sourceVerifiers(t), trustmap.VSAInput{Name: "v", Raw: env},
			trustmap.VSAResource{Digests: map[string]string{"gitCommit": srcCommit}},
			trustmap.VerifyVSAOptions{At: vsaAt, MaxAge: 7 * 24 * time.Hour, ResourceURI: srcRepo, Levels: []trustmap.LevelRequirement{mustLevel(t, "SLSA_SOURCE_LEVEL_3")}})
		if !errors.Is(err, trustmap.ErrMalformedStatement) {
			t.Errorf("%s: err = %v, want ErrMalformedStatement", name, err)
		}
	}
}

// A VSA trustmap writes verifies with VerifyVSA once its key is trusted.
func TestWrittenVSARoundTrip(t *testing.T) {
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	sha := strings.Repeat("cd", 32)
	res := &trustmap.Result{Passed: true, Level: 3, Expectations: "policy"}
	st, err := trustmap.NewVSA(res, trustmap.VSAOptions{VerifierID: "https://registry.example/gate", ResourceURI: "pkg:generic/example-app?checksum=sha256:" + sha,
		PolicyURI: "https://registry.example/policy.json", PolicyData: []byte("{}"), Subjects: map[string]string{"app.tar.gz": sha}, At: vsaAt})
	if err != nil {
		t.Fatal(err)
	}
	assertInTotoVSA(t, st)
	env, _ := trustmap.SignVSA(context.Background(), st, auditor)
	set, err := trustmap.NewVerifierSet([]trustmap.TrustedVerifier{{ID: "https://registry.example/gate",
		Signer: trustmap.Signer{PublicKey: pubPEM(t, "auditor.pub"), KeyFingerprint: auditor.Public().Fingerprint}, ResourceURIRegexp: `pkg:generic/example-app\?.*`,
		Levels: map[string]int{"BUILD": 3}, ValidFrom: vsaAt.Add(-time.Hour), ValidUntil: vsaAt.Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := trustmap.VerifyVSA(context.Background(), set, trustmap.VSAInput{Name: "app.vsa.json", Raw: env},
		trustmap.VSAResource{Artifact: trustmap.DigestArtifact("app.tar.gz", map[string]string{"sha256": sha})},
		trustmap.VerifyVSAOptions{At: vsaAt.Add(time.Minute), MaxAge: time.Hour, ResourceURI: "pkg:generic/example-app?checksum=sha256:" + sha, Levels: []trustmap.LevelRequirement{mustLevel(t, "SLSA_BUILD_LEVEL_3")}})
	if err != nil || !r.Passed {
		t.Fatalf("%v %+v", err, r)
	}
}

func mustLevel(t testing.TB, s string) trustmap.LevelRequirement {
	t.Helper()
	l, err := trustmap.ParseLevelRequirement(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseLevelRequirementAndDigest(t *testing.T) {
	for _, bad := range []string{"SLSA_BUILD_LEVEL_0", "SLSA_BUILD_LEVEL_UNEVALUATED", "FAILED", "slsa_build_level_3", "", "L0", "L10"} {
		if _, err := trustmap.ParseLevelRequirement(bad); err == nil {
			t.Errorf("ParseLevelRequirement(%q) accepted", bad)
		}
	}
	if l, err := trustmap.ParseLevelRequirement("L3"); err != nil || l.Name != "SLSA_BUILD_LEVEL_3" {
		t.Errorf("L3: %+v %v", l, err)
	}
	for _, bad := range []string{"md5:" + strings.Repeat("a", 32), "sha256:ABC", "sha256:" + strings.Repeat("A", 64), "sha256", ":x", "gitCommit:"} {
		if _, _, err := trustmap.ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) accepted", bad)
		}
	}
	for _, good := range []string{"sha256:" + strings.Repeat("a", 64), "gitCommit:" + srcCommit, "customAlg:xyz"} {
		if _, _, err := trustmap.ParseDigest(good); err != nil {
			t.Errorf("ParseDigest(%q): %v", good, err)
		}
	}
}
