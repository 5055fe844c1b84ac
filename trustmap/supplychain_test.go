package trustmap_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/golden"
	"github.com/hallmark-build/hallmark/trustmap"
)

// The supply-chain fixtures: a control point that requires the source at
// SLSA Source L3 and every dependency at SLSA Build L2, vouched for by VSAs
// from a verifier the roots trust (testdata/verify/supplychain).

const (
	scDir         = "supplychain"
	scRepo        = "https://git.example.com/app"
	scCommit      = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	scSourceID    = "https://source.example/verifier"
	scDepsID      = "https://deps.example/verifier"
	scLib         = "pkg:generic/libfoo@1.4.0"
	scFixtures    = "pkg:generic/test-fixtures@2.0.0"
	scLibData     = "libfoo 1.4.0\n"
	scFixtureData = "fixtures\n"
)

// SupplyChainCase is one line of testdata/verify/supplychain/cases.json.
type SupplyChainCase struct {
	Name                 string   `json:"name"`
	Provenance           string   `json:"provenance"`
	Policy               string   `json:"policy"`
	VSAs                 []string `json:"vsas,omitempty"`
	DependencyProvenance []string `json:"dependencyProvenance,omitempty"`
	// Want is the name of the sentinel error, or "" for a pass.
	Want string `json:"want"`
	// DependencyLevels of a pass.
	DependencyLevels map[string]uint64 `json:"dependencyLevels,omitempty"`
}

func hexSum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func scProvenance(deps ...map[string]any) map[string]any {
	st := provenance(hexSum(artifactData))
	list := make([]any, len(deps))
	for i, d := range deps {
		list[i] = d
	}
	bdef(st)["resolvedDependencies"] = list
	return st
}

func scSourceDep(repo, commit string) map[string]any {
	return map[string]any{"uri": "git+" + repo + "@refs/tags/v1.2.3", "digest": map[string]any{"gitCommit": commit}}
}

func scDep(uri, data string) map[string]any {
	return map[string]any{"uri": uri, "digest": map[string]any{"sha256": hexSum(data)}}
}

func scVSA(verifierID, resource string, digest map[string]any, levels ...string) map[string]any {
	st := vsaV10()
	st["subject"] = []any{map[string]any{"uri": resource, "digest": digest}}
	p := st["predicate"].(map[string]any)
	p["verifier"] = map[string]any{"id": verifierID, "version": map[string]any{"example-verifier": "v1.0.0"}}
	p["resourceUri"] = resource
	p["timeVerified"] = "2026-11-20T09:00:00Z"
	lv := make([]any, len(levels))
	for i, l := range levels {
		lv[i] = l
	}
	p["verifiedLevels"] = lv
	return st
}

func generateSupplyChain(t *testing.T) {
	ctx := context.Background()
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	operator := keyFile(t, "operator.key", "operator-test-password")
	signer := keyFile(t, "provenance-signer.key", "")
	verifier := keyFile(t, "vsa-verifier.key", "")
	rogue := keyFile(t, "rogue.key", "")
	w := func(name string, b []byte) { write(t, filepath.Join(scDir, name), b) }

	// The auditor certifies builders and, here, verifiers too.
	opPub, _ := operator.Public().MarshalPEM()
	auPub, _ := auditor.Public().MarshalPEM()
	certs := trustmap.Certifiers{Schema: trustmap.CertifiersSchema, Certifiers: []trustmap.Certifier{
		{Name: "Example Build Co. (self-attested)", PublicKey: string(opPub), MaxLevel: 3, SelfAttestation: true},
		{Name: "Example Audit LLP", PublicKey: string(auPub), MaxLevel: 3, Verifiers: true},
	}}
	w("certifiers.json", mustJSON(t, certs))
	parsed, err := trustmap.ParseCertifiers(mustJSON(t, certs))
	if err != nil {
		t.Fatal(err)
	}

	vPub, _ := verifier.Public().MarshalPEM()
	doc := trustmap.VerifierTrust{Schema: trustmap.VerifierTrustSchema, IssuedAt: issuedAt, Verifiers: []trustmap.TrustedVerifier{
		{ID: scSourceID, Signer: trustmap.Signer{PublicKey: string(vPub)}, ResourceURIRegexp: `git\+https://git\.example\.com/.*`,
			Levels: map[string]int{"SOURCE": 3}, Properties: []string{"SLSA_SOURCE_TWO_PARTY_REVIEWED"},
			ValidFrom: issuedAt, ValidUntil: issuedAt.Add(180 * 24 * time.Hour)},
		{ID: scDepsID, Signer: trustmap.Signer{PublicKey: string(vPub)}, ResourceURIRegexp: `pkg:generic/.*`,
			Levels: map[string]int{"BUILD": 3}, ValidFrom: issuedAt, ValidUntil: issuedAt.Add(180 * 24 * time.Hour)},
	}}
	db := mustJSON(t, doc)
	w("verifiers.json", db)
	signedDoc, err := trustmap.SignVerifierTrust(ctx, db, []*attest.PrivateKey{auditor}, issuedAt)
	if err != nil {
		t.Fatal(err)
	}
	w("verifiers.signed.json", signedDoc)
	cap, _ := os.ReadFile(filepath.Join(verifyDir, "hosted-vm.capability.json"))
	res, err := trustmap.Compile(ctx, parsed, []trustmap.Attestation{{Name: "hosted-vm.capability.json", Envelope: cap}},
		trustmap.CompileOptions{At: compiledAt, ValidFor: trustmap.MaxRootsValidity, VerifierTrust: []trustmap.Attestation{{Name: "verifiers.signed.json", Envelope: signedDoc}}})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("compile: %v %+v", err, res)
	}
	rb, _ := res.Roots.Marshal()
	w("roots.json", rb)

	base := map[string]any{
		"minLevel": 3, "builderIds": []string{hostedBuilder}, "buildTypes": []string{buildType},
		"externalParameters": map[string]any{
			"repository": map[string]any{"equals": scRepo}, "ref": map[string]any{"pattern": "refs/tags/v*"},
			"target": map[string]any{"oneOf": []string{"release", "dist"}},
		},
		"source":       map[string]any{"minLevel": 3, "repositories": []string{scRepo}},
		"dependencies": map[string]any{"minLevel": 2, "ignore": []string{"pkg:generic/test-fixtures@*"}},
	}
	w("policy.json", mustJSON(t, map[string]any{"schema": trustmap.PolicySchemaV3, "packages": map[string]any{"example-app": base}}))
	v2 := maps.Clone(base)
	w("policy-v2-with-source.json", mustJSON(t, map[string]any{"schema": trustmap.PolicySchema, "packages": map[string]any{"example-app": v2}}))

	// Provenance: the source revision, a library and test fixtures (ignored).
	w("app.intoto.jsonl", signStatement(t, signer, scProvenance(scSourceDep(scRepo, scCommit), scDep(scLib, scLibData), scDep(scFixtures, scFixtureData))))
	w("app-no-source.intoto.jsonl", signStatement(t, signer, scProvenance(scDep(scLib, scLibData))))
	fork := scProvenance(scSourceDep("https://git.example.com/attacker/app", scCommit), scDep(scLib, scLibData))
	w("app-fork-source.intoto.jsonl", signStatement(t, signer, fork))
	// The library's own provenance, from the certified builder.
	lib := provenance(hexSum(scLibData))
	lib["subject"] = []any{map[string]any{"name": "libfoo-1.4.0.tar.gz", "digest": map[string]any{"sha256": hexSum(scLibData)}}}
	w("libfoo.intoto.jsonl", signStatement(t, signer, lib))

	commit := map[string]any{"gitCommit": scCommit}
	w("vsas/source.vsa.json", signVSAStatement(t, verifier, scVSA(scSourceID, "git+"+scRepo, commit, "SLSA_SOURCE_LEVEL_3", "SLSA_SOURCE_TWO_PARTY_REVIEWED")))
	w("vsas/libfoo.vsa.json", signVSAStatement(t, verifier, scVSA(scDepsID, scLib, map[string]any{"sha256": hexSum(scLibData)}, "SLSA_BUILD_LEVEL_3")))
	w("bad/source-l2.vsa.json", signVSAStatement(t, verifier, scVSA(scSourceID, "git+"+scRepo, commit, "SLSA_SOURCE_LEVEL_2")))
	w("bad/source-rogue.vsa.json", signVSAStatement(t, rogue, scVSA(scSourceID, "git+"+scRepo, commit, "SLSA_SOURCE_LEVEL_3")))
	w("bad/source-other-commit.vsa.json", signVSAStatement(t, verifier, scVSA(scSourceID, "git+"+scRepo, map[string]any{"gitCommit": strings.Repeat("0", 40)}, "SLSA_SOURCE_LEVEL_3")))
	w("bad/source-by-deps-verifier.vsa.json", signVSAStatement(t, verifier, scVSA(scDepsID, "git+"+scRepo, commit, "SLSA_SOURCE_LEVEL_3")))
	w("bad/libfoo-l1.vsa.json", signVSAStatement(t, verifier, scVSA(scDepsID, scLib, map[string]any{"sha256": hexSum(scLibData)}, "SLSA_BUILD_LEVEL_1")))
	w("bad/libfoo-other-digest.vsa.json", signVSAStatement(t, verifier, scVSA(scDepsID, scLib, map[string]any{"sha256": hexSum("other")}, "SLSA_BUILD_LEVEL_3")))
	w("bad/libfoo-other-resource.vsa.json", signVSAStatement(t, verifier, scVSA(scDepsID, "pkg:generic/libbar@1.4.0", map[string]any{"sha256": hexSum(scLibData)}, "SLSA_BUILD_LEVEL_3")))
	failedVSA := scVSA(scDepsID, scLib, map[string]any{"sha256": hexSum(scLibData)}, "FAILED")
	failedVSA["predicate"].(map[string]any)["verificationResult"] = "FAILED"
	w("bad/libfoo-failed.vsa.json", signVSAStatement(t, verifier, failedVSA))

	src, libv := "vsas/source.vsa.json", "vsas/libfoo.vsa.json"
	cases := []SupplyChainCase{
		{Name: "pass-source-and-dependency-vsas", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, libv}, DependencyLevels: map[string]uint64{"SLSA_BUILD_LEVEL_3": 1}},
		{Name: "pass-dependency-by-its-provenance", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src}, DependencyProvenance: []string{"libfoo.intoto.jsonl"}, DependencyLevels: map[string]uint64{"SLSA_BUILD_LEVEL_3": 1}},
		{Name: "pass-vsas-in-any-order-with-unrelated-ones", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{"bad/source-l2.vsa.json", "bad/libfoo-other-digest.vsa.json", libv, src}, DependencyLevels: map[string]uint64{"SLSA_BUILD_LEVEL_3": 1}},
		{Name: "source-no-vsa", Provenance: "app.intoto.jsonl", Policy: "policy.json", Want: "ErrSourceNotVerified"},
		{Name: "source-level-too-low", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{"bad/source-l2.vsa.json", libv}, Want: "ErrSourceNotVerified"},
		{Name: "source-vsa-untrusted-signer", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{"bad/source-rogue.vsa.json", libv}, Want: "ErrSourceNotVerified"},
		{Name: "source-vsa-other-commit", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{"bad/source-other-commit.vsa.json", libv}, Want: "ErrSourceNotVerified"},
		{Name: "source-vsa-from-verifier-not-trusted-for-source", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{"bad/source-by-deps-verifier.vsa.json", libv}, Want: "ErrSourceNotVerified"},
		{Name: "source-revision-missing", Provenance: "app-no-source.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, libv}, Want: "ErrSourceNotFound"},
		{Name: "source-from-another-repository", Provenance: "app-fork-source.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, libv}, Want: "ErrSourceMismatch"},
		{Name: "dependency-no-vsa", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src}, Want: "ErrDependencyNotVerified"},
		{Name: "dependency-level-too-low", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, "bad/libfoo-l1.vsa.json"}, Want: "ErrDependencyNotVerified"},
		{Name: "dependency-vsa-other-digest", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, "bad/libfoo-other-digest.vsa.json"}, Want: "ErrDependencyNotVerified"},
		{Name: "dependency-vsa-other-resource", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, "bad/libfoo-other-resource.vsa.json"}, Want: "ErrDependencyNotVerified"},
		{Name: "dependency-vsa-failed", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src, "bad/libfoo-failed.vsa.json"}, Want: "ErrDependencyNotVerified"},
		{Name: "dependency-provenance-of-another-artifact", Provenance: "app.intoto.jsonl", Policy: "policy.json", VSAs: []string{src}, DependencyProvenance: []string{"app.intoto.jsonl"}, Want: "ErrDependencyNotVerified"},
		{Name: "policy-v2-cannot-require-sources", Provenance: "app.intoto.jsonl", Policy: "policy-v2-with-source.json", VSAs: []string{src, libv}, Want: "ErrMalformedPolicy"},
	}
	w("cases.json", mustJSON(t, cases))
}

func readSC(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(verifyDir, scDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSupplyChainCases(t *testing.T) {
	if *regenerate {
		generateSupplyChain(t)
	}
	roots, err := trustmap.ParseRoots(readSC(t, "roots.json"))
	if err != nil {
		t.Fatal(err)
	}
	if roots.Schema != trustmap.RootsSchemaV3 || roots.VerifierSet().Len() != 2 {
		t.Fatalf("roots: %s with %d verifiers", roots.Schema, roots.VerifierSet().Len())
	}
	var cases []SupplyChainCase
	if err := json.Unmarshal(readSC(t, "cases.json"), &cases); err != nil {
		t.Fatal(err)
	}
	passes, fails := 0, 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			o := trustmap.VerifyOptions{At: verifyAt, Package: "example-app"}
			for _, v := range c.VSAs {
				o.VSAs = append(o.VSAs, trustmap.VSAInput{Name: v, Raw: readSC(t, v)})
			}
			for _, p := range c.DependencyProvenance {
				o.DependencyProvenance = append(o.DependencyProvenance, trustmap.VSAInput{Name: p, Raw: readSC(t, p)})
			}
			var res *trustmap.Result
			p, err := trustmap.ParsePolicy(readSC(t, c.Policy))
			if err == nil {
				o.Policy = p
				art := trustmap.BytesArtifact("app-1.2.3.tar.gz", []byte(artifactData))
				res, err = trustmap.Verify(context.Background(), roots, readSC(t, c.Provenance), []*trustmap.Artifact{art}, o)
			}
			if c.Want == "" {
				if err != nil || !res.Passed || res.Level != 3 {
					t.Fatalf("expected a pass at L3: %v", err)
				}
				if !maps.Equal(res.DependencyLevels, c.DependencyLevels) {
					t.Fatalf("dependencyLevels %v, want %v", res.DependencyLevels, c.DependencyLevels)
				}
				if len(res.VSAs)+len(res.DependencyProvenance) < 2 {
					t.Fatalf("the result names %d VSAs and %d provenance relied on", len(res.VSAs), len(res.DependencyProvenance))
				}
				passes++
			} else {
				want := sentinels[c.Want]
				if want == nil {
					t.Fatalf("unknown sentinel %s", c.Want)
				}
				if !errors.Is(err, want) || (res != nil && res.Passed) {
					t.Fatalf("err = %v, want %s", err, c.Want)
				}
				for name, s := range sentinels {
					if name != c.Want && errors.Is(err, s) && name != "ErrMalformedPolicy" {
						t.Fatalf("err %v also matches %s", err, name)
					}
				}
				if !strings.Contains(err.Error(), "expected") {
					t.Fatalf("message does not say what was expected: %v", err)
				}
				fails++
			}
			if res != nil {
				b, _ := json.MarshalIndent(res, "", "  ")
				golden.Check(t, filepath.Join(verifyDir, scDir, "results", c.Name+".json"), append(b, '\n'))
			}
		})
	}
	if passes < 3 || fails < 10 {
		t.Fatalf("%d passing and %d failing cases", passes, fails)
	}
}

// A VSA trustmap writes for a supply-chain pass records the levels of the
// dependencies and every input it relied on.
func TestSupplyChainVSA(t *testing.T) {
	roots, _ := trustmap.ParseRoots(readSC(t, "roots.json"))
	p, _ := trustmap.ParsePolicy(readSC(t, "policy.json"))
	o := trustmap.VerifyOptions{At: verifyAt, Package: "example-app", Policy: p}
	for _, v := range []string{"vsas/source.vsa.json", "vsas/libfoo.vsa.json"} {
		o.VSAs = append(o.VSAs, trustmap.VSAInput{Name: v, Raw: readSC(t, v)})
	}
	res, err := trustmap.Verify(context.Background(), roots, readSC(t, "app.intoto.jsonl"), []*trustmap.Artifact{trustmap.BytesArtifact("app-1.2.3.tar.gz", []byte(artifactData))}, o)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []trustmap.VSARef
	for _, u := range res.VSAs {
		inputs = append(inputs, trustmap.VSARef{URI: "file:///vsas/" + filepath.Base(u.Name), Digest: map[string]string{"sha256": u.FileDigest}})
	}
	st, err := trustmap.NewVSA(res, trustmap.VSAOptions{VerifierID: "https://registry.example/gate", ResourceURI: "pkg:generic/example-app@1.2.3",
		PolicyURI: "file:///policy.json", PolicyData: readSC(t, "policy.json"), InputAttestations: inputs,
		Subjects: map[string]string{"app-1.2.3.tar.gz": hexSum(artifactData)}, At: verifyAt})
	if err != nil {
		t.Fatal(err)
	}
	assertInTotoVSA(t, st)
	var got struct {
		Predicate trustmap.VSA `json:"predicate"`
	}
	json.Unmarshal(st, &got)
	if got.Predicate.DependencyLevels["SLSA_BUILD_LEVEL_3"] != 1 || len(got.Predicate.InputAttestations) != 2 {
		t.Fatalf("VSA %+v", got.Predicate)
	}
	sum := sha256.Sum256(readSC(t, "vsas/source.vsa.json"))
	if got.Predicate.InputAttestations[0].Digest["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("inputAttestations[0] %v is not the file's sha256", got.Predicate.InputAttestations[0])
	}
}

func TestPolicyV3SupplyChainFields(t *testing.T) {
	base := `{"schema":"https://hallmark.build/policy/v3","packages":{"a":{"builderIds":["https://b.example/x"],"buildTypes":["https://t.example/y"],%s}}}`
	for name, field := range map[string]string{
		"source level 0":         `"source":{"minLevel":0}`,
		"source level 5":         `"source":{"minLevel":5}`,
		"dependencies level 4":   `"dependencies":{"minLevel":4}`,
		"ignore everything":      `"dependencies":{"minLevel":2,"ignore":["*"]}`,
		"bad ignore pattern":     `"dependencies":{"minLevel":2,"ignore":["pkg:[x"]}`,
		"unknown source field":   `"source":{"minLevel":2,"minlevel":3}`,
		"case variant":           `"source":{"minLevel":2},"Source":{"minLevel":1}`,
		"duplicate dependencies": `"dependencies":{"minLevel":3},"dependencies":{"minLevel":1}`,
	} {
		if _, err := trustmap.ParsePolicy([]byte(strings.Replace(base, "%s", field, 1))); !errors.Is(err, trustmap.ErrMalformedPolicy) {
			t.Errorf("%s: err = %v, want ErrMalformedPolicy", name, err)
		}
	}
	if _, err := trustmap.ParsePolicy([]byte(strings.Replace(base, "%s", `"source":{"minLevel":3},"dependencies":{"minLevel":2,"ignore":["pkg:npm/*"]}`, 1))); err != nil {
		t.Fatal(err)
	}
}

// Verifier-trust documents are compiled like attestations: only a certifier
// allowed to certify verifiers, revocable by payload digest or verifierId,
// never past the certifier's maxLevel for BUILD, and with a valid window.
func TestCompileVerifierTrust(t *testing.T) {
	ctx := context.Background()
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	signed := readSC(t, "verifiers.signed.json")
	cap := readSC(t, "../hosted-vm.capability.json")
	compile := func(certsFile string, o trustmap.CompileOptions, docs ...[]byte) *trustmap.Compiled {
		t.Helper()
		b, _ := os.ReadFile(filepath.Join(verifyDir, certsFile))
		if strings.HasPrefix(certsFile, "{") {
			b = []byte(certsFile)
		}
		certs, err := trustmap.ParseCertifiers(b)
		if err != nil {
			t.Fatal(err)
		}
		o.At, o.ValidFor = compiledAt, 30*24*time.Hour
		for i, d := range docs {
			o.VerifierTrust = append(o.VerifierTrust, trustmap.Attestation{Name: "v" + string(rune('0'+i)), Envelope: d})
		}
		res, err := trustmap.Compile(ctx, certs, []trustmap.Attestation{{Name: "cap", Envelope: cap}}, o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	rejected := func(res *trustmap.Compiled, want error) {
		t.Helper()
		if len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Err, want) || res.Roots.VerifierSet().Len() != 0 || res.Roots.Schema != trustmap.RootsSchema {
			t.Fatalf("rejected %+v, verifiers %d, schema %s; want %v", res.Rejected, res.Roots.VerifierSet().Len(), res.Roots.Schema, want)
		}
	}
	if res := compile("supplychain/certifiers.json", trustmap.CompileOptions{}, signed); len(res.Rejected) != 0 || res.Roots.VerifierSet().Len() != 2 {
		t.Fatalf("accepted: %+v", res.Rejected)
	}
	// The main certifiers file does not let the auditor certify verifiers.
	rejected(compile("certifiers.json", trustmap.CompileOptions{}, signed), trustmap.ErrUntrustedCertifier)
	env, _ := attest.ParseEnvelope(signed)
	payload, _ := attest.DecodePayload(env)
	rev := func(js string) *trustmap.Revocations {
		r, err := trustmap.ParseRevocations([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	rejected(compile("supplychain/certifiers.json", trustmap.CompileOptions{Revoked: rev(`{"schema":"https://hallmark.build/revocations/v1","revoked":[{"attestationDigest":"` + hexSum(string(payload)) + `","reason":"key lost"}]}`)}, signed), trustmap.ErrRevoked)
	rejected(compile("supplychain/certifiers.json", trustmap.CompileOptions{Revoked: rev(`{"schema":"https://hallmark.build/revocations/v1","revoked":[{"verifierId":"` + scDepsID + `","issuedBefore":"2026-11-10T00:00:00Z","reason":"re-assessed"}]}`)}, signed), trustmap.ErrRevoked)
	// Re-encoded (another signature added) it is the same document: still revoked.
	rogue := keyFile(t, "rogue.key", "")
	cosigned, err := trustmap.CoSign(ctx, signed, trustmap.VerifierTrustPayloadType, []*attest.PrivateKey{rogue}, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	rejected(compile("supplychain/certifiers.json", trustmap.CompileOptions{Revoked: rev(`{"schema":"https://hallmark.build/revocations/v1","revoked":[{"attestationDigest":"` + hexSum(string(payload)) + `","reason":"key lost"}]}`)}, cosigned), trustmap.ErrRevoked)
	// A BUILD level above the certifier's maxLevel is lowered to it.
	var doc map[string]any
	json.Unmarshal(readSC(t, "verifiers.json"), &doc)
	doc["verifiers"].([]any)[1].(map[string]any)["levels"] = map[string]any{"BUILD": 3}
	var cf map[string]any
	json.Unmarshal(readSC(t, "certifiers.json"), &cf)
	cf["certifiers"].([]any)[1].(map[string]any)["maxLevel"] = 2
	capped := mustJSON(t, cf)
	signedDoc, err := trustmap.SignVerifierTrust(ctx, mustJSON(t, doc), []*attest.PrivateKey{auditor}, issuedAt)
	if err != nil {
		t.Fatal(err)
	}
	res := compile(string(capped), trustmap.CompileOptions{}, signedDoc)
	if len(res.Roots.Verifiers) != 2 {
		t.Fatalf("capped: %+v", res.Rejected)
	}
	for _, v := range res.Roots.Verifiers {
		if v.Levels["BUILD"] > 2 {
			t.Fatalf("%s keeps BUILD %d above the certifier's maxLevel 2", v.ID, v.Levels["BUILD"])
		}
	}
	// Expired at compile time: refused.
	late := trustmap.CompileOptions{}
	b, _ := os.ReadFile(filepath.Join(verifyDir, "supplychain/certifiers.json"))
	c2, _ := trustmap.ParseCertifiers(b)
	late.At, late.ValidFor = issuedAt.Add(200*24*time.Hour), 24*time.Hour
	late.VerifierTrust = []trustmap.Attestation{{Name: "v", Envelope: signed}}
	r2, err := trustmap.Compile(ctx, c2, nil, late)
	if err != nil || len(r2.Rejected) != 1 || !errors.Is(r2.Rejected[0].Err, trustmap.ErrInvalidVerifier) {
		t.Fatalf("expired verifier trust: %v %+v", err, r2)
	}
}

// Attacks found in review, each a regression test.

func scVerifyWith(t *testing.T, prov, pkg map[string]any, set *trustmap.VerifierSet, vsas ...[]byte) (*trustmap.Result, error) {
	t.Helper()
	roots, _ := trustmap.ParseRoots(readSC(t, "roots.json"))
	base := map[string]any{"minLevel": 3, "builderIds": []string{hostedBuilder}, "buildTypes": []string{buildType},
		"externalParameters": map[string]any{"repository": map[string]any{"equals": scRepo},
			"ref": map[string]any{"pattern": "refs/tags/v*"}, "target": map[string]any{"oneOf": []string{"release", "dist"}}}}
	maps.Copy(base, pkg)
	p, err := trustmap.ParsePolicy(mustJSON(t, map[string]any{"schema": trustmap.PolicySchemaV3, "packages": map[string]any{"example-app": base}}))
	if err != nil {
		t.Fatal(err)
	}
	o := trustmap.VerifyOptions{At: verifyAt, Package: "example-app", Policy: p, Verifiers: set}
	for i, v := range vsas {
		o.VSAs = append(o.VSAs, trustmap.VSAInput{Name: "vsa" + strconv.Itoa(i), Raw: v})
	}
	return trustmap.Verify(context.Background(), roots, signStatement(t, keyFile(t, "provenance-signer.key", ""), prov),
		[]*trustmap.Artifact{trustmap.BytesArtifact("app-1.2.3.tar.gz", []byte(artifactData))}, o)
}

var (
	scSourcePolicy = map[string]any{"minLevel": 3, "repositories": []string{scRepo}}
	scDepsPolicy   = map[string]any{"minLevel": 2}
)

// A dependency whose only digests are md5 or empty is not skipped.
func TestDependencyWithoutUsableDigestFails(t *testing.T) {
	for _, dg := range []map[string]any{{"md5": strings.Repeat("a", 32)}, {"sha256": ""}} {
		prov := scProvenance(scSourceDep(scRepo, scCommit), scDep(scLib, scLibData), map[string]any{"uri": "pkg:generic/evil@6.6.6", "digest": dg})
		_, err := scVerifyWith(t, prov, map[string]any{"source": scSourcePolicy, "dependencies": scDepsPolicy}, nil,
			readSC(t, "vsas/source.vsa.json"), readSC(t, "vsas/libfoo.vsa.json"))
		// (The in-toto library refuses an empty sha256 before that.)
		if !errors.Is(err, trustmap.ErrDependencyNotVerified) && !errors.Is(err, trustmap.ErrInTotoRejected) {
			t.Errorf("%v: err = %v, want ErrDependencyNotVerified", dg, err)
		}
	}
}

// Without a source policy, a git dependency from another repository than
// the one the provenance builds from is a dependency like any other.
func TestForeignGitDependencyIsNotTheSource(t *testing.T) {
	prov := scProvenance(scSourceDep("https://evil.example/backdoor", strings.Repeat("e", 40)), scDep(scLib, scLibData))
	if _, err := scVerifyWith(t, prov, map[string]any{"dependencies": scDepsPolicy}, nil, readSC(t, "vsas/libfoo.vsa.json")); !errors.Is(err, trustmap.ErrDependencyNotVerified) {
		t.Fatalf("err = %v, want ErrDependencyNotVerified", err)
	}
	// The repository the provenance builds from is left to the source check.
	if _, err := scVerifyWith(t, scProvenance(scSourceDep(scRepo, scCommit), scDep(scLib, scLibData)), map[string]any{"dependencies": scDepsPolicy}, nil, readSC(t, "vsas/libfoo.vsa.json")); err != nil {
		t.Fatal(err)
	}
}

// The level recorded for a dependency is never above what its verifier is
// trusted for.
func TestDependencyLevelCappedByTrust(t *testing.T) {
	k := keyFile(t, "vsa-verifier.key", "")
	pub, _ := k.Public().MarshalPEM()
	set, err := trustmap.NewVerifierSet([]trustmap.TrustedVerifier{{ID: scDepsID,
		Signer: trustmap.Signer{PublicKey: string(pub), KeyFingerprint: k.Public().Fingerprint}, ResourceURIRegexp: `pkg:generic/.*`,
		Levels: map[string]int{"BUILD": 2}, ValidFrom: issuedAt, ValidUntil: issuedAt.Add(180 * 24 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := scVerifyWith(t, scProvenance(scSourceDep(scRepo, scCommit), scDep(scLib, scLibData)), map[string]any{"dependencies": scDepsPolicy}, set, readSC(t, "vsas/libfoo.vsa.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(res.DependencyLevels, map[string]uint64{"SLSA_BUILD_LEVEL_2": 1}) {
		t.Fatalf("dependencyLevels %v from a verifier trusted up to BUILD 2", res.DependencyLevels)
	}
}

// A VSA that says it was reached with a loosened check vouches for nothing.
func TestLoosenedVSACoversNothing(t *testing.T) {
	vsa := signVSAStatement(t, keyFile(t, "vsa-verifier.key", ""), scVSA(scDepsID, scLib, map[string]any{"sha256": hexSum(scLibData)},
		"SLSA_BUILD_LEVEL_3", "HALLMARK_INSECURE_IGNORE_CERTIFICATION_EXPIRY"))
	_, err := scVerifyWith(t, scProvenance(scSourceDep(scRepo, scCommit), scDep(scLib, scLibData)), map[string]any{"dependencies": map[string]any{"minLevel": 3}}, nil, vsa)
	if !errors.Is(err, trustmap.ErrDependencyNotVerified) || !strings.Contains(err.Error(), "loosened") {
		t.Fatalf("err = %v", err)
	}
	roots, _ := trustmap.ParseRoots(readSC(t, "roots.json"))
	_, err = trustmap.VerifyVSA(context.Background(), roots.VerifierSet(), trustmap.VSAInput{Name: "v", Raw: vsa},
		trustmap.VSAResource{Digests: map[string]string{"sha256": hexSum(scLibData)}},
		trustmap.VerifyVSAOptions{At: verifyAt, MaxAge: 30 * 24 * time.Hour, ResourceURI: scLib, Levels: []trustmap.LevelRequirement{mustLevel(t, "3")}})
	if !errors.Is(err, trustmap.ErrVSALoosened) {
		t.Fatalf("verify-vsa: err = %v, want ErrVSALoosened", err)
	}
}

// Ignore globs do not reach a purl's qualifiers, nor a name when there is
// a uri.
func TestIgnoreGlobsStayNarrow(t *testing.T) {
	pol := map[string]any{"dependencies": map[string]any{"minLevel": 2, "ignore": []string{"pkg:generic/test-fixtures@*"}}}
	for _, dep := range []map[string]any{
		{"uri": "pkg:generic/test-fixtures@2.0.0?download_url=https:%2F%2Fevil.example%2Fx", "digest": map[string]any{"sha256": hexSum("x")}},
		{"uri": "https://evil.example/payload.tgz", "name": "pkg:generic/test-fixtures@2.0.0", "digest": map[string]any{"sha256": hexSum("x")}},
	} {
		prov := scProvenance(scSourceDep(scRepo, scCommit), scDep(scLib, scLibData), dep)
		if _, err := scVerifyWith(t, prov, pol, nil, readSC(t, "vsas/libfoo.vsa.json")); !errors.Is(err, trustmap.ErrDependencyNotVerified) {
			t.Errorf("%v: err = %v, want ErrDependencyNotVerified", dep["uri"], err)
		}
	}
}

// The same VSA given a thousand times is read once, and dependencies are
// compared only with the VSAs about them: 10,000 dependencies and 1,000
// VSAs stay a bounded amount of work, each VSA recorded once.
func TestCoverWorkIsBounded(t *testing.T) {
	var vsas [][]byte
	for range 999 {
		vsas = append(vsas, readSC(t, "vsas/source.vsa.json"))
	}
	vsas = append(vsas, readSC(t, "vsas/libfoo.vsa.json"))
	deps := []map[string]any{scSourceDep(scRepo, scCommit)}
	for range trustmap.MaxDependencies - 1 {
		deps = append(deps, scDep(scLib, scLibData))
	}
	res, err := scVerifyWith(t, scProvenance(deps...), map[string]any{"dependencies": scDepsPolicy}, nil, vsas...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.VSAs) != 1 || res.DependencyLevels["SLSA_BUILD_LEVEL_3"] != uint64(trustmap.MaxDependencies-1) {
		t.Fatalf("%d VSAs recorded, levels %v", len(res.VSAs), res.DependencyLevels)
	}
}
