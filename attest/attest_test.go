package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/hallmark-build/hallmark/assess"
	"github.com/hallmark-build/hallmark/internal/golden"
	"github.com/hallmark-build/hallmark/questionnaire"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func loadDoc(t testing.TB, name string) (*questionnaire.Document, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "answers", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := questionnaire.ParseAnswers(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc, b
}

func operatorKey(t testing.TB) *PrivateKey {
	t.Helper()
	b, err := os.ReadFile("../testdata/keys/operator.key")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(b, func(bool) ([]byte, error) { return []byte("operator-test-password"), nil })
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue makes a signed capability envelope for the named sample.
func issue(t testing.TB, key *PrivateKey, name string, o IssueOptions) []byte {
	t.Helper()
	doc, _ := loadDoc(t, name)
	if o.Now.IsZero() {
		o.Now = t0
	}
	res, err := Issue(context.Background(), doc, key, o)
	if err != nil {
		t.Fatal(err)
	}
	return res.Envelope
}

func allKeyTypes(t *testing.T) map[string]*PrivateKey {
	t.Helper()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	out := map[string]*PrivateKey{}
	for name, raw := range map[string]any{"ecdsa-p384": p384, "rsa-2048": rsaKey} {
		k, err := newPrivateKey(raw)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = k
	}
	for _, alg := range []Algorithm{ECDSAP256, Ed25519} {
		k, err := GenerateKey(alg, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out[string(alg)] = k
	}
	return out
}

func TestRoundTripEveryKeyType(t *testing.T) {
	_, answers := loadDoc(t, "l3-hosted")
	for name, k := range allKeyTypes(t) {
		t.Run(name, func(t *testing.T) {
			env := issue(t, k, "l3-hosted", IssueOptions{AnswersName: "l3-hosted.json"})
			// Through PEM and back, as users exchange keys.
			pemBytes, err := k.Public().MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			pub, err := ParsePublicKey(pemBytes)
			if err != nil {
				t.Fatal(err)
			}
			v, err := Verify(context.Background(), env, []*PublicKey{pub}, VerifyOptions{At: t0.Add(time.Hour), Answers: answers})
			if err != nil {
				t.Fatal(err)
			}
			if v.Predicate.SLSABuildLevel != 3 || v.Key.Fingerprint != k.Fingerprint() {
				t.Fatalf("level %v key %s", v.Predicate.SLSABuildLevel, v.Key.Fingerprint)
			}
			var e Envelope
			json.Unmarshal(env, &e)
			if e.Signatures[0].KeyID != k.Fingerprint() {
				t.Fatalf("keyid %q, want %q", e.Signatures[0].KeyID, k.Fingerprint())
			}
			// Plain PKCS#8 round trip of the private key too.
			plain, err := k.MarshalUnencrypted()
			if err != nil {
				t.Fatal(err)
			}
			k2, err := ParsePrivateKey(plain, nil)
			if err != nil || k2.Fingerprint() != k.Fingerprint() {
				t.Fatalf("plain key round trip: %v", err)
			}
		})
	}
}

// The envelope is plain DSSE: go-securesystemslib verifies it with nothing
// but the public key, independent of our verify code.
func TestIndependentDSSEVerifier(t *testing.T) {
	k := operatorKey(t)
	env := issue(t, k, "l3-hosted", IssueOptions{})
	var e ssldsse.Envelope
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadDefaultVerifier(k.Public().Key)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ssldsse.NewEnvelopeVerifier(&sigdsse.VerifierAdapter{SignatureVerifier: sv, Pub: k.Public().Key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Verify(context.Background(), &e); err != nil {
		t.Fatalf("go-securesystemslib rejects the envelope: %v", err)
	}
	// And it rejects a tampered one, so the check above can fail.
	e.PayloadType = "text/plain"
	if _, err := ev.Verify(context.Background(), &e); err == nil {
		t.Fatal("go-securesystemslib accepted a tampered envelope")
	}
}

func TestTamperCases(t *testing.T) {
	k := operatorKey(t)
	good := issue(t, k, "l3-hosted", IssueOptions{})
	_, answers := loadDoc(t, "l3-hosted")
	keys := []*PublicKey{k.Public()}
	at := t0.Add(time.Hour)
	other, _ := GenerateKey(ECDSAP256, rand.Reader)

	edit := func(f func(e map[string]any)) []byte {
		var e map[string]any
		json.Unmarshal(good, &e)
		f(e)
		b, _ := json.Marshal(e)
		return b
	}
	editPayload := func(f func(p []byte) []byte) []byte {
		return edit(func(e map[string]any) {
			p, _ := base64.StdEncoding.DecodeString(e["payload"].(string))
			e["payload"] = base64.StdEncoding.EncodeToString(f(p))
		})
	}
	// A statement signed correctly but with wrong content.
	resign := func(f func(st map[string]any)) []byte {
		var e Envelope
		json.Unmarshal(good, &e)
		p, _ := base64.StdEncoding.DecodeString(e.Payload)
		var st map[string]any
		json.Unmarshal(p, &st)
		f(st)
		p, _ = json.Marshal(st)
		ne, err := Sign(context.Background(), PayloadType, p, k)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := MarshalEnvelope(ne)
		return b
	}
	signedAs := func(pt string) []byte {
		var e Envelope
		json.Unmarshal(good, &e)
		p, _ := base64.StdEncoding.DecodeString(e.Payload)
		ne, _ := Sign(context.Background(), pt, p, k)
		b, _ := MarshalEnvelope(ne)
		return b
	}
	otherAnswers := bytes.Replace(answers, []byte("Example Build Co."), []byte("Example Build Co!"), 1)

	cases := []struct {
		name    string
		env     []byte
		keys    []*PublicKey
		answers []byte
		want    error
	}{
		{"payload byte", editPayload(func(p []byte) []byte { p[len(p)/2] ^= 1; return p }), keys, nil, ErrBadSignature},
		{"payloadType altered", edit(func(e map[string]any) { e["payloadType"] = "application/json" }), keys, nil, ErrWrongPayloadType},
		{"payloadType signed but unexpected", signedAs("application/vnd.example+json"), keys, nil, ErrWrongPayloadType},
		{"signature byte", edit(func(e map[string]any) {
			sig := e["signatures"].([]any)[0].(map[string]any)
			s, _ := base64.StdEncoding.DecodeString(sig["sig"].(string))
			s[len(s)-1] ^= 1
			sig["sig"] = base64.StdEncoding.EncodeToString(s)
		}), keys, nil, ErrBadSignature},
		{"swapped key", good, []*PublicKey{other.Public()}, nil, ErrBadSignature},
		{"keyid rewritten does not help", edit(func(e map[string]any) {
			e["signatures"].([]any)[0].(map[string]any)["keyid"] = other.Fingerprint()
		}), []*PublicKey{other.Public()}, nil, ErrBadSignature},
		{"subject digest", good, keys, otherAnswers, ErrAnswersDigestMismatch},
		{"no signatures", edit(func(e map[string]any) { e["signatures"] = []any{} }), keys, nil, ErrNoSignatures},
		{"not json", []byte("{"), keys, nil, ErrMalformedEnvelope},
		{"bad base64", edit(func(e map[string]any) { e["payload"] = "!!!" }), keys, nil, ErrMalformedEnvelope},
		{"wrong statement type", resign(func(st map[string]any) { st["_type"] = "https://in-toto.io/Statement/v0.1" }), keys, nil, ErrWrongStatementType},
		{"wrong predicate type", resign(func(st map[string]any) { st["predicateType"] = "https://slsa.dev/provenance/v1" }), keys, nil, ErrWrongPredicateType},
		{"no subject", resign(func(st map[string]any) { st["subject"] = []any{} }), keys, nil, ErrMalformedStatement},
		{"md5 only subject", resign(func(st map[string]any) {
			st["subject"] = []any{map[string]any{"name": "a", "digest": map[string]any{"md5": "d41d8cd98f00b204e9800998ecf8427e"}}}
		}), keys, nil, ErrMalformedStatement},
		{"no keys", good, nil, nil, ErrNoKeys},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tc.env, tc.keys, VerifyOptions{At: at, Answers: tc.answers})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Verify(context.Background(), good, keys, VerifyOptions{At: at, Answers: answers}); err != nil {
		t.Fatalf("the untampered envelope fails: %v", err)
	}
}

func TestValidityBoundaries(t *testing.T) {
	k := operatorKey(t)
	from := t0.Add(48 * time.Hour)
	env := issue(t, k, "l3-hosted", IssueOptions{NotBefore: from, ValidFor: 30 * 24 * time.Hour})
	until := from.Add(30 * 24 * time.Hour)
	cases := []struct {
		at   time.Time
		want error
	}{
		{from.Add(-time.Second), ErrNotYetValid},
		{from, nil},
		{until.Add(-time.Second), nil},
		{until, ErrExpired},
		{until.Add(time.Hour), ErrExpired},
	}
	for _, tc := range cases {
		_, err := Verify(context.Background(), env, []*PublicKey{k.Public()}, VerifyOptions{At: tc.at})
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("at %s: err = %v, want %v", tc.at.Format(time.RFC3339), err, tc.want)
		}
	}
	if _, err := Verify(context.Background(), env, []*PublicKey{k.Public()}, VerifyOptions{}); err == nil {
		t.Error("verification without a time passed")
	}
}

func TestIssueRefusals(t *testing.T) {
	k := operatorKey(t)
	a := func(name string) (*questionnaire.Document, *assess.Assessment) {
		doc, _ := loadDoc(t, name)
		return doc, assess.Assess(doc, assess.Options{})
	}
	l3 := questionnaire.Level(3)
	cases := []struct {
		name    string
		sample  string
		o       IssueOptions
		want    error
		mention string
	}{
		{"claimed L3 not supported", "l3-fails-is2", IssueOptions{Now: t0}, ErrLevelNotSupported, "IS2"},
		{"explicit L3 above L2", "l2-reused-runners", IssueOptions{Now: t0, Level: &l3}, ErrLevelNotSupported, "IS3"},
		{"validity too long", "l3-hosted", IssueOptions{Now: t0, ValidFor: 367 * 24 * time.Hour}, ErrValidity, "366 days"},
		{"not-before in the past", "l3-hosted", IssueOptions{Now: t0, NotBefore: t0.Add(-time.Hour)}, ErrValidity, "before the issue time"},
		{"unknown builder", "l3-hosted", IssueOptions{Now: t0, BuilderID: "https://other.example/b"}, ErrNoBuilder, "not in profile.builders"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, as := a(tc.sample)
			_, _, err := NewStatement(doc, as, k.Fingerprint(), tc.o)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.mention)
			}
		})
	}
	// L2 below the supported level is allowed.
	doc, as := a("l3-hosted")
	l2 := questionnaire.Level(2)
	if _, p, err := NewStatement(doc, as, k.Fingerprint(), IssueOptions{Now: t0, Level: &l2}); err != nil || p.SLSABuildLevel != 2 {
		t.Fatalf("attesting L2 for an L3 platform: %v", err)
	}
	// Exactly 366 days is the maximum and allowed.
	if _, _, err := NewStatement(doc, as, k.Fingerprint(), IssueOptions{Now: t0, ValidFor: MaxValidity}); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenPredicate(t *testing.T) {
	k := operatorKey(t)
	doc, _ := loadDoc(t, "l3-hosted")
	st, _, err := NewStatement(doc, assess.Assess(doc, assess.Options{}), k.Fingerprint(), IssueOptions{
		AnswersName: "l3-hosted.json", Now: t0, ValidFor: 90 * 24 * time.Hour, AssessorID: "https://builds.example.com/security",
	})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := st.Marshal()
	var pretty bytes.Buffer
	json.Indent(&pretty, p, "", "  ")
	pretty.WriteByte('\n')
	golden.Check(t, "../testdata/attest/l3-hosted.statement.json", pretty.Bytes())
}

func TestEncryptedKeyRoundTrip(t *testing.T) {
	k, _ := GenerateKey(Ed25519, rand.Reader)
	pw := []byte("s3cret-pass")
	pemBytes, err := k.MarshalEncrypted(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pemBytes, []byte("ENCRYPTED SIGSTORE PRIVATE KEY")) {
		t.Fatalf("not the cosign format:\n%s", pemBytes)
	}
	k2, err := ParsePrivateKey(pemBytes, func(bool) ([]byte, error) { return pw, nil })
	if err != nil || k2.Fingerprint() != k.Fingerprint() {
		t.Fatalf("round trip: %v", err)
	}
	_, err = ParsePrivateKey(pemBytes, func(bool) ([]byte, error) { return []byte("wrong"), nil })
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") && strings.Contains(err.Error(), "s3cret") {
		t.Fatal("password in error")
	}
	if _, err := ParsePrivateKey(pemBytes, nil); !errors.Is(err, ErrPasswordRequired) {
		t.Fatalf("no password: %v", err)
	}
	if _, err := k.MarshalEncrypted(nil); !errors.Is(err, ErrEmptyPassword) {
		t.Fatalf("empty password: %v", err)
	}
	// Secrets never show up when a key is printed.
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
		if !strings.HasPrefix(s, "private key SHA256:") {
			t.Fatalf("key formatted as %q", s)
		}
	}
}

func TestKeyFileChecks(t *testing.T) {
	dir := t.TempDir()
	k, _ := GenerateKey(ECDSAP256, rand.Reader)
	enc, _ := k.MarshalEncrypted([]byte("pw"))
	pub, _ := k.Public().MarshalPEM()
	pass := func(bool) ([]byte, error) { return []byte("pw"), nil }

	p := filepath.Join(dir, "k.key")
	os.WriteFile(p, enc, 0o644)
	if _, err := LoadPrivateKeyFile(p, pass); !errors.Is(err, ErrKeyFilePermissions) {
		t.Fatalf("0644 key: %v", err)
	}
	os.Chmod(p, 0o640)
	if _, err := LoadPrivateKeyFile(p, pass); !errors.Is(err, ErrKeyFilePermissions) {
		t.Fatalf("0640 key: %v", err)
	}
	os.Chmod(p, 0o600)
	if _, err := LoadPrivateKeyFile(p, pass); err != nil {
		t.Fatalf("0600 key: %v", err)
	}
	pp := filepath.Join(dir, "k.pub")
	os.WriteFile(pp, pub, 0o644)
	if _, err := LoadPrivateKeyFile(pp, pass); !errors.Is(err, ErrPublicKeyGiven) {
		t.Fatalf("public key as private: %v", err)
	}
	if _, err := LoadPublicKeyFile(p); !errors.Is(err, ErrMalformedKey) {
		t.Fatalf("private key as public: %v", err)
	}
	if _, err := ParsePrivateKey([]byte("garbage"), pass); !errors.Is(err, ErrMalformedKey) {
		t.Fatalf("garbage: %v", err)
	}
}

func TestUnsupportedKeys(t *testing.T) {
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if _, err := newPrivateKey(p224); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("P-224: %v", err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := newPrivateKey(small); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("RSA-1024: %v", err)
	}
	if _, err := ParseAlgorithm("dsa"); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatal(err)
	}
}

func FuzzVerifyEnvelope(f *testing.F) {
	k := operatorKey(f)
	good := issue(f, k, "l3-hosted", IssueOptions{})
	f.Add(good)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	keys := []*PublicKey{k.Public()}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Verify(context.Background(), b, keys, VerifyOptions{At: t0.Add(time.Hour)})
		if err != nil {
			return
		}
		// Property: anything accepted was signed by the key over exactly
		// the payload that was then parsed.
		if v.Predicate == nil || v.Key != keys[0] {
			t.Fatal("accepted without a predicate or key")
		}
	})
}
