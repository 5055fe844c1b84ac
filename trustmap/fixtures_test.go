package trustmap_test

// The verification fixtures in testdata/verify are generated here from the
// test keys with -regenerate-fixtures (go test ./trustmap -run
// TestVerifyCases -regenerate-fixtures -update), and checked by
// TestVerifyCases against golden results (-update rewrites those alone).

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

const (
	verifyDir     = "../testdata/verify"
	hostedBuilder = "https://builds.example.com/builders/hosted-vm@v1"
	reusedBuilder = "https://builds.example.com/builders/reused-runner@v1"
	buildType     = "https://builds.example.com/buildtypes/make@v1"
	artifactData  = "example app release 1.2.3\n"
)

var regenerate = flag.Bool("regenerate-fixtures", false, "rewrite testdata/verify from the test keys")

var (
	issuedAt    = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	compiledAt  = time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	verifyAt    = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	afterExpiry = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
)

// Case is one line of testdata/verify/cases.json.
type Case struct {
	Name       string `json:"name"`
	Provenance string `json:"provenance"`
	Artifact   string `json:"artifact"`
	Policy     string `json:"policy,omitempty"`
	Package    string `json:"package,omitempty"`
	At         string `json:"at"`
	// MinLevel is --min-level (default 1; 0 accepts uncertified builders).
	MinLevel *int `json:"minLevel,omitempty"`
	Legacy   bool `json:"legacy,omitempty"`
	// Inline expectations (--source-uri, --source-ref, --builder-id,
	// --build-type), or none at all with --insecure-no-expectations.
	SourceURI              string `json:"sourceUri,omitempty"`
	SourceRef              string `json:"sourceRef,omitempty"`
	BuilderID              string `json:"builderId,omitempty"`
	BuildType              string `json:"buildType,omitempty"`
	InsecureNoExpectations bool   `json:"insecureNoExpectations,omitempty"`
	// Want is the name of the sentinel error, or "" for a pass.
	Want  string `json:"want"`
	Level int    `json:"level"`
}

func keyFile(t testing.TB, name, password string) *attest.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := attest.ParsePrivateKey(b, func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func readAnswers(t testing.TB, name string) *questionnaire.Document {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "answers", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func write(t testing.TB, name string, b []byte) {
	t.Helper()
	p := filepath.Join(verifyDir, name)
	if old, err := os.ReadFile(p); err == nil && sameUnsigned(old, b) {
		return // same payloads: keep the signatures (ECDSA is randomised)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameUnsigned reports whether two files hold the same content once the
// signatures of their DSSE envelopes are set aside.
func sameUnsigned(a, b []byte) bool {
	strip := func(x []byte) string {
		var out []string
		for line := range strings.Lines(string(x)) {
			var e map[string]any
			if json.Unmarshal([]byte(line), &e) == nil && e["signatures"] != nil && e["payload"] != nil {
				delete(e, "signatures")
				n, _ := json.Marshal(e)
				line = string(n)
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
	return strip(a) == strip(b)
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// provenance is a mutable SLSA provenance v1 statement.
func provenance(digest string) map[string]any {
	return map[string]any{
		"_type":         trustmap.StatementV1,
		"subject":       []any{map[string]any{"name": "app-1.2.3.tar.gz", "digest": map[string]any{"sha256": digest}}},
		"predicateType": trustmap.ProvenanceV1,
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType": buildType,
				"externalParameters": map[string]any{
					"repository": "https://git.example.com/app",
					"ref":        "refs/tags/v1.2.3",
					"target":     "release",
				},
				"internalParameters": map[string]any{"runner_environment": "hosted"},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": hostedBuilder},
				"metadata": map[string]any{"invocationId": "inv-1", "startedOn": "2026-11-20T09:50:00Z", "finishedOn": "2026-11-20T10:00:00Z"},
			},
		},
	}
}

func pred(st map[string]any) map[string]any { return st["predicate"].(map[string]any) }
func bdef(st map[string]any) map[string]any {
	return pred(st)["buildDefinition"].(map[string]any)
}
func ext(st map[string]any) map[string]any { return bdef(st)["externalParameters"].(map[string]any) }
func run(st map[string]any) map[string]any { return pred(st)["runDetails"].(map[string]any) }

func sign(t testing.TB, key *attest.PrivateKey, payloadType string, payload []byte) []byte {
	t.Helper()
	env, err := attest.Sign(context.Background(), payloadType, payload, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := attest.MarshalEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signStatement(t testing.TB, key *attest.PrivateKey, st map[string]any) []byte {
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, key, trustmap.InTotoPayloadType, b)
}

func editEnvelope(t testing.TB, env []byte, f func(e map[string]any)) []byte {
	var e map[string]any
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	f(e)
	b, _ := json.Marshal(e)
	return append(b, '\n')
}

func capability(t testing.TB, key *attest.PrivateKey, doc *questionnaire.Document, name string) []byte {
	t.Helper()
	res, err := attest.Issue(context.Background(), doc, key, attest.IssueOptions{AnswersName: name, Now: issuedAt, ValidFor: 90 * 24 * time.Hour, AssessorID: "https://builds.example.com/security"})
	if err != nil {
		t.Fatal(err)
	}
	return res.Envelope
}

// generateFixtures writes testdata/verify from scratch.
func generateFixtures(t *testing.T) {
	operator := keyFile(t, "operator.key", "operator-test-password")
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	signer := keyFile(t, "provenance-signer.key", "")
	second := keyFile(t, "second-signer.key", "")
	rogue := keyFile(t, "rogue.key", "")

	// Certifiers: the operator may self-attest; the auditor is trusted too.
	opPub, _ := operator.Public().MarshalPEM()
	auPub, _ := auditor.Public().MarshalPEM()
	two := questionnaire.Level(2)
	certs := trustmap.Certifiers{Schema: trustmap.CertifiersSchema, Certifiers: []trustmap.Certifier{
		{Name: "Example Build Co. (self-attested)", PublicKey: string(opPub), MaxLevel: 3, SelfAttestation: true},
		{Name: "Example Audit LLP", PublicKey: string(auPub), MaxLevel: 3, ThirdPartyAbove: &two},
	}}
	write(t, "certifiers.json", mustJSON(t, certs))

	// Capability attestations: the hosted L3 builder (provenance-signer),
	// and the reused-runner L2 builder with its own signer.
	hosted := readAnswers(t, "l3-hosted.json")
	write(t, "hosted-vm.answers.json", mustCanonical(t, hosted))
	write(t, "hosted-vm.capability.json", capability(t, operator, hosted, "hosted-vm.answers.json"))
	reused := readAnswers(t, "l2-reused-runners.json")
	secPub, _ := second.Public().MarshalPEM()
	reused.Profile.Signers = []questionnaire.Signer{{PublicKey: string(secPub)}}
	write(t, "reused-runner.answers.json", mustCanonical(t, reused))
	write(t, "reused-runner.capability.json", capability(t, operator, reused, "reused-runner.answers.json"))
	// A self-assessment signed by the auditor: rejected by compile.
	write(t, "auditor-self.capability.json", capability(t, auditor, hosted, "hosted-vm.answers.json"))

	policy := map[string]any{
		"schema": trustmap.PolicySchema,
		"packages": map[string]any{
			"example-app": map[string]any{
				"minLevel":   3,
				"builderIds": []string{hostedBuilder},
				"buildTypes": []string{buildType},
				"externalParameters": map[string]any{
					"repository": map[string]any{"equals": "https://git.example.com/app"},
					"ref":        map[string]any{"pattern": "refs/tags/v*"},
					"target":     map[string]any{"oneOf": []string{"release", "dist"}},
				},
				"ignoreParameters":   []string{"note"},
				"internalParameters": map[string]any{"runner_environment": map[string]any{"equals": "hosted"}},
			},
			"pinned-builder": map[string]any{"builderIds": []string{"https://other.example/builder@v1"}, "buildTypes": []string{buildType}},
		},
	}
	pb := mustJSON(t, policy)
	write(t, "policy.json", pb)

	write(t, "app-1.2.3.tar.gz", []byte(artifactData))
	art := trustmap.BytesArtifact("a", []byte(artifactData))
	digest, _ := art.Digest("sha256")
	sha512, _ := art.Digest("sha512")

	var cases []Case
	add := func(name string, env []byte, want string, c Case) {
		c.Name, c.Want = name, want
		c.Provenance = "cases/" + name + ".intoto.jsonl"
		if c.Artifact == "" {
			c.Artifact = "app-1.2.3.tar.gz"
		}
		if c.At == "" {
			c.At = verifyAt.Format(time.RFC3339)
		}
		write(t, c.Provenance, env)
		cases = append(cases, c)
	}
	app := Case{Policy: "policy.json", Package: "example-app"}
	mut := func(f func(st map[string]any)) []byte {
		st := provenance(digest)
		f(st)
		return signStatement(t, signer, st)
	}
	good := mut(func(map[string]any) {})

	// Passing cases.
	add("pass-policy-l3", good, "", withLevel(app, 3))
	src := Case{SourceURI: "https://git.example.com/app"}
	add("pass-no-policy", good, "", withLevel(src, 3))
	add("pass-sha512-subject", mut(func(st map[string]any) {
		st["subject"] = []any{map[string]any{"name": "app", "digest": map[string]any{"sha512": sha512}}}
	}), "", withLevel(app, 3))
	add("pass-ignored-parameter", mut(func(st map[string]any) { ext(st)["note"] = "rebuilt after outage" }), "", withLevel(app, 3))
	add("pass-builder-not-in-roots-l1", mut(func(st map[string]any) {
		run(st)["builder"] = map[string]any{"id": "https://builds.example.com/builders/experimental@v0"}
	}), "", Case{Level: 0, MinLevel: intp(0), SourceURI: src.SourceURI})
	other := mut(func(st map[string]any) {
		st["subject"] = []any{map[string]any{"name": "other", "digest": map[string]any{"sha256": strings.Repeat("ab", 32)}}}
	})
	add("pass-jsonl-second-document", append(append([]byte{}, other...), good...), "", withLevel(app, 3))
	add("pass-second-builder-l2", signStatement(t, second, func() map[string]any {
		st := provenance(digest)
		run(st)["builder"] = map[string]any{"id": reusedBuilder}
		return st
	}()), "", Case{Level: 2, MinLevel: intp(2), SourceURI: src.SourceURI})

	// Rejections, each with its own sentinel.
	add("no-provenance", []byte("\n"), "ErrNoProvenance", app)
	add("malformed-json", []byte("{\"payloadType\":"), "ErrMalformedEnvelope", app)
	add("malformed-base64", editEnvelope(t, good, func(e map[string]any) { e["payload"] = "%%%not base64%%%" }), "ErrMalformedEnvelope", app)
	add("no-signatures", editEnvelope(t, good, func(e map[string]any) { e["signatures"] = []any{} }), "ErrMalformedEnvelope", app)
	st, _ := json.Marshal(provenance(digest))
	add("unsupported-payload-type", sign(t, signer, "application/json", st), "ErrWrongPayloadType", app)
	add("payload-type-altered", editEnvelope(t, good, func(e map[string]any) { e["payloadType"] = "application/vnd.example+json" }), "ErrWrongPayloadType", app)
	add("payload-altered", editEnvelope(t, good, func(e map[string]any) {
		p, _ := base64.StdEncoding.DecodeString(e["payload"].(string))
		p = []byte(strings.Replace(string(p), "v1.2.3", "v6.6.6", 1))
		e["payload"] = base64.StdEncoding.EncodeToString(p)
	}), "ErrBadSignature", app)
	add("signature-altered", editEnvelope(t, good, func(e map[string]any) {
		s := e["signatures"].([]any)[0].(map[string]any)
		sig, _ := base64.StdEncoding.DecodeString(s["sig"].(string))
		sig[len(sig)/2] ^= 0x01
		s["sig"] = base64.StdEncoding.EncodeToString(sig)
	}), "ErrBadSignature", app)
	add("unknown-signer", signStatement(t, rogue, provenance(digest)), "ErrUnknownSigner", app)
	add("statement-not-json", sign(t, signer, trustmap.InTotoPayloadType, []byte("not json")), "ErrMalformedStatement", app)
	add("unknown-statement-type", mut(func(st map[string]any) { st["_type"] = "https://example.com/Statement/v9" }), "ErrUnknownStatementType", app)
	add("wrong-predicate-type", mut(func(st map[string]any) { st["predicateType"] = "https://example.com/predicate/v1" }), "ErrWrongPredicateType", app)
	legacy := provenance(digest)
	legacy["predicateType"] = trustmap.ProvenanceV02
	legacy["predicate"] = map[string]any{
		"builder": map[string]any{"id": hostedBuilder}, "buildType": buildType,
		"invocation": map[string]any{"configSource": map[string]any{"uri": "git+https://git.example.com/app@refs/tags/v1.2.3"}},
		"metadata":   map[string]any{"buildFinishedOn": "2026-11-20T10:00:00Z"},
	}
	legacyEnv := signStatement(t, signer, legacy)
	add("legacy-predicate-refused", legacyEnv, "ErrWrongPredicateType", src)
	add("legacy-predicate-allowed", legacyEnv, "", Case{Legacy: true, Level: 3, SourceURI: src.SourceURI, SourceRef: "refs/tags/v*"})
	add("empty-subject", mut(func(st map[string]any) { st["subject"] = []any{} }), "ErrNoSubject", app)
	add("subject-without-digest", mut(func(st map[string]any) { st["subject"] = []any{map[string]any{"name": "app"}} }), "ErrSubjectWithoutDigest", app)
	add("md5-only-subject", mut(func(st map[string]any) {
		st["subject"] = []any{map[string]any{"name": "app", "digest": map[string]any{"md5": "0123456789abcdef0123456789abcdef"}}}
	}), "ErrNoSupportedDigest", app)
	add("subject-mismatch", mut(func(st map[string]any) {
		st["subject"] = []any{map[string]any{"name": "app", "digest": map[string]any{"sha256": strings.Repeat("0", 64)}}}
	}), "ErrSubjectMismatch", app)
	add("subject-uppercase-hex", mut(func(st map[string]any) {
		st["subject"] = []any{map[string]any{"name": "app", "digest": map[string]any{"sha256": strings.ToUpper(digest)}}}
	}), "ErrSubjectMismatch", app)
	add("no-builder-id", mut(func(st map[string]any) { run(st)["builder"] = map[string]any{} }), "ErrMalformedProvenance", app)
	add("signer-not-paired", mut(func(st map[string]any) {
		run(st)["builder"] = map[string]any{"id": reusedBuilder}
	}), "ErrSignerNotPaired", src)
	add("builder-not-in-roots-l3-required", mut(func(st map[string]any) {
		run(st)["builder"] = map[string]any{"id": "https://builds.example.com/builders/experimental@v0"}
	}), "ErrUntrustedBuilder", app)
	add("builder-trusted-below-required", signStatement(t, second, func() map[string]any {
		st := provenance(digest)
		run(st)["builder"] = map[string]any{"id": reusedBuilder}
		return st
	}()), "ErrLevelTooLow", app)
	add("built-before-certification", mut(func(st map[string]any) {
		run(st)["metadata"] = map[string]any{"finishedOn": "2026-10-01T00:00:00Z"}
	}), "ErrOutsideCertifiedWindow", app)
	add("certification-expired-at-verify-time", good, "ErrCertificationExpired", func() Case { c := app; c.At = afterExpiry.Format(time.RFC3339); return c }())
	add("no-build-time", mut(func(st map[string]any) { run(st)["metadata"] = map[string]any{"invocationId": "x"} }), "ErrNoBuildTime", app)
	add("builder-not-allowed", good, "ErrBuilderNotAllowed", Case{Policy: "policy.json", Package: "pinned-builder"})
	add("unknown-build-type", mut(func(st map[string]any) { bdef(st)["buildType"] = "https://evil.example/buildtypes/shell@v1" }), "ErrBuildTypeMismatch", app)
	add("unexpected-parameter", mut(func(st map[string]any) { ext(st)["debugShell"] = true }), "ErrUnexpectedParameter", app)
	add("missing-parameter", mut(func(st map[string]any) { delete(ext(st), "target") }), "ErrMissingParameter", app)
	add("fork-source", mut(func(st map[string]any) { ext(st)["repository"] = "https://git.example.com/attacker/app" }), "ErrParameterMismatch", app)
	add("near-miss-repository", mut(func(st map[string]any) { ext(st)["repository"] = "https://git.example.com/app-" }), "ErrParameterMismatch", app)
	add("wrong-branch", mut(func(st map[string]any) { ext(st)["ref"] = "refs/heads/main" }), "ErrRefNotAllowed", app)
	add("tag-outside-pattern", mut(func(st map[string]any) { ext(st)["ref"] = "refs/tags/nightly" }), "ErrRefNotAllowed", app)
	add("parameter-not-in-allowed-set", mut(func(st map[string]any) { ext(st)["target"] = "debug" }), "ErrParameterMismatch", app)
	add("self-hosted-runner", mut(func(st map[string]any) {
		bdef(st)["internalParameters"] = map[string]any{"runner_environment": "self-hosted"}
	}), "ErrInternalParameter", app)
	add("unknown-package", good, "ErrUnknownPackage", Case{Policy: "policy.json", Package: "not-in-policy"})
	badRef := mut(func(st map[string]any) { ext(st)["ref"] = "refs/heads/main" })
	add("never-mix-documents", append(append([]byte{}, other...), badRef...), "ErrRefNotAllowed", app)

	// 1. No expectations: a fork's build is not a pass just because a
	// certified builder signed it.
	fork := mut(func(st map[string]any) { ext(st)["repository"] = "https://git.example.com/attacker/app" })
	add("no-expectations", fork, "ErrNoExpectations", Case{})
	add("insecure-no-expectations", good, "", Case{InsecureNoExpectations: true, Level: 3})
	add("inline-source-fork", fork, "ErrSourceMismatch", src)
	add("inline-source-ref-branch", badRef, "ErrRefNotAllowed", Case{SourceURI: src.SourceURI, SourceRef: "refs/tags/v*"})
	add("inline-builder-id", good, "ErrBuilderNotAllowed", Case{SourceURI: src.SourceURI, BuilderID: reusedBuilder})
	add("inline-build-type", good, "ErrBuildTypeMismatch", Case{SourceURI: src.SourceURI, BuildType: "https://evil.example/buildtypes/shell@v1"})
	add("inline-source-in-two-places", mut(func(st map[string]any) {
		bdef(st)["resolvedDependencies"] = []any{map[string]any{"uri": "git+https://git.example.com/attacker/app@refs/tags/v1.2.3"}}
	}), "ErrSourceMismatch", src)
	add("inline-no-source-in-provenance", mut(func(st map[string]any) { delete(ext(st), "repository") }), "ErrSourceMismatch", src)

	// 2. Uncertified builders are level 0 and fail the default minimum.
	add("uncertified-builder-default-min-level", mut(func(st map[string]any) {
		run(st)["builder"] = map[string]any{"id": "https://builds.example.com/builders/experimental@v0"}
	}), "ErrUntrustedBuilder", src)
	add("certification-expired-default-min-level", good, "ErrCertificationExpired", Case{SourceURI: src.SourceURI, At: afterExpiry.Format(time.RFC3339)})
	add("built-outside-window-default-min-level", mut(func(st map[string]any) {
		run(st)["metadata"] = map[string]any{"finishedOn": "2026-10-01T00:00:00Z"}
	}), "ErrOutsideCertifiedWindow", src)

	// 3. A policy that expects nothing is refused when loaded.
	noTypes := mustJSON(t, map[string]any{"schema": trustmap.PolicySchema, "packages": map[string]any{
		"example-app": map[string]any{"builderIds": []string{hostedBuilder}},
	}})
	write(t, "policy-no-build-types.json", noTypes)
	add("policy-without-build-types", good, "ErrMalformedPolicy", Case{Policy: "policy-no-build-types.json", Package: "example-app"})
	noBuilders := mustJSON(t, map[string]any{"schema": trustmap.PolicySchema, "packages": map[string]any{
		"example-app": map[string]any{"buildTypes": []string{buildType}},
	}})
	write(t, "policy-no-builder-ids.json", noBuilders)
	add("policy-without-builder-ids", good, "ErrMalformedPolicy", Case{Policy: "policy-no-builder-ids.json", Package: "example-app"})

	// 4. One reading of a signed payload: duplicate and case-variant names
	// are refused, whatever another tool would have read.
	raw := func(extra string) []byte {
		b, _ := json.Marshal(provenance(digest))
		return sign(t, signer, trustmap.InTotoPayloadType, append(b[:len(b)-1], []byte(extra+"}")...))
	}
	add("duplicate-predicate-type", raw(`,"predicateType":"https://example.com/predicate/v1"`), "ErrDuplicateName", app)
	add("case-variant-predicate-type", raw(`,"PredicateType":"https://example.com/predicate/v1"`), "ErrCaseVariant", app)
	add("duplicate-subject", raw(`,"subject":[{"name":"x","digest":{"sha256":"`+strings.Repeat("0", 64)+`"}}]`), "ErrDuplicateName", app)
	dupParam, _ := json.Marshal(provenance(digest))
	dupParam = []byte(strings.Replace(string(dupParam), `"repository":"https://git.example.com/app"`, `"repository":"https://git.example.com/app","repository":"https://git.example.com/attacker/app"`, 1))
	add("duplicate-parameter", sign(t, signer, trustmap.InTotoPayloadType, dupParam), "ErrDuplicateName", app)
	add("envelope-case-variant-payload-type", []byte(strings.Replace(string(good), `"payloadType"`, `"PayloadType":"application/json","payloadType"`, 1)), "ErrCaseVariant", app)

	// 5. Parameter paths are unambiguous: a literal key with a separator is
	// its own parameter, and so is an empty object.
	add("literal-dotted-parameter", mut(func(st map[string]any) { ext(st)["repository.override"] = "https://git.example.com/attacker/app" }), "ErrUnexpectedParameter", app)
	add("empty-object-parameter", mut(func(st map[string]any) { ext(st)["vars"] = map[string]any{} }), "ErrUnexpectedParameter", app)
	add("empty-array-parameter", mut(func(st map[string]any) { ext(st)["flags"] = []any{} }), "ErrUnexpectedParameter", app)

	// 7. Build times that cannot be true.
	add("finished-before-started", mut(func(st map[string]any) {
		run(st)["metadata"] = map[string]any{"startedOn": "2026-11-20T10:00:00Z", "finishedOn": "2026-11-20T09:00:00Z"}
	}), "ErrImplausibleBuildTime", app)
	add("built-after-verification-time", mut(func(st map[string]any) {
		run(st)["metadata"] = map[string]any{"startedOn": "2026-12-14T10:00:00Z", "finishedOn": "2026-12-15T10:00:00Z"}
	}), "ErrImplausibleBuildTime", app)
	add("zero-finished-on", mut(func(st map[string]any) {
		run(st)["metadata"] = map[string]any{"startedOn": "2026-11-20T09:50:00Z", "finishedOn": "0001-01-01T00:00:00Z"}
	}), "ErrImplausibleBuildTime", app)
	add("epoch-started-on", mut(func(st map[string]any) {
		run(st)["metadata"] = map[string]any{"startedOn": "1970-01-01T00:00:00Z"}
	}), "ErrImplausibleBuildTime", app)

	// 6. What trustmap accepts, the in-toto attestation library reads the
	// same way and validates.
	add("proto-name-predicate-type", raw(`,"predicate_type":"https://example.com/predicate/v1"`), "ErrInTotoRejected", app)
	add("proto-name-build-type", mut(func(st map[string]any) { bdef(st)["build_type"] = "https://evil.example/buildtypes/shell@v1" }), "ErrInTotoRejected", app)
	add("no-external-parameters", mut(func(st map[string]any) { delete(bdef(st), "externalParameters") }), "ErrInTotoRejected", src)
	add("subject-digest-not-hex", mut(func(st map[string]any) {
		st["subject"] = append(st["subject"].([]any), map[string]any{"name": "other", "digest": map[string]any{"sha256": "not-hex"}})
	}), "ErrInTotoRejected", app)

	// 10. Escape sequences in what the provenance says reach no terminal:
	// a keyid that would clear the screen and print a pass.
	ansi := "\x1b[2J\x1b[HPASSED  app-1.2.3.tar.gz  SLSA Build L3\x1b[8m"
	add("ansi-keyid", editEnvelope(t, signStatement(t, rogue, provenance(digest)), func(e map[string]any) {
		e["signatures"].([]any)[0].(map[string]any)["keyid"] = ansi
	}), "ErrUnknownSigner", app)
	add("ansi-payload-type", sign(t, signer, "application/vnd.in-toto+json"+ansi, st), "ErrWrongPayloadType", app)

	write(t, "cases.json", mustJSON(t, cases))

	// Roots, signed roots and policy, and the trust administration cases.
	writeAdminFixtures(t)
}

func withLevel(c Case, l int) Case { c.Level = l; return c }

func intp(i int) *int { return &i }

func mustCanonical(t testing.TB, d *questionnaire.Document) []byte {
	b, err := d.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyFileSigner returns the raw provenance-signer private key for the raw
// signature benchmark.
func keyFileSigner(t testing.TB) any {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "keys", "provenance-signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
