package trustmap_test

// Trust administration fixtures (testdata/verify/admin and the signed roots
// and policy): generated with
//
//	go test ./trustmap -run TestVerifyCases -regenerate-admin-fixtures
//
// and also by -regenerate-fixtures.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

var regenerateAdmin = flag.Bool("regenerate-admin-fixtures", false, "rewrite the trust administration fixtures (roots, signed policy, testdata/verify/admin)")

// hostedPattern is the example: a pattern that matches exactly the
// hosted builder.id.
const hostedPattern = `https://builds\.example\.com/builders/hosted-vm@v1`

// approvalAt is when the example approval was proposed and signed: an hour
// after the first pin (at verifyAt).
var approvalAt = time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)

// policyExpires is the expiry of the signed example policy.
var policyExpires = time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC)

// reencode returns the same signed statement in another envelope encoding:
// pretty-printed, URL-safe unpadded base64, the keyid changed and a junk
// signature added. Its file digest differs; its payload digest does not.
func reencode(t testing.TB, env []byte) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	p, err := base64.StdEncoding.DecodeString(e["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	e["payload"] = base64.RawURLEncoding.EncodeToString(p)
	sigs := e["signatures"].([]any)
	sigs[0].(map[string]any)["keyid"] = "not-the-fingerprint"
	e["signatures"] = append(sigs, map[string]any{"keyid": "junk", "sig": base64.StdEncoding.EncodeToString([]byte("junk signature"))})
	b, err := json.MarshalIndent(e, " ", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(" "), b...)
}

// patternCapability is a capability attestation for builder.idRegexp
// hostedPattern, signed by the operator.
func patternCapability(t testing.TB, operator *attest.PrivateKey) []byte {
	doc := readAnswers(t, "l3-hosted.json")
	doc.Profile.Builders = []questionnaire.Builder{{IDRegexp: hostedPattern, Mode: "hosted VMs, every release tag"}}
	return capability(t, operator, doc, "hosted-vm.answers.json")
}

// v2Policy returns the example policy as a v2 document with a serial and
// an expiry.
func v2Policy(t testing.TB, serial uint64) []byte {
	b, err := os.ReadFile(filepath.Join(verifyDir, "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := trustmap.ParsePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	p.Schema, p.Serial, p.Expires = trustmap.PolicySchema, serial, policyExpires
	return mustJSON(t, p)
}

func compileExample(t testing.TB, serial uint64) *trustmap.Roots {
	var atts []trustmap.Attestation
	for _, n := range []string{"hosted-vm.capability.json", "reused-runner.capability.json"} {
		b, err := os.ReadFile(filepath.Join(verifyDir, n))
		if err != nil {
			t.Fatal(err)
		}
		atts = append(atts, trustmap.Attestation{Name: n, Envelope: b})
	}
	cb, err := os.ReadFile(filepath.Join(verifyDir, "certifiers.json"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := trustmap.ParseCertifiers(cb)
	if err != nil {
		t.Fatal(err)
	}
	res, err := trustmap.Compile(context.Background(), certs, atts, trustmap.CompileOptions{At: compiledAt, Serial: serial, ValidFor: trustmap.MaxRootsValidity})
	if err != nil || len(res.Rejected) > 0 {
		t.Fatalf("compile: %v %+v", err, res.Rejected)
	}
	return res.Roots
}

// writeAdminFixtures writes the roots maps (v2, plain and signed), the
// signed v2 policy, and testdata/verify/admin.
func writeAdminFixtures(t *testing.T) {
	ctx := context.Background()
	operator := keyFile(t, "operator.key", "operator-test-password")
	auditor := keyFile(t, "auditor.key", "auditor-test-password")

	roots := compileExample(t, 1)
	rb, _ := roots.Marshal()
	write(t, "roots.json", rb)
	srb, err := roots.Sign(ctx, auditor)
	if err != nil {
		t.Fatal(err)
	}
	write(t, "roots.signed.json", srb)

	pb := v2Policy(t, 1)
	write(t, "policy.v2.json", pb)
	signedPolicy, err := trustmap.SignPolicy(ctx, pb, []*attest.PrivateKey{operator, auditor}, compiledAt)
	if err != nil {
		t.Fatal(err)
	}
	write(t, "policy.signed.json", signedPolicy)

	hosted, err := os.ReadFile(filepath.Join(verifyDir, "hosted-vm.capability.json"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, "admin/hosted-vm.reencoded.capability.json", reencode(t, hosted))
	v, err := attest.Verify(ctx, hosted, []*attest.PublicKey{operator.Public()}, attest.VerifyOptions{At: compiledAt})
	if err != nil {
		t.Fatal(err)
	}
	write(t, "admin/revoked.json", mustJSON(t, trustmap.Revocations{Schema: trustmap.RevocationsSchema, Revoked: []trustmap.Revocation{
		{AttestationDigest: v.PayloadDigest, Reason: "signing key of the control plane compromised"},
	}}))
	write(t, "admin/superseded.json", mustJSON(t, trustmap.Revocations{Schema: trustmap.RevocationsSchema, Revoked: []trustmap.Revocation{
		{BuilderID: hostedBuilder, IssuedBefore: compiledAt, Reason: "re-assessed after an incident"},
	}}))
	write(t, "admin/hosted-vm-pattern.capability.json", patternCapability(t, operator))

	// A signed approval of the fork-source provenance for package app.
	b, _ := os.ReadFile(filepath.Join(verifyDir, "cases/fork-source.intoto.jsonl"))
	res, err := trustmap.Verify(ctx, roots, b, []*trustmap.Artifact{trustmap.FileArtifact(filepath.Join(verifyDir, "app-1.2.3.tar.gz"))}, trustmap.VerifyOptions{At: verifyAt, NoExpectationsUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := trustmap.NewApproval("app", res, nil, approvalAt, 0)
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := a.Marshal()
	write(t, "admin/approval.json", ab)
	sa, err := trustmap.SignApproval(ctx, ab, []*attest.PrivateKey{operator}, approvalAt)
	if err != nil {
		t.Fatal(err)
	}
	sa, err = trustmap.SignApproval(ctx, sa, []*attest.PrivateKey{auditor}, approvalAt)
	if err != nil {
		t.Fatal(err)
	}
	write(t, "admin/approval.signed.json", sa)
}
