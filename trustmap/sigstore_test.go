package trustmap_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/google/certificate-transparency-go/x509util"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cputime"
	"github.com/hallmark-build/hallmark/internal/golden"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

// The corpus (testdata/corpus, copied from shared/corpus with its README)
// is real provenance signed keylessly on GitHub Actions. Its roots of trust
// are compiled, as a verifier would, from capability attestations whose
// profiles name the Sigstore identities (testdata/sigstore).

const (
	corpusDir  = "../testdata/corpus/slsa-verifier"
	sigDir     = "../testdata/sigstore"
	ghIssuer   = "https://token.actions.githubusercontent.com"
	bcrBuilder = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1"
	rulesetBld = "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0"
	trwBuilder = "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml@refs/tags/v2.1.0"
	delegator  = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.1.0"
	genericBld = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0"
)

var (
	corpusIssued  = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	corpusCompile = time.Date(2025, 2, 2, 0, 0, 0, 0, time.UTC)
	corpusVerify  = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
)

// corpusBuilders: builder.id -> the certificate SAN that signs for it, and
// the level its answers (testdata/sigstore/NAME.answers.json, written from
// the platforms' public documentation) support. The in-job
// attest-build-provenance workflows reach L2 (the OIDC token is reachable by
// the build steps); the generic generator L2 (the tenant's build job has the
// Actions cache); the builder that runs the build in its own jobs and signs
// in another (example-trw) L3.
var corpusBuilders = []struct {
	name, builder, san string
	level              questionnaire.Level
}{
	{"publish-to-bcr", bcrBuilder, bcrBuilder, 2},
	{"release-ruleset", rulesetBld, rulesetBld, 2},
	{"example-trw", trwBuilder, delegator, 3},
	{"generator-generic", genericBld, genericBld, 2},
}

// corpusLevel is the level roots give a corpus builder.
func corpusLevel(builder string) questionnaire.Level {
	for _, b := range corpusBuilders {
		if b.builder == builder {
			return b.level
		}
	}
	return 0
}

// generateSigstoreFixtures signs capability attestations for the corpus
// answers. Public documentation says nothing of the platforms' best
// practices, so those questions are unanswered and waived.
func generateSigstoreFixtures(t *testing.T) {
	operator := keyFile(t, "operator.key", "operator-test-password")
	for _, b := range corpusBuilders {
		raw, err := os.ReadFile(filepath.Join(sigDir, b.name+".answers.json"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := questionnaire.ParseAnswers(raw)
		if err != nil {
			t.Fatal(err)
		}
		waivers := map[string]string{}
		for _, f := range assess.Assess(doc, assess.Options{}).BestPractice {
			waivers[f.Question] = "not covered by the platform's public documentation"
		}
		level := b.level
		res, err := attest.IssueWith(context.Background(), doc, assess.Assess(doc, assess.Options{Waivers: waivers}), operator, attest.IssueOptions{
			AnswersName: b.name + ".answers.json", Now: corpusIssued, ValidFor: 365 * 24 * time.Hour, Level: &level,
		})
		if err != nil {
			t.Fatal(err)
		}
		writeSig(t, b.name+".capability.json", res.Envelope)
	}
	roots := compileSigstoreRoots(t)
	b, _ := roots.Marshal()
	writeSig(t, "roots.json", b)
}

// keyless answers the signing questions for keyless signing in a
// platform-controlled job, as a Sigstore signer in the profile requires.
func keyless(t testing.TB, doc *questionnaire.Document) {
	t.Helper()
	for id, choice := range map[string]string{"signing": "sigstore-keyless-platform-job", "CS1": "keyless-platform-job"} {
		a := doc.Answers[id]
		a.Choice = choice
		if err := doc.Set(id, a); err != nil {
			t.Fatal(err)
		}
	}
}

func writeSig(t *testing.T, name string, b []byte) {
	t.Helper()
	os.MkdirAll(sigDir, 0o755)
	if err := os.WriteFile(filepath.Join(sigDir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func compileSigstoreRoots(t testing.TB) *trustmap.Roots {
	t.Helper()
	cb, _ := os.ReadFile(filepath.Join(verifyDir, "certifiers.json"))
	certs, err := trustmap.ParseCertifiers(cb)
	if err != nil {
		t.Fatal(err)
	}
	// The corpus attestations waive the best practices public documentation
	// does not cover; this verifier accepts that.
	for i := range certs.Certifiers {
		certs.Certifiers[i].AllowBestPracticeWaivers = true
	}
	var atts []trustmap.Attestation
	for _, b := range corpusBuilders {
		env, err := os.ReadFile(filepath.Join(sigDir, b.name+".capability.json"))
		if err != nil {
			t.Fatal(err)
		}
		atts = append(atts, trustmap.Attestation{Name: b.name, Envelope: env})
	}
	res, err := trustmap.Compile(context.Background(), certs, atts, trustmap.CompileOptions{At: corpusCompile, ValidFor: trustmap.MaxRootsValidity})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("compile: %v %+v", err, res.Rejected)
	}
	return res.Roots
}

func verifyCorpus(t testing.TB, roots *trustmap.Roots, bundle, artifact string, o trustmap.VerifyOptions) (*trustmap.Result, error) {
	t.Helper()
	prov, err := os.ReadFile(filepath.Join(corpusDir, bundle))
	if err != nil {
		t.Fatal(err)
	}
	if o.At.IsZero() {
		o.At = corpusVerify
	}
	if o.Sigstore == nil {
		o.Sigstore = publicGood(t)
	}
	if o.Policy == nil && o.Expect == nil {
		o.Expect = corpusSource(bundle)
	}
	return trustmap.Verify(context.Background(), roots, prov, []*trustmap.Artifact{trustmap.FileArtifact(filepath.Join(corpusDir, artifact))}, o)
}

// corpusSource is the source repository each corpus file was built from.
func corpusSource(bundle string) *trustmap.Expectations {
	if strings.HasPrefix(bundle, "bcr/") {
		return &trustmap.Expectations{SourceURI: "github.com/aspect-build/rules_lint"}
	}
	return &trustmap.Expectations{SourceURI: "github.com/slsa-framework/example-package"}
}

func publicGood(t testing.TB) *trustmap.SigstoreTrust {
	st, err := trustmap.PublicGoodTrust()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Every corpus file gets the outcome its README states, offline.
func TestCorpus(t *testing.T) {
	if *regenerate {
		generateSigstoreFixtures(t)
	}
	roots := compileSigstoreRoots(t)
	got, _ := roots.Marshal()
	golden.Check(t, filepath.Join(sigDir, "roots.json"), got)
	for _, e := range roots.Entries {
		if e.Signer.OIDCIssuer != ghIssuer || e.SLSABuildLevel != corpusLevel(e.BuilderID) || e.SLSABuildLevel < 2 {
			t.Fatalf("compile did not make a Sigstore entry at the answers' level: %+v", e)
		}
	}

	cases := []struct {
		bundle, artifact string
		legacy           bool
		want             error
	}{
		{"bcr/MODULE.bazel.intoto.jsonl", "bcr/MODULE.bazel", false, nil},
		{"bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl", "bcr/rules_lint-v1.3.1.tar.gz", false, nil},
		{"bcr/MODULE-wrong-signer.bazel.intoto.jsonl", "bcr/MODULE-wrong-signer.bazel", false, trustmap.ErrSignerNotPaired},
		{"gha_delegator-v2.1.0/binary-linux-amd64-push-v13.0.30.build.slsa", "gha_delegator-v2.1.0/binary-linux-amd64-push-v13.0.30", false, nil},
		{"gha_delegator-v2.1.0/binary-linux-amd64-push-v14.2.build.slsa", "gha_delegator-v2.1.0/binary-linux-amd64-push-v14.2", false, nil},
		{"gha_delegator-v2.1.0/binary-linux-amd64-push-v14.build.slsa", "gha_delegator-v2.1.0/binary-linux-amd64-push-v14", false, nil},
		{"gha_delegator-v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa", "gha_delegator-v2.1.0/binary-linux-amd64-workflow_dispatch", false, nil},
		{"gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl", "gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch", false, trustmap.ErrWrongPredicateType},
		{"gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl", "gha_generic-v2.1.0/binary-linux-amd64-workflow_dispatch", true, nil},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.bundle] = true
		t.Run(strings.ReplaceAll(c.bundle, "/", "_")+map[bool]string{true: "-legacy"}[c.legacy], func(t *testing.T) {
			res, err := verifyCorpus(t, roots, c.bundle, c.artifact, trustmap.VerifyOptions{MinLevel: 2, AllowLegacyPredicateUnsafe: c.legacy})
			if c.want == nil {
				if err != nil {
					t.Fatalf("expected a pass: %v", err)
				}
				if want := corpusLevel(res.Documents[0].BuilderID); res.Level != want {
					t.Fatalf("level %v, want %v", res.Level, want)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Every bundle in the corpus has a stated outcome above.
	filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(corpusDir, p)
		if strings.HasSuffix(p, ".intoto.jsonl") || strings.HasSuffix(p, ".build.slsa") {
			if !seen[rel] {
				t.Errorf("corpus file %s has no test", rel)
			}
		}
		return nil
	})
}

func TestCorpusTampering(t *testing.T) {
	roots := compileSigstoreRoots(t)
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(corpusDir, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// One trusted root for all: the tampered bundles meet a warm chain
	// cache (the untampered bundle's chain verified first).
	trust := publicGood(t)
	verify := func(prov, artifact []byte) error {
		_, err := trustmap.Verify(context.Background(), roots, prov, []*trustmap.Artifact{trustmap.BytesArtifact("a", artifact)},
			trustmap.VerifyOptions{At: corpusVerify, Sigstore: trust, MinLevel: 2, Expect: corpusSource("bcr/")})
		return err
	}
	bundle := read("bcr/MODULE.bazel.intoto.jsonl")
	artifact := read("bcr/MODULE.bazel")
	if err := verify(bundle, artifact); err != nil {
		t.Fatalf("untampered: %v", err)
	}
	flip := func(b []byte, field string) []byte {
		i := strings.Index(string(b), field)
		if i < 0 {
			t.Fatalf("%s not in bundle", field)
		}
		out := append([]byte{}, b...)
		j := i + len(field) + 40 // inside the base64 value
		if out[j] == 'A' {
			out[j] = 'B'
		} else {
			out[j] = 'A'
		}
		return out
	}
	cases := []struct {
		name     string
		prov     []byte
		artifact []byte
		want     error
	}{
		{"one byte of the artifact", bundle, append(append([]byte{}, artifact[:len(artifact)-1]...), artifact[len(artifact)-1]^1), trustmap.ErrSubjectMismatch},
		{"one byte of the payload", flip(bundle, `"payload":"`), artifact, trustmap.ErrTransparencyLog}, // the log entry's payload hash catches it first
		{"one byte of the certificate", flip(bundle, `"rawBytes":"`), artifact, nil},
		{"bundle paired with another artifact", bundle, read("bcr/rules_lint-v1.3.1.tar.gz"), trustmap.ErrSubjectMismatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := verify(c.prov, c.artifact)
			if err == nil {
				t.Fatal("tampered bundle passed")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Another trusted root (the virtual Sigstore's) does not vouch for the
	// public-good certificate.
	vs := virtualTrust(t)
	_, err := trustmap.Verify(context.Background(), roots, bundle, []*trustmap.Artifact{trustmap.BytesArtifact("a", artifact)}, trustmap.VerifyOptions{At: corpusVerify, Sigstore: vs, Expect: corpusSource("bcr/")})
	if err == nil {
		t.Fatal("verified against an unrelated trusted root")
	}
}

func TestGitHubExpectations(t *testing.T) {
	roots := compileSigstoreRoots(t)
	policy := func(repo, ref, runner string) *trustmap.Policy {
		p, err := trustmap.ParsePolicy([]byte(`{"schema":"https://hallmark.build/policy/v1","packages":{"rules_lint":{
			"minLevel":2,"buildTypes":["https://actions.github.io/buildtypes/workflow/v1"],"builderIds":["` + bcrBuilder + `"],
			"externalParameters":{"/workflow/repository":{"equals":"` + repo + `"},"/workflow/ref":{"pattern":"` + ref + `"},"/workflow/path":{"equals":".github/workflows/release.yml"}},
			"internalParameters":{"/github/runner_environment":{"equals":"` + runner + `"}}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(p *trustmap.Policy) error {
		_, err := verifyCorpus(t, roots, "bcr/MODULE.bazel.intoto.jsonl", "bcr/MODULE.bazel", trustmap.VerifyOptions{Policy: p, Package: "rules_lint"})
		return err
	}
	if err := run(policy("https://github.com/aspect-build/rules_lint", "refs/heads/publish-to-bcr", "github-hosted")); err != nil {
		t.Fatalf("expected pass: %v", err)
	}
	for name, tc := range map[string]struct {
		p    *trustmap.Policy
		want error
	}{
		"near-miss repository": {policy("https://github.com/aspect-build/rules_lint2", "refs/heads/publish-to-bcr", "github-hosted"), trustmap.ErrParameterMismatch},
		"fork":                 {policy("https://github.com/attacker/rules_lint", "refs/heads/publish-to-bcr", "github-hosted"), trustmap.ErrParameterMismatch},
		"wrong branch":         {policy("https://github.com/aspect-build/rules_lint", "refs/tags/v*", "github-hosted"), trustmap.ErrRefNotAllowed},
		"self-hosted expected": {policy("https://github.com/aspect-build/rules_lint", "refs/heads/publish-to-bcr", "self-hosted"), trustmap.ErrInternalParameter},
	} {
		if err := run(tc.p); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// BenchmarkVerifySigstoreBundle verifies one keyless bundle of the corpus
// and, in the same iterations, its floor: the signature checks no cache may
// skip, made from the same bundle's bytes (see keylessFloor). It reports
// both and their ratio.
func BenchmarkVerifySigstoreBundle(b *testing.B) {
	roots := compileSigstoreRoots(b)
	trust := publicGood(b)
	prov, err := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE.bazel.intoto.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	artifact, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE.bazel"))
	floor := keylessFloor(b, prov, trust)
	o := trustmap.VerifyOptions{At: corpusVerify, Sigstore: trust, Expect: corpusSource("bcr/")}
	var verifyTime, floorTime, verifyCPU, floorCPU time.Duration
	n := 0
	for b.Loop() {
		t0, c0 := time.Now(), cputime.Process()
		if _, err := trustmap.Verify(context.Background(), roots, prov, []*trustmap.Artifact{trustmap.BytesArtifact("MODULE.bazel", artifact)}, o); err != nil {
			b.Fatal(err)
		}
		t1, c1 := time.Now(), cputime.Process()
		if err := floor(); err != nil {
			b.Fatal(err)
		}
		verifyTime += t1.Sub(t0)
		floorTime += time.Since(t1)
		verifyCPU += c1 - c0
		floorCPU += cputime.Process() - c1
		n++
	}
	b.ReportMetric(float64(verifyTime.Nanoseconds())/float64(n), "verify-ns")
	b.ReportMetric(float64(floorTime.Nanoseconds())/float64(n), "floor-ns")
	// The target: at most 1.5, in time, alternating within each iteration
	// so that a busy machine slows both alike.
	b.ReportMetric(float64(verifyTime)/float64(floorTime), "verify/floor")
	// The same in the process's CPU time, which also counts the garbage
	// collector's work on other threads (verification allocates, the
	// floor hardly does).
	b.ReportMetric(float64(verifyCPU)/float64(floorCPU), "verify/floor-cpu")
}

// keylessFloor returns the signature checks of a keyless bundle that
// cannot be cached, with everything else (parsing, the chain above the
// leaf) done once: the leaf certificate's signature by its issuer (P-384
// for public-good Fulcio), its embedded SCT, the transparency-log entry
// (signed entry timestamp, inclusion proof and checkpoint signature) and
// the DSSE signature.
func keylessFloor(tb testing.TB, raw []byte, trust *trustmap.SigstoreTrust) func() error {
	tb.Helper()
	var bun bundle.Bundle
	if err := bun.UnmarshalJSON(raw); err != nil {
		tb.Fatal(err)
	}
	vc, err := bun.VerificationContent()
	if err != nil {
		tb.Fatal(err)
	}
	leaf := vc.Certificate()
	var issuer *x509.Certificate
	for _, ca := range trust.Material.FulcioCertificateAuthorities() {
		for _, c := range ca.(*root.FulcioCertificateAuthority).Intermediates {
			if leaf.CheckSignatureFrom(c) == nil {
				issuer = c
			}
		}
	}
	if issuer == nil {
		tb.Fatal("no issuer of the leaf in the trusted root")
	}
	// The embedded SCT and the data its log signed.
	scts, err := x509util.ParseSCTsFromCertificate(leaf.Raw)
	if err != nil || len(scts) != 1 {
		tb.Fatalf("scts: %v %d", err, len(scts))
	}
	ctLeaf, err := ctx509.ParseCertificate(leaf.Raw)
	if err != nil {
		tb.Fatal(err)
	}
	ctIssuer, err := ctx509.ParseCertificate(issuer.Raw)
	if err != nil {
		tb.Fatal(err)
	}
	mtl, err := ct.MerkleTreeLeafForEmbeddedSCT([]*ctx509.Certificate{ctLeaf, ctIssuer}, scts[0].Timestamp)
	if err != nil {
		tb.Fatal(err)
	}
	sctInput, err := ct.SerializeSCTSignatureInput(*scts[0], ct.LogEntry{Leaf: *mtl})
	if err != nil {
		tb.Fatal(err)
	}
	ctlog := trust.Material.CTLogs()[hex.EncodeToString(scts[0].LogID.KeyID[:])]
	if ctlog == nil {
		tb.Fatal("SCT from an unknown log")
	}
	ctKey := ctlog.PublicKey.(*ecdsa.PublicKey)
	// The log entry.
	entries, err := bun.TlogEntries()
	if err != nil || len(entries) != 1 {
		tb.Fatalf("tlog entries: %v %d", err, len(entries))
	}
	logs := trust.Material.RekorLogs()
	rekor := logs[hex.EncodeToString([]byte(entries[0].LogKeyID()))]
	logVerifier, err := signature.LoadVerifier(rekor.PublicKey, rekor.SignatureHashFunc)
	if err != nil {
		tb.Fatal(err)
	}
	// The DSSE signature, over the pre-authentication encoding.
	sc, _ := bun.SignatureContent()
	env := sc.EnvelopeContent().RawEnvelope()
	payload, _ := base64.StdEncoding.DecodeString(env.Payload)
	dsseSig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	leafKey := leaf.PublicKey.(*ecdsa.PublicKey)
	check := func() error {
		if err := leaf.CheckSignatureFrom(issuer); err != nil {
			return fmt.Errorf("leaf: %w", err)
		}
		d := sha256.Sum256(sctInput)
		if !ecdsa.VerifyASN1(ctKey, d[:], scts[0].Signature.Signature) {
			return errors.New("sct")
		}
		if err := tlog.VerifySET(entries[0], logs); err != nil {
			return fmt.Errorf("set: %w", err)
		}
		if err := tlog.VerifyInclusion(entries[0], logVerifier); err != nil {
			return fmt.Errorf("inclusion: %w", err)
		}
		d = sha256.Sum256(dsse.PAE(env.PayloadType, payload))
		if !ecdsa.VerifyASN1(leafKey, d[:], dsseSig) {
			return errors.New("dsse")
		}
		return nil
	}
	if err := check(); err != nil {
		tb.Fatal(err)
	}
	return check
}

func virtualTrust(t testing.TB) *trustmap.SigstoreTrust {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return &trustmap.SigstoreTrust{Material: vs, Description: "virtual Sigstore"}
}

func TestBundleJSONLines(t *testing.T) {
	roots := compileSigstoreRoots(t)
	forged, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE-wrong-signer.bazel.intoto.jsonl"))
	good, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE.bazel.intoto.jsonl"))
	artifact, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE.bazel"))
	prov := append(append(append([]byte{}, forged...), '\n'), good...)
	res, err := trustmap.Verify(context.Background(), roots, prov, []*trustmap.Artifact{trustmap.BytesArtifact("MODULE.bazel", artifact)},
		trustmap.VerifyOptions{At: corpusVerify, Sigstore: publicGood(t), MinLevel: 2, Expect: corpusSource("bcr/")})
	if err != nil || res.Passing != 1 || !errors.Is(res.Documents[0].Err(), trustmap.ErrSignerNotPaired) {
		t.Fatalf("passing %d, err %v, first document %v", res.Passing, err, res.Documents[0].Err())
	}
}

// A capability attestation can certify every release tag of a reusable
// workflow: builder idRegexp and certificate sanRegexp.
func TestCorpusWithPatterns(t *testing.T) {
	operator := keyFile(t, "operator.key", "operator-test-password")
	doc := readAnswers(t, "l3-hosted.json")
	wf := `https://github\.com/bazel-contrib/publish-to-bcr/\.github/workflows/publish\.yaml@refs/tags/v[0-9.]+`
	doc.Profile.Builders = []questionnaire.Builder{{IDRegexp: wf, Mode: "publish-to-bcr, any release tag"}}
	doc.Profile.Signers = []questionnaire.Signer{{OIDCIssuer: ghIssuer, SANRegexp: wf}}
	keyless(t, doc)
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := attest.Issue(context.Background(), doc, operator, attest.IssueOptions{Now: corpusIssued, ValidFor: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := os.ReadFile(filepath.Join(verifyDir, "certifiers.json"))
	certs, _ := trustmap.ParseCertifiers(cb)
	c, err := trustmap.Compile(context.Background(), certs, []trustmap.Attestation{{Name: "p", Envelope: res.Envelope}}, trustmap.CompileOptions{At: corpusCompile})
	if err != nil || len(c.Rejected) != 0 || c.Roots.Entries[0].BuilderIDRegexp != wf {
		t.Fatalf("compile: %v %+v", err, c)
	}
	if _, err := verifyCorpus(t, c.Roots, "bcr/MODULE.bazel.intoto.jsonl", "bcr/MODULE.bazel", trustmap.VerifyOptions{MinLevel: 3}); err != nil {
		t.Fatalf("pattern roots: %v", err)
	}
	if _, err := verifyCorpus(t, c.Roots, "bcr/MODULE-wrong-signer.bazel.intoto.jsonl", "bcr/MODULE-wrong-signer.bazel", trustmap.VerifyOptions{}); !errors.Is(err, trustmap.ErrSignerNotPaired) {
		t.Fatalf("forgery with pattern roots: %v", err)
	}
}

// Keyless verifications share one trusted root, and its chain cache, from
// many goroutines (batches, the upload gate): run under -race.
func TestKeylessConcurrent(t *testing.T) {
	roots := compileSigstoreRoots(t)
	trust := trustmap.LazyPublicGoodTrust()
	prov, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE.bazel.intoto.jsonl"))
	forged, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE-wrong-signer.bazel.intoto.jsonl"))
	artifact, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE.bazel"))
	forgedArtifact, _ := os.ReadFile(filepath.Join(corpusDir, "bcr/MODULE-wrong-signer.bazel"))
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			var err error
			if i%2 == 0 {
				_, err = trustmap.Verify(context.Background(), roots, prov, []*trustmap.Artifact{trustmap.BytesArtifact("a", artifact)},
					trustmap.VerifyOptions{At: corpusVerify, Sigstore: trust, MinLevel: 2, Expect: corpusSource("bcr/")})
			} else if _, ferr := trustmap.Verify(context.Background(), roots, forged, []*trustmap.Artifact{trustmap.BytesArtifact("a", forgedArtifact)},
				trustmap.VerifyOptions{At: corpusVerify, Sigstore: trust, MinLevel: 2, Expect: corpusSource("bcr/")}); !errors.Is(ferr, trustmap.ErrSignerNotPaired) {
				err = fmt.Errorf("forged: %v", ferr)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
