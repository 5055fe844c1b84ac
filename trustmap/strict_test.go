package trustmap_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/strictjson"
	"github.com/hallmark-build/hallmark/trustmap"
)

// Every document trustmap and attest read from outside has one reading: a
// member name given twice, or two names that differ only in case, are
// refused, whatever encoding/json (last one wins, case-insensitive) or jq
// would have read.
func TestDocumentsRefuseDuplicateAndCaseVariantNames(t *testing.T) {
	ctx := context.Background()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	operator := keyFile(t, "operator.key", "operator-test-password")
	capEnv := read(filepath.Join(verifyDir, "hosted-vm.capability.json"))
	var env attest.Envelope
	if err := json.Unmarshal(capEnv, &env); err != nil {
		t.Fatal(err)
	}
	capPayload, _ := base64.StdEncoding.DecodeString(env.Payload)
	var capSt struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	json.Unmarshal(capPayload, &capSt)
	policy := read(filepath.Join(verifyDir, "policy.json"))
	goodProv := read(filepath.Join(verifyDir, "cases", "pass-policy-l3.intoto.jsonl"))
	var provEnv attest.Envelope
	json.Unmarshal(goodProv, &provEnv)
	provPayload, _ := base64.StdEncoding.DecodeString(provEnv.Payload)
	bundle := read(filepath.Join(corpusDir, "bcr", "MODULE.bazel.intoto.jsonl"))
	trustedRoot := read("data/trusted-root-public-good.json")
	roots := loadRoots(t)
	sigRoots, sigTrust := compileSigstoreRoots(t), publicGood(t)
	art := trustmap.BytesArtifact("a", []byte(artifactData))
	bundleArt := trustmap.BytesArtifact("MODULE.bazel", read(filepath.Join(corpusDir, "bcr", "MODULE.bazel")))

	// Each document type, with the function that reads it from outside.
	docs := []struct {
		name  string
		doc   []byte
		parse func([]byte) error
	}{
		{"DSSE envelope", capEnv, func(b []byte) error { _, err := attest.ParseEnvelope(b); return err }},
		{"capability statement", capPayload, func(b []byte) error { _, _, err := attest.ParseStatement(b); return err }},
		{"capability predicate", capSt.Predicate, func(b []byte) error {
			st := strings.Replace(string(capPayload), string(capSt.Predicate), string(b), 1)
			_, _, err := attest.ParseStatement([]byte(st))
			return err
		}},
		{"provenance statement", provPayload, func(b []byte) error {
			env := sign(t, keyFile(t, "provenance-signer.key", ""), trustmap.InTotoPayloadType, b)
			_, err := trustmap.Verify(ctx, roots, env, []*trustmap.Artifact{art}, trustmap.VerifyOptions{At: verifyAt, NoExpectationsUnsafe: true})
			return err
		}},
		{"provenance envelope", goodProv, func(b []byte) error {
			_, err := trustmap.Verify(ctx, roots, b, []*trustmap.Artifact{art}, trustmap.VerifyOptions{At: verifyAt, NoExpectationsUnsafe: true})
			return err
		}},
		{"Sigstore bundle", bundle, func(b []byte) error {
			_, err := trustmap.Verify(ctx, sigRoots, b, []*trustmap.Artifact{bundleArt}, trustmap.VerifyOptions{At: corpusVerify, Sigstore: sigTrust, NoExpectationsUnsafe: true})
			return err
		}},
		{"Sigstore trusted root", trustedRoot, func(b []byte) error { _, err := trustmap.ParseTrustedRoot(b); return err }},
		{"roots", read(filepath.Join(verifyDir, "roots.json")), func(b []byte) error { _, err := trustmap.ParseRoots(b); return err }},
		{"signed roots", read(filepath.Join(verifyDir, "roots.signed.json")), func(b []byte) error {
			_, err := trustmap.LoadRoots(ctx, b, []*attest.PublicKey{keyFile(t, "auditor.key", "auditor-test-password").Public()}, trustmap.LoadOptions{At: verifyAt})
			return err
		}},
		{"policy", policy, func(b []byte) error { _, err := trustmap.ParsePolicy(b); return err }},
		{"signed policy", read(filepath.Join(verifyDir, "policy.signed.json")), func(b []byte) error {
			_, err := trustmap.LoadPolicy(ctx, b, []*attest.PublicKey{operator.Public()}, 1, trustmap.LoadOptions{At: verifyAt})
			return err
		}},
		{"certifiers", read(filepath.Join(verifyDir, "certifiers.json")), func(b []byte) error { _, err := trustmap.ParseCertifiers(b); return err }},
		{"revocations", []byte(`{"schema":"https://hallmark.build/revocations/v1","revoked":[{"attestationDigest":"abababababababababababababababababababababababababababababababab","reason":"key compromise"}]}`),
			func(b []byte) error { _, err := trustmap.ParseRevocations(b); return err }},
		{"TOFU store", []byte(`{"schema":"https://hallmark.build/tofu/v1","packages":{"app":{"builderId":"b","buildType":"t","parameters":{"/repository":"\"x\""},"firstSeen":"2026-11-20T00:00:00Z"}}}`),
			func(b []byte) error { _, err := trustmap.ParseTOFU(b); return err }},
		{"TOFU approval", read(filepath.Join(verifyDir, "admin", "approval.json")), func(b []byte) error { _, err := trustmap.ParseApproval(b); return err }},
		{"signed TOFU approval", read(filepath.Join(verifyDir, "admin", "approval.signed.json")), func(b []byte) error {
			_, err := trustmap.VerifyApproval(ctx, b, []*attest.PublicKey{operator.Public(), keyFile(t, "auditor.key", "auditor-test-password").Public()}, 2, approvalAt)
			return err
		}},
		{"signed TOFU approval payload", read(filepath.Join(verifyDir, "admin", "approval.json")), func(b []byte) error {
			// The approvers sign what they read: a payload with a duplicate
			// or case-variant name is refused before it is signed, and a
			// signed one is refused when applied.
			env, err := trustmap.SignApproval(ctx, b, []*attest.PrivateKey{operator}, approvalAt)
			if err != nil {
				return err
			}
			_, err = trustmap.VerifyApproval(ctx, env, []*attest.PublicKey{operator.Public()}, 1, approvalAt)
			return err
		}},
		{"serial state", []byte(`{"schema":"https://hallmark.build/trust-state/v1","serials":{"roots SHA256:abc":3}}`),
			func(b []byte) error { _, err := trustmap.ParseSerialState(b); return err }},
		{"verifier trust", verifierTrustDoc(t), func(b []byte) error { _, err := trustmap.ParseVerifierTrust(b); return err }},
		{"VSA statement", vsaStatement(t, art), func(b []byte) error {
			vt, err := trustmap.ParseVerifierTrust(verifierTrustDoc(t))
			if err != nil {
				return err
			}
			set, err := trustmap.NewVerifierSet(vt.Verifiers)
			if err != nil {
				return err
			}
			env, err := trustmap.SignVSA(ctx, b, operator)
			if err != nil {
				return err
			}
			_, err = trustmap.VerifyVSA(ctx, set, trustmap.VSAInput{Name: "vsa", Raw: env}, trustmap.VSAResource{Artifact: art},
				trustmap.VerifyVSAOptions{At: verifyAt, MaxAge: 24 * time.Hour, ResourceURI: "pkg:npm/app@1", Levels: []trustmap.LevelRequirement{{Name: "SLSA_BUILD_LEVEL_3", Track: "BUILD", Level: 3}}})
			return err
		}},
		{"batch manifest line", []byte(`{"artifact":"a","provenance":"p","package":"x"}`), func(b []byte) error {
			var msg string
			_, err := trustmap.RunBatch(ctx, strings.NewReader(string(b)), 1,
				func(context.Context, trustmap.BatchItem) (*trustmap.Result, error) {
					return &trustmap.Result{Passed: true}, nil
				},
				func(r trustmap.BatchResult) { msg = r.Error })
			if err == nil && msg != "" {
				err = errors.New(msg)
			}
			return err
		}},
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			if err := d.parse(d.doc); err != nil {
				t.Fatalf("the unmodified document is refused: %v", err)
			}
			name, value := firstMember(t, d.doc)
			// The same member again, and again with its name in upper case,
			// placed first so that a last-one-wins reader keeps the original.
			dup := insertFirst(d.doc, name, value)
			variant := insertFirst(d.doc, strings.ToUpper(name), value)
			if err := d.parse(dup); err == nil {
				t.Errorf("duplicate %q accepted", name)
			} else if !errors.Is(err, strictjson.ErrDuplicateName) && !strings.Contains(err.Error(), "given twice") {
				t.Errorf("duplicate %q: %v", name, err)
			}
			if err := d.parse(variant); err == nil {
				t.Errorf("case variant %q accepted", strings.ToUpper(name))
			} else if !errors.Is(err, strictjson.ErrCaseVariant) && !strings.Contains(err.Error(), "differs only in case") {
				t.Errorf("case variant %q: %v", strings.ToUpper(name), err)
			}
		})
	}

	// The review's example: a co-signer reading "packages" with jq approves
	// one policy, a trailing "PACKAGES" would have been enforced instead.
	spoof := strings.Replace(string(policy), `"schema"`, `"PACKAGES": {"example-app": {"builderIds": ["x"], "buildTypes": ["y"]}}, "schema"`, 1)
	if _, err := trustmap.ParsePolicy([]byte(spoof)); !errors.Is(err, strictjson.ErrCaseVariant) || !errors.Is(err, trustmap.ErrMalformedPolicy) {
		t.Fatalf("PACKAGES: %v", err)
	}
}

// firstMember returns the name and raw value of the first member of a JSON
// object.
func firstMember(t *testing.T, doc []byte) (string, json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	tok, err := dec.Token()
	if err != nil {
		t.Fatal(err)
	}
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return tok.(string), v
}

func insertFirst(doc []byte, name string, value json.RawMessage) []byte {
	s := strings.TrimSpace(string(doc))
	n, _ := json.Marshal(name)
	return []byte("{" + string(n) + ":" + string(value) + "," + s[1:])
}

// verifierTrustDoc is a minimal verifier-trust document: one verifier with
// the operator's key, for BUILD up to L3.
func verifierTrustDoc(t *testing.T) []byte {
	t.Helper()
	pem, err := keyFile(t, "operator.key", "operator-test-password").Public().MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"schema": trustmap.VerifierTrustSchema, "issuedAt": "2026-11-01T00:00:00Z",
		"verifiers": []any{map[string]any{
			"id": "https://verifier.example/v", "signer": map[string]any{"publicKey": string(pem)},
			"resourceUriRegexp": "pkg:npm/.*", "levels": map[string]int{"BUILD": 3},
			"validFrom": "2026-11-01T00:00:00Z", "validUntil": "2027-06-01T00:00:00Z",
		}},
	})
	return b
}

// vsaStatement is a PASSED VSA statement (SLSA Build L3) for art, as
// Hallmark writes them.
func vsaStatement(t *testing.T, art *trustmap.Artifact) []byte {
	t.Helper()
	d, err := art.Digest("sha256")
	if err != nil {
		t.Fatal(err)
	}
	b, err := trustmap.NewVSA(&trustmap.Result{Passed: true, Level: 3}, trustmap.VSAOptions{VerifierID: "https://verifier.example/v",
		ResourceURI: "pkg:npm/app@1", PolicyURI: trustmap.InlineExpectationsURI, Subjects: map[string]string{"a": d}, At: verifyAt.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
