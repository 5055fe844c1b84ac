package trustmap_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
)

// floodRoots is a roots map with n keys, each paired with its own builder.
func floodRoots(t testing.TB, n int) (*trustmap.Roots, []*attest.PrivateKey) {
	t.Helper()
	rnd := mrand.NewChaCha8([32]byte{1})
	var entries []trustmap.Entry
	var keys []*attest.PrivateKey
	for i := range n {
		k, err := attest.GenerateKey(attest.ECDSAP256, rnd)
		if err != nil {
			t.Fatal(err)
		}
		pem, _ := k.Public().MarshalPEM()
		keys = append(keys, k)
		entries = append(entries, trustmap.Entry{
			BuilderID:      fmt.Sprintf("https://builds.example.com/builders/b%d@v1", i),
			Signer:         trustmap.Signer{KeyFingerprint: k.Fingerprint(), PublicKey: string(pem)},
			SLSABuildLevel: 3, ValidFrom: issuedAt, ValidUntil: afterExpiry,
			CertifiedBy: trustmap.CertifiedBy{Name: "c", KeyFingerprint: "SHA256:c", AssessmentKind: "self"}, AttestationDigest: strings.Repeat("a", 64),
		})
	}
	roots, err := trustmap.NewRoots(compiledAt, entries)
	if err != nil {
		t.Fatal(err)
	}
	return roots, keys
}

// flood is a provenance file of envelopes, each with sigs random
// signatures under random keyids.
func flood(envelopes, sigs int) []byte {
	rnd := mrand.NewChaCha8([32]byte{2})
	var b strings.Builder
	for range envelopes {
		var ss []map[string]string
		for range sigs {
			sig, id := make([]byte, 72), make([]byte, 16)
			rnd.Read(sig)
			rnd.Read(id)
			ss = append(ss, map[string]string{"keyid": hex.EncodeToString(id), "sig": base64.StdEncoding.EncodeToString(sig)})
		}
		line, _ := json.Marshal(map[string]any{"payloadType": trustmap.InTotoPayloadType, "payload": base64.StdEncoding.EncodeToString([]byte(`{"_type":"x"}`)), "signatures": ss})
		b.Write(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// 256 envelopes of 16 random signatures against roots with 1,000 keys
// were four million signature checks (every key on every signature). The
// number of checks per file is bounded: the file fails with its own error
// after at most 2*keys+64 checks.
func TestSignatureChecksAreBounded(t *testing.T) {
	roots, keys := floodRoots(t, 1000)
	art := trustmap.BytesArtifact("a", []byte(artifactData))
	opts := trustmap.VerifyOptions{At: verifyAt, NoExpectationsUnsafe: true}
	res, err := trustmap.Verify(context.Background(), roots, flood(256, 16), []*trustmap.Artifact{art}, opts)
	if !errors.Is(err, trustmap.ErrTooManySignatureChecks) {
		t.Fatalf("err = %v", err)
	}
	if limit := 2*1000 + attest.MaxSignatureChecks; res.SignatureChecks > limit || res.SignatureChecks < 1000 {
		t.Fatalf("%d signature checks, want at most %d", res.SignatureChecks, limit)
	}
	if !strings.Contains(res.Error, "give each signature the keyid of its key") {
		t.Fatalf("message: %s", res.Error)
	}

	// A keyid that names a roots key selects it: one check.
	digest, _ := art.Digest("sha256")
	st := provenance(digest)
	run(st)["builder"] = map[string]any{"id": "https://builds.example.com/builders/b700@v1"}
	ext(st)["repository"] = "https://git.example.com/app"
	good := signStatement(t, keys[700], st)
	res, err = trustmap.Verify(context.Background(), roots, good, []*trustmap.Artifact{art}, opts)
	if err != nil || res.SignatureChecks != 1 {
		t.Fatalf("keyid naming a roots key: %d checks, %v", res.SignatureChecks, err)
	}
	// Without a keyid the key is found by trying them, within the bound.
	unhinted := editEnvelope(t, good, func(e map[string]any) { e["signatures"].([]any)[0].(map[string]any)["keyid"] = "" })
	res, err = trustmap.Verify(context.Background(), roots, unhinted, []*trustmap.Artifact{art}, opts)
	if err != nil || res.SignatureChecks > 1000 {
		t.Fatalf("no keyid: %d checks, %v", res.SignatureChecks, err)
	}
	// A keyid naming a roots key whose signature does not verify is not
	// tried with the other keys.
	wrong := editEnvelope(t, good, func(e map[string]any) { e["signatures"].([]any)[0].(map[string]any)["keyid"] = keys[3].Fingerprint() })
	res, err = trustmap.Verify(context.Background(), roots, wrong, []*trustmap.Artifact{art}, opts)
	if !errors.Is(err, trustmap.ErrBadSignature) || res.SignatureChecks != 1 {
		t.Fatalf("wrong keyid: %d checks, %v", res.SignatureChecks, err)
	}
}

// BenchmarkSignatureFlood measures the 256x16-signature file against
// 1,000 keys, and reports how much work the bound saves compared with
// trying every key on every signature (estimated from one check timed in
// the same run).
func BenchmarkSignatureFlood(b *testing.B) {
	roots, _ := floodRoots(b, 1000)
	prov := flood(256, 16)
	art := trustmap.BytesArtifact("a", []byte(artifactData))
	opts := trustmap.VerifyOptions{At: verifyAt, NoExpectationsUnsafe: true}
	one := rawVerifier(b)
	// One signature check, timed in the same run.
	start := time.Now()
	const probe = 2000
	for range probe {
		one()
	}
	perCheck := time.Since(start) / probe
	checks := 0
	b.ResetTimer()
	for b.Loop() {
		res, err := trustmap.Verify(context.Background(), roots, prov, []*trustmap.Artifact{art}, opts)
		if !errors.Is(err, trustmap.ErrTooManySignatureChecks) {
			b.Fatal(err)
		}
		checks = res.SignatureChecks
	}
	perOp := b.Elapsed() / time.Duration(b.N)
	unbounded := time.Duration(256*16*1000) * perCheck
	b.ReportMetric(float64(checks), "checks/op")
	b.ReportMetric(float64(256*16*1000)/float64(checks), "x-fewer-checks")
	b.ReportMetric(unbounded.Seconds(), "unbounded-s")
	b.ReportMetric(float64(unbounded)/float64(perOp), "x-faster")
}
