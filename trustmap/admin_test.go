package trustmap_test

// Trust administration that cannot be bypassed (issue 11): one test per
// class, each case with its own sentinel.

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

func readVerify(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(verifyDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exampleCertifiers(t testing.TB) *trustmap.Certifiers {
	t.Helper()
	c, err := trustmap.ParseCertifiers(readVerify(t, "certifiers.json"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// compileOne compiles one attestation and returns the rejection error (nil
// when accepted) and the roots.
func compileOne(t testing.TB, env []byte, opts trustmap.CompileOptions) (error, *trustmap.Roots) {
	t.Helper()
	if opts.At.IsZero() {
		opts.At = compiledAt
	}
	res, err := trustmap.Compile(context.Background(), exampleCertifiers(t), []trustmap.Attestation{{Name: "a", Envelope: env}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		if len(res.Roots.Entries) != 0 {
			t.Fatal("a rejected attestation became an entry")
		}
		return res.Rejected[0].Err, res.Roots
	}
	return nil, res.Roots
}

// envelopeVariants are re-encodings of one signed statement: each has other
// file bytes and the same payload.
func envelopeVariants(t testing.TB, env []byte) map[string][]byte {
	edit := func(f func(e map[string]any)) []byte {
		var e map[string]any
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatal(err)
		}
		f(e)
		b, _ := json.Marshal(e)
		return b
	}
	payload := func(e map[string]any) []byte {
		p, _ := base64.StdEncoding.DecodeString(e["payload"].(string))
		return p
	}
	pretty := func() []byte {
		var e map[string]any
		json.Unmarshal(env, &e)
		b, _ := json.MarshalIndent(e, "", "  ")
		return b
	}()
	return map[string][]byte{
		"trailing newline dropped": bytes.TrimRight(env, "\n"),
		"leading space":            append([]byte(" "), env...),
		"pretty-printed":           pretty,
		"URL-safe base64": edit(func(e map[string]any) {
			e["payload"] = base64.RawURLEncoding.EncodeToString(payload(e))
		}),
		"extra junk signature": edit(func(e map[string]any) {
			e["signatures"] = append(e["signatures"].([]any), map[string]any{"keyid": "junk", "sig": base64.StdEncoding.EncodeToString([]byte("junk"))})
		}),
		"changed keyid": edit(func(e map[string]any) {
			e["signatures"].([]any)[0].(map[string]any)["keyid"] = "another-keyid"
		}),
		"the fixture's re-encoding": readVerify(t, "admin/hosted-vm.reencoded.capability.json"),
	}
}

// Class 1: a revocation names the attestation (sha256 of the DSSE payload),
// so no re-encoding of the envelope escapes it.
func TestRevocationSurvivesReencoding(t *testing.T) {
	ctx := context.Background()
	hosted := readVerify(t, "hosted-vm.capability.json")
	operator := keyFile(t, "operator.key", "operator-test-password").Public()
	v, err := attest.Verify(ctx, hosted, []*attest.PublicKey{operator}, attest.VerifyOptions{At: compiledAt})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := trustmap.ParseRevocations(readVerify(t, "admin/revoked.json"))
	if err != nil {
		t.Fatal(err)
	}
	if revoked.Revoked[0].AttestationDigest != v.PayloadDigest {
		t.Fatal("the example revocation does not name the payload digest")
	}
	for name, env := range envelopeVariants(t, hosted) {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(env, hosted) {
				t.Fatal("not a re-encoding")
			}
			// Without the revocation it is accepted, with the same identity.
			err, roots := compileOne(t, env, trustmap.CompileOptions{})
			if err != nil {
				t.Fatalf("re-encoded attestation refused: %v", err)
			}
			if roots.Entries[0].AttestationDigest != v.PayloadDigest {
				t.Fatalf("identity %s, want the payload digest %s", roots.Entries[0].AttestationDigest, v.PayloadDigest)
			}
			if err, _ := compileOne(t, env, trustmap.CompileOptions{Revoked: revoked}); !errors.Is(err, trustmap.ErrRevoked) {
				t.Fatalf("re-encoded revoked attestation: err = %v, want ErrRevoked", err)
			}
		})
	}
	// A revocation written against the old file digest stays honoured for
	// those bytes.
	legacy := &trustmap.Revocations{Revoked: []trustmap.Revocation{{AttestationDigest: v.EnvelopeDigest, Reason: "old style"}}}
	if err, _ := compileOne(t, hosted, trustmap.CompileOptions{Revoked: legacy}); !errors.Is(err, trustmap.ErrRevoked) {
		t.Fatalf("file-digest revocation: err = %v, want ErrRevoked", err)
	}
	// A digest that is not 64 lowercase hex digits revokes nothing: refused.
	for _, d := range []string{strings.ToUpper(v.PayloadDigest), "sha256:" + v.PayloadDigest, v.PayloadDigest[:10]} {
		doc := `{"schema":"https://hallmark.build/revocations/v1","revoked":[{"attestationDigest":"` + d + `","reason":"x"}]}`
		if _, err := trustmap.ParseRevocations([]byte(doc)); !errors.Is(err, trustmap.ErrMalformedRevocations) {
			t.Errorf("digest %q: err = %v, want ErrMalformedRevocations", d, err)
		}
	}
}

// Class 2: a pattern attestation cannot grant a denied builder.id, keep a
// level above a cap, or survive a revocation of a builder.id it matches.
func TestPatternCannotEscapeDenyCapRevocation(t *testing.T) {
	pattern := readVerify(t, "admin/hosted-vm-pattern.capability.json")
	err, roots := compileOne(t, pattern, trustmap.CompileOptions{})
	if err != nil || roots.Entries[0].BuilderIDRegexp != hostedPattern || roots.Entries[0].SLSABuildLevel != 3 {
		t.Fatalf("pattern attestation: %v %+v", err, roots)
	}
	if err, _ := compileOne(t, pattern, trustmap.CompileOptions{Deny: map[string]bool{hostedBuilder: true}}); !errors.Is(err, trustmap.ErrDenied) {
		t.Errorf("deny of a matched builder.id: err = %v, want ErrDenied", err)
	}
	if err, _ := compileOne(t, pattern, trustmap.CompileOptions{Deny: map[string]bool{hostedPattern: true}}); !errors.Is(err, trustmap.ErrDenied) {
		t.Errorf("deny of the pattern itself: err = %v, want ErrDenied", err)
	}
	if err, _ := compileOne(t, pattern, trustmap.CompileOptions{Deny: map[string]bool{reusedBuilder: true}}); err != nil {
		t.Errorf("deny of a builder.id the pattern does not match: %v", err)
	}
	err, roots = compileOne(t, pattern, trustmap.CompileOptions{Caps: map[string]questionnaire.Level{hostedBuilder: 1}})
	if err != nil || roots.Entries[0].SLSABuildLevel != 1 {
		t.Fatalf("cap on a matched builder.id: %v, level %v, want 1", err, roots.Entries[0].SLSABuildLevel)
	}
	// The capped level is what a lookup of the concrete builder.id finds.
	signer := trustmap.Signer{KeyFingerprint: roots.Entries[0].Signer.KeyFingerprint}
	if r, err := roots.Lookup(signer, hostedBuilder, verifyAt.Add(-time.Hour), verifyAt, true); err != nil || r.Level != 1 {
		t.Fatalf("lookup under the cap: %v level %v", err, r.Level)
	}
	superseded, err := trustmap.ParseRevocations(readVerify(t, "admin/superseded.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err, _ := compileOne(t, pattern, trustmap.CompileOptions{Revoked: superseded}); !errors.Is(err, trustmap.ErrRevoked) {
		t.Errorf("revocation by a matched builder.id: err = %v, want ErrRevoked", err)
	}
}

// Class 3: a pattern is anchored on its parsed expression; text that would
// break out of `^(?:…)$` is refused wherever patterns are accepted.
func TestPatternAnchoring(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		match      bool
	}{
		{hostedPattern, hostedBuilder, true},
		{hostedPattern, hostedBuilder + ".attacker", false},
		{hostedPattern, "x" + hostedBuilder, false},
		{`a|b`, "a", true},
		{`a|b`, "ab", false},
		{`(?m)a$`, "a\nb", false},
		{`https://ci\.example/.*`, "https://ci.example/x", true},
	} {
		re, err := questionnaire.CompileAnchored(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := re.MatchString(tc.s); got != tc.match {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.s, got, tc.match)
		}
	}
	breakouts := []string{`https://builds\.example\.com/builders/hosted-vm@v1)|(.*`, `a)|(b`, `a)(`, `)`, `(`, `\`, ``, `\Qa)|(b`}
	for _, p := range breakouts {
		if p == `\Qa)|(b` {
			// \Q quotes to the end: one expression, the literal text.
			re, err := questionnaire.CompileAnchored(p)
			if err != nil || re.MatchString("b") || !re.MatchString("a)|(b") {
				t.Errorf("%q: %v", p, err)
			}
			continue
		}
		if _, err := questionnaire.CompileAnchored(p); !errors.Is(err, questionnaire.ErrBadPattern) {
			t.Errorf("CompileAnchored(%q): err = %v, want ErrBadPattern", p, err)
		}
	}
	bad := `https://builds\.example\.com/builders/hosted-vm@v1)|(.*`
	// Answers (profile builders and signers).
	if err := (questionnaire.Builder{IDRegexp: bad}).Validate(); !errors.Is(err, questionnaire.ErrBadPattern) {
		t.Errorf("answers idRegexp: %v", err)
	}
	if err := (questionnaire.Signer{OIDCIssuer: "https://token.example", SANRegexp: "a)|(b"}).Validate(); !errors.Is(err, questionnaire.ErrBadPattern) {
		t.Errorf("answers sanRegexp: %v", err)
	}
	// Predicates.
	hosted := readVerify(t, "hosted-vm.capability.json")
	operator := keyFile(t, "operator.key", "operator-test-password")
	env := resignCapability(t, hosted, operator, func(p map[string]any) {
		b := p["builder"].(map[string]any)
		delete(b, "id")
		b["idRegexp"] = bad
	})
	if _, err := attest.Verify(context.Background(), env, []*attest.PublicKey{operator.Public()}, attest.VerifyOptions{At: compiledAt}); !errors.Is(err, questionnaire.ErrBadPattern) {
		t.Errorf("predicate idRegexp: %v", err)
	}
	// Roots entries.
	e := loadRoots(t).Entries[0]
	e.BuilderID, e.BuilderIDRegexp = "", bad
	if _, err := trustmap.NewRoots(compiledAt, []trustmap.Entry{e}); !errors.Is(err, questionnaire.ErrBadPattern) || !errors.Is(err, trustmap.ErrInvalidRootsEntry) {
		t.Errorf("roots builderIdRegexp: %v", err)
	}
	e = loadRoots(t).Entries[0]
	e.Signer = trustmap.Signer{OIDCIssuer: "https://token.example", SANRegexp: "a)|(b"}
	if _, err := trustmap.NewRoots(compiledAt, []trustmap.Entry{e}); !errors.Is(err, questionnaire.ErrBadPattern) {
		t.Errorf("roots sanRegexp: %v", err)
	}
}

// resignCapability edits the predicate of a capability attestation and signs
// the result with key.
func resignCapability(t testing.TB, env []byte, key *attest.PrivateKey, f func(p map[string]any)) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(e["payload"].(string))
	var st map[string]any
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	f(st["predicate"].(map[string]any))
	b, _ := json.Marshal(st)
	return sign(t, key, attest.PayloadType, b)
}

// Class 4: thresholds count distinct keys that signed; a key given twice is
// reported, also when its PEM is wrapped differently.
func TestThresholdCountsDistinctSigners(t *testing.T) {
	ctx := context.Background()
	operator := keyFile(t, "operator.key", "operator-test-password")
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	op := operator.Public()
	// The same operator key, from a PEM with other line breaks and headers.
	opPEM, _ := op.MarshalPEM()
	blk, _ := pem.Decode(opPEM)
	der := base64.StdEncoding.EncodeToString(blk.Bytes)
	rewrapped := "-----BEGIN PUBLIC KEY-----\n" + der[:20] + "\n" + der[20:] + "\n-----END PUBLIC KEY-----\n"
	op2, err := attest.ParsePublicKey([]byte(rewrapped))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKIXPublicKey(blk.Bytes); err != nil {
		t.Fatal(err)
	}
	oneSigner, err := trustmap.SignPolicy(ctx, readVerify(t, "policy.v2.json"), []*attest.PrivateKey{operator}, compiledAt)
	if err != nil {
		t.Fatal(err)
	}
	at := trustmap.LoadOptions{At: verifyAt}
	for name, keys := range map[string][]*attest.PublicKey{
		"same key twice":          {op, op},
		"same key, rewrapped PEM": {op, op2},
		"same key among others":   {auditor.Public(), op, op2},
	} {
		if _, err := trustmap.LoadPolicy(ctx, oneSigner, keys, 2, at); !errors.Is(err, trustmap.ErrDuplicateKey) {
			t.Errorf("policy, %s: err = %v, want ErrDuplicateKey", name, err)
		}
		if _, err := trustmap.LoadRoots(ctx, readVerify(t, "roots.signed.json"), keys, at); !errors.Is(err, trustmap.ErrDuplicateKey) {
			t.Errorf("roots, %s: err = %v, want ErrDuplicateKey", name, err)
		}
		if _, err := trustmap.VerifyApproval(ctx, readVerify(t, "admin/approval.signed.json"), keys, 2, approvalAt); !errors.Is(err, trustmap.ErrDuplicateKey) {
			t.Errorf("approval, %s: err = %v, want ErrDuplicateKey", name, err)
		}
	}
	// One key's signature given twice counts once.
	doubled := editEnvelope(t, oneSigner, func(e map[string]any) {
		s := e["signatures"].([]any)
		e["signatures"] = append(s, s[0])
	})
	if _, err := trustmap.LoadPolicy(ctx, doubled, []*attest.PublicKey{op, auditor.Public()}, 2, at); !errors.Is(err, trustmap.ErrThresholdNotMet) || !errors.Is(err, trustmap.ErrPolicyUnsigned) {
		t.Errorf("one signature twice: err = %v, want ErrThresholdNotMet", err)
	}
	// Two distinct signers pass.
	if _, err := trustmap.LoadPolicy(ctx, readVerify(t, "policy.signed.json"), []*attest.PublicKey{op, auditor.Public()}, 2, at); err != nil {
		t.Errorf("two signers: %v", err)
	}
}

// Class 5: co-signing adds a signature to an existing envelope, on another
// machine, without changing the payload.
func TestCoSignPolicy(t *testing.T) {
	ctx := context.Background()
	alice := keyFile(t, "operator.key", "operator-test-password")
	bob := keyFile(t, "auditor.key", "auditor-test-password")
	plain := readVerify(t, "policy.v2.json")
	byAlice, err := trustmap.SignPolicy(ctx, plain, []*attest.PrivateKey{alice}, compiledAt)
	if err != nil {
		t.Fatal(err)
	}
	byBoth, err := trustmap.SignPolicy(ctx, byAlice, []*attest.PrivateKey{bob}, compiledAt)
	if err != nil {
		t.Fatalf("co-signing a signed policy: %v", err)
	}
	env, _ := attest.ParseEnvelope(byBoth)
	payload, _ := attest.DecodePayload(env)
	if !bytes.Equal(payload, plain) || len(env.Signatures) != 2 {
		t.Fatalf("co-signed: %d signatures, payload changed: %v", len(env.Signatures), !bytes.Equal(payload, plain))
	}
	if _, err := trustmap.LoadPolicy(ctx, byBoth, []*attest.PublicKey{alice.Public(), bob.Public()}, 2, trustmap.LoadOptions{At: verifyAt}); err != nil {
		t.Fatalf("two of two after co-signing: %v", err)
	}
	if _, err := trustmap.SignPolicy(ctx, byBoth, []*attest.PrivateKey{alice}, compiledAt); !errors.Is(err, trustmap.ErrDuplicateKey) {
		t.Errorf("signing twice: err = %v, want ErrDuplicateKey", err)
	}
	// An envelope of something else is not co-signed as a policy.
	if _, err := trustmap.SignPolicy(ctx, readVerify(t, "roots.signed.json"), []*attest.PrivateKey{bob}, compiledAt); !errors.Is(err, attest.ErrWrongPayloadType) {
		t.Errorf("roots envelope: err = %v, want ErrWrongPayloadType", err)
	}
	// A policy without serial and expiry cannot be signed: it could be
	// replayed.
	if _, err := trustmap.SignPolicy(ctx, readVerify(t, "policy.json"), []*attest.PrivateKey{alice}, compiledAt); !errors.Is(err, trustmap.ErrNoSerial) {
		t.Errorf("v1 policy: err = %v, want ErrNoSerial", err)
	}
}

// Class 6: every attestation is validated on its own: a bad one is rejected
// with its reason and the others are still compiled.
func TestCompileRejectsBadAttestationsAlone(t *testing.T) {
	ctx := context.Background()
	hosted := readVerify(t, "hosted-vm.capability.json")
	operator := keyFile(t, "operator.key", "operator-test-password")
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	signer := func(p map[string]any) map[string]any {
		return p["builder"].(map[string]any)["signers"].([]any)[0].(map[string]any)
	}
	review := strings.Repeat("cd", 32)
	cases := []struct {
		name string
		key  *attest.PrivateKey
		edit func(p map[string]any)
		want error
	}{
		{"empty signer", operator, func(p map[string]any) { p["builder"].(map[string]any)["signers"] = []any{map[string]any{}} }, trustmap.ErrInvalidAttestation},
		{"OIDC signer without SAN", operator, func(p map[string]any) {
			p["builder"].(map[string]any)["signers"] = []any{map[string]any{"oidcIssuer": "https://token.actions.githubusercontent.com"}}
		}, trustmap.ErrInvalidAttestation},
		{"bad issuer URL", operator, func(p map[string]any) {
			p["builder"].(map[string]any)["signers"] = []any{map[string]any{"oidcIssuer": "http://not-https.example", "san": "x"}}
		}, trustmap.ErrInvalidAttestation},
		{"builder.id not a URI", operator, func(p map[string]any) { p["builder"].(map[string]any)["id"] = "hosted-vm" }, trustmap.ErrInvalidAttestation},
		{"no signers", operator, func(p map[string]any) { p["builder"].(map[string]any)["signers"] = []any{} }, trustmap.ErrInvalidAttestation},
		{"fingerprint of another key", operator, func(p map[string]any) { signer(p)["keyFingerprint"] = "SHA256:AAAA" }, trustmap.ErrInvalidAttestation},
		{"issuedAt after validUntil", operator, func(p map[string]any) { p["issuedAt"] = "2028-01-01T00:00:00Z" }, trustmap.ErrInvalidAttestation},
		{"kind Self", operator, func(p map[string]any) { p["assessment"].(map[string]any)["kind"] = "Self" }, trustmap.ErrAssessmentKind},
		{"kind empty", operator, func(p map[string]any) { p["assessment"].(map[string]any)["kind"] = "" }, trustmap.ErrAssessmentKind},
		{"third-party without review digest", auditor, func(p map[string]any) { p["assessment"].(map[string]any)["kind"] = "third-party" }, trustmap.ErrAssessmentKind},
		{"third-party signed by a self-attesting certifier", operator, func(p map[string]any) {
			a := p["assessment"].(map[string]any)
			a["kind"], a["reviewDigest"] = "third-party", review
		}, trustmap.ErrThirdPartySelfSigned},
	}
	atts := []trustmap.Attestation{{Name: "good", Envelope: hosted}}
	for _, tc := range cases {
		atts = append(atts, trustmap.Attestation{Name: tc.name, Envelope: resignCapability(t, hosted, tc.key, tc.edit)})
	}
	res, err := trustmap.Compile(ctx, exampleCertifiers(t), atts, trustmap.CompileOptions{At: compiledAt})
	if err != nil {
		t.Fatalf("one bad attestation aborted the compile: %v", err)
	}
	if len(res.Accepted) != 1 || res.Accepted[0].Name != "good" || len(res.Roots.Entries) != 1 {
		t.Fatalf("accepted %+v, %d entries", res.Accepted, len(res.Roots.Entries))
	}
	got := map[string]error{}
	for _, r := range res.Rejected {
		got[r.Name] = r.Err
	}
	for _, tc := range cases {
		if !errors.Is(got[tc.name], tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, got[tc.name], tc.want)
		}
	}
	// The auditor's third-party attestation with a review digest is fine.
	ok := resignCapability(t, hosted, auditor, func(p map[string]any) {
		a := p["assessment"].(map[string]any)
		a["kind"], a["reviewDigest"] = "third-party", review
	})
	if err, _ := compileOne(t, ok, trustmap.CompileOptions{}); err != nil {
		t.Errorf("third-party by the auditor: %v", err)
	}
}

// Class 7: signed roots and policies carry a serial and an expiry; older or
// expired ones are refused, and signed documents without a serial too.
func TestSignedDocumentsCannotBeRolledBack(t *testing.T) {
	ctx := context.Background()
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	operator := keyFile(t, "operator.key", "operator-test-password")
	rootsKey := []*attest.PublicKey{auditor.Public()}
	signed := readVerify(t, "roots.signed.json")
	r, err := trustmap.LoadRoots(ctx, signed, rootsKey, trustmap.LoadOptions{At: verifyAt, MinSerial: 1})
	if err != nil || r.Serial != 1 || r.Expires.IsZero() {
		t.Fatalf("signed roots: %v", err)
	}
	newer := compileExample(t, 2)
	newerSigned, err := newer.Sign(ctx, auditor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trustmap.LoadRoots(ctx, newerSigned, rootsKey, trustmap.LoadOptions{At: verifyAt, MinSerial: 2}); err != nil {
		t.Fatalf("newer roots: %v", err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		opts trustmap.LoadOptions
		want error
	}{
		"older serial":         {signed, trustmap.LoadOptions{At: verifyAt, MinSerial: 2}, trustmap.ErrRootsRollback},
		"expired":              {signed, trustmap.LoadOptions{At: r.Expires}, trustmap.ErrRootsExpired},
		"signed v1, no serial": {readVerify(t, "legacy/roots.v1.signed.json"), trustmap.LoadOptions{At: verifyAt}, trustmap.ErrNoSerial},
	} {
		if _, err := trustmap.LoadRoots(ctx, tc.b, rootsKey, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("roots, %s: err = %v, want %v", name, err, tc.want)
		}
	}
	// Old unsigned maps are still read.
	if _, err := trustmap.LoadRoots(ctx, readVerify(t, "legacy/roots.v1.json"), nil, trustmap.LoadOptions{At: verifyAt}); err != nil {
		t.Errorf("unsigned v1 roots: %v", err)
	}
	// An unsigned roots map can carry neither in v1, and needs both in v2.
	for _, doc := range []string{
		`{"schema":"https://hallmark.build/roots/v1","serial":3,"compiledAt":"2026-11-15T00:00:00Z","entries":[]}`,
		`{"schema":"https://hallmark.build/roots/v2","compiledAt":"2026-11-15T00:00:00Z","entries":[]}`,
	} {
		if _, err := trustmap.ParseRoots([]byte(doc)); !errors.Is(err, trustmap.ErrMalformedRoots) {
			t.Errorf("%s: err = %v", doc, err)
		}
	}
	// A map valid longer than compile ever writes is refused when read, so
	// a signer's mistake cannot outlive the revocations compiled after it.
	long := compileExample(t, 7)
	long.Expires = long.CompiledAt.Add(trustmap.MaxRootsValidity + time.Hour)
	longSigned, err := long.Sign(ctx, auditor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trustmap.LoadRoots(ctx, longSigned, rootsKey, trustmap.LoadOptions{At: verifyAt}); !errors.Is(err, trustmap.ErrMalformedRoots) || !strings.Contains(err.Error(), "expected expires at most") {
		t.Errorf("roots valid beyond the maximum: err = %v, want ErrMalformedRoots", err)
	}
	// Compile refuses a validity beyond the maximum.
	if _, err := trustmap.Compile(ctx, exampleCertifiers(t), nil, trustmap.CompileOptions{At: compiledAt, ValidFor: trustmap.MaxRootsValidity + time.Hour}); err == nil {
		t.Error("validity beyond the maximum accepted")
	}

	// Policies.
	keys := []*attest.PublicKey{operator.Public(), auditor.Public()}
	policy := readVerify(t, "policy.signed.json")
	if _, err := trustmap.LoadPolicy(ctx, policy, keys, 2, trustmap.LoadOptions{At: verifyAt, MinSerial: 1}); err != nil {
		t.Fatalf("signed policy: %v", err)
	}
	newerPolicy, err := trustmap.SignPolicy(ctx, v2Policy(t, 5), []*attest.PrivateKey{operator, auditor}, compiledAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trustmap.LoadPolicy(ctx, newerPolicy, keys, 2, trustmap.LoadOptions{At: verifyAt, MinSerial: 5}); err != nil {
		t.Fatalf("newer policy: %v", err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		opts trustmap.LoadOptions
		want error
	}{
		"older serial":         {policy, trustmap.LoadOptions{At: verifyAt, MinSerial: 5}, trustmap.ErrPolicyRollback},
		"expired":              {policy, trustmap.LoadOptions{At: policyExpires}, trustmap.ErrPolicyExpired},
		"signed v1, no serial": {readVerify(t, "legacy/policy.v1.signed.json"), trustmap.LoadOptions{At: verifyAt}, trustmap.ErrNoSerial},
	} {
		if _, err := trustmap.LoadPolicy(ctx, tc.b, keys, 2, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("policy, %s: err = %v, want %v", name, err, tc.want)
		}
	}
	if _, err := trustmap.LoadPolicy(ctx, readVerify(t, "policy.json"), nil, 0, trustmap.LoadOptions{At: verifyAt}); err != nil {
		t.Errorf("unsigned v1 policy: %v", err)
	}
	// A signed policy valid longer than sign-policy ever signs (signed by
	// other tooling) is refused when loaded.
	var lp map[string]any
	json.Unmarshal(v2Policy(t, 9), &lp)
	lp["expires"] = verifyAt.Add(trustmap.MaxPolicyValidity + time.Hour).Format(time.RFC3339)
	lb, _ := json.Marshal(lp)
	lenv, err := attest.Sign(ctx, trustmap.PolicyPayloadType, lb, operator)
	if err != nil {
		t.Fatal(err)
	}
	longPolicy, _ := attest.MarshalEnvelope(lenv)
	if _, err := trustmap.LoadPolicy(ctx, longPolicy, []*attest.PublicKey{operator.Public()}, 1, trustmap.LoadOptions{At: verifyAt}); !errors.Is(err, trustmap.ErrMalformedPolicy) || !strings.Contains(err.Error(), "expected expires at most") {
		t.Errorf("policy valid beyond the maximum: err = %v, want ErrMalformedPolicy", err)
	}
}

// Class 8 (approvals): the approver is who signed, N of M; an unsigned,
// under-signed, expired or replayed approval changes nothing.
func TestSignedApproval(t *testing.T) {
	ctx := context.Background()
	operator := keyFile(t, "operator.key", "operator-test-password")
	auditor := keyFile(t, "auditor.key", "auditor-test-password")
	rogue := keyFile(t, "rogue.key", "")
	both := []*attest.PublicKey{operator.Public(), auditor.Public()}
	signed := readVerify(t, "admin/approval.signed.json")
	va, err := trustmap.VerifyApproval(ctx, signed, both, 2, approvalAt)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(va.Record.Signers, ",") != strings.Join([]string{auditor.Fingerprint(), operator.Fingerprint()}, ",") &&
		strings.Join(va.Record.Signers, ",") != strings.Join([]string{operator.Fingerprint(), auditor.Fingerprint()}, ",") {
		t.Fatalf("signers %v", va.Record.Signers)
	}
	first := &trustmap.TOFUEntry{BuilderID: hostedBuilder, FirstSeen: verifyAt}
	next, err := va.Apply("app", first)
	if err != nil || next.Approval == nil || next.Approval.Digest == "" {
		t.Fatalf("apply: %v", err)
	}
	byOne, _ := trustmap.SignApproval(ctx, readVerify(t, "admin/approval.json"), []*attest.PrivateKey{operator}, approvalAt)
	for name, tc := range map[string]struct {
		b         []byte
		keys      []*attest.PublicKey
		threshold int
		at        time.Time
		want      error
	}{
		"unsigned":             {readVerify(t, "admin/approval.json"), both, 1, approvalAt, trustmap.ErrApprovalUnsigned},
		"signed by a stranger": {signed, []*attest.PublicKey{rogue.Public()}, 1, approvalAt, trustmap.ErrApprovalUnsigned},
		"one of two required":  {byOne, both, 2, approvalAt, trustmap.ErrApprovalUnsigned},
		"expired":              {signed, both, 2, approvalAt.Add(trustmap.DefaultApprovalValidity), trustmap.ErrApprovalStale},
		"no approvers":         {signed, nil, 1, approvalAt, trustmap.ErrApprovalUnsigned},
	} {
		if _, err := trustmap.VerifyApproval(ctx, tc.b, tc.keys, tc.threshold, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	// Replay: once applied, the same (or an older) approval is refused.
	if _, err := va.Apply("app", next); !errors.Is(err, trustmap.ErrApprovalStale) {
		t.Errorf("replayed approval: err = %v, want ErrApprovalStale", err)
	}
	later := *first
	later.FirstSeen = approvalAt.Add(time.Minute)
	if _, err := va.Apply("app", &later); !errors.Is(err, trustmap.ErrApprovalStale) {
		t.Errorf("approval older than the pin: err = %v, want ErrApprovalStale", err)
	}
	if _, err := va.Apply("other", first); !errors.Is(err, trustmap.ErrApprovalMismatch) {
		t.Errorf("approval for another package: err = %v, want ErrApprovalMismatch", err)
	}
	// v1 stores (free-text approvedBy) are still read.
	v1 := `{"schema":"https://hallmark.build/tofu/v1","packages":{"app":{"builderId":"` + hostedBuilder + `","buildType":"b","parameters":{},"firstSeen":"2026-12-01T00:00:00Z","approvedBy":"alice@example.com"}}}`
	if s, err := trustmap.ParseTOFU([]byte(v1)); err != nil || s.Packages["app"].ApprovedBy != "alice@example.com" {
		t.Errorf("v1 store: %v", err)
	}
}

// Class 9: every roots entry is validated when loaded; an entry that could
// never match is refused with its index, not kept inert.
func TestRootsEntriesValidated(t *testing.T) {
	good := loadRoots(t).Entries
	for name, edit := range map[string]func(e *trustmap.Entry){
		"publicKey without keyFingerprint": func(e *trustmap.Entry) { e.Signer.KeyFingerprint = "" },
		"keyFingerprint without publicKey": func(e *trustmap.Entry) { e.Signer.PublicKey = "" },
		"fingerprint of another key":       func(e *trustmap.Entry) { e.Signer.KeyFingerprint = good[0].Signer.KeyFingerprint },
		"key and Sigstore identity":        func(e *trustmap.Entry) { e.Signer.OIDCIssuer, e.Signer.SAN = "https://token.example", "x" },
		"no signer":                        func(e *trustmap.Entry) { e.Signer = trustmap.Signer{} },
		"SAN without issuer":               func(e *trustmap.Entry) { e.Signer = trustmap.Signer{SAN: "x"} },
		"no builder":                       func(e *trustmap.Entry) { e.BuilderID = "" },
		"builder.id not a URI":             func(e *trustmap.Entry) { e.BuilderID = "hosted" },
		"requireTimestamp on a Sigstore identity": func(e *trustmap.Entry) {
			e.Signer = trustmap.Signer{OIDCIssuer: "https://token.example", SAN: "x", RequireTimestamp: true}
		},
	} {
		entries := append([]trustmap.Entry{}, good...)
		edit(&entries[1])
		doc, _ := json.Marshal(map[string]any{"schema": trustmap.RootsSchemaV1, "compiledAt": compiledAt, "entries": entries})
		_, err := trustmap.ParseRoots(doc)
		if !errors.Is(err, trustmap.ErrInvalidRootsEntry) || !errors.Is(err, trustmap.ErrMalformedRoots) || !strings.Contains(err.Error(), "entries[1]") {
			t.Errorf("%s: err = %v, want ErrInvalidRootsEntry naming entries[1]", name, err)
		}
	}
}

// Class 7 (state): the serial state remembers the highest serial per kind
// and signing keys, never lowers it, and records nothing for unsigned
// documents.
func TestSerialState(t *testing.T) {
	op := keyFile(t, "operator.key", "operator-test-password").Public()
	au := keyFile(t, "auditor.key", "auditor-test-password").Public()
	st := trustmap.NewSerialState()
	if changed, err := st.Accept(trustmap.SerialRoots, []*attest.PublicKey{au}, 3); err != nil || !changed {
		t.Fatal(err)
	}
	if changed, _ := st.Accept(trustmap.SerialRoots, []*attest.PublicKey{au}, 2); changed || st.Min(trustmap.SerialRoots, []*attest.PublicKey{au}) != 3 {
		t.Fatal("serial lowered")
	}
	if st.Min(trustmap.SerialPolicy, []*attest.PublicKey{au}) != 0 || st.Min(trustmap.SerialRoots, []*attest.PublicKey{op}) != 0 {
		t.Fatal("serial shared across kinds or keys")
	}
	st.Accept(trustmap.SerialPolicy, []*attest.PublicKey{op, au}, 4)
	if st.Min(trustmap.SerialPolicy, []*attest.PublicKey{au, op}) != 4 {
		t.Fatal("key order matters")
	}
	if _, err := st.Accept(trustmap.SerialRoots, nil, 9); err == nil {
		t.Fatal("unsigned serial recorded")
	}
	// Adding a key (rotation from the auditor's key to both) does not
	// reopen the window for maps the auditor signed before.
	if got := st.Min(trustmap.SerialRoots, []*attest.PublicKey{op, au}); got != 3 {
		t.Fatalf("roots checked against a set with the auditor's key: min %d, want 3", got)
	}
	b, _ := st.Marshal()
	back, err := trustmap.ParseSerialState(b)
	if err != nil || back.Min(trustmap.SerialRoots, []*attest.PublicKey{au}) != 3 {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := trustmap.ParseSerialState([]byte(`{"schema":"https://hallmark.build/trust-state/v1","serials":{"a":1,"a":2}}`)); !errors.Is(err, trustmap.ErrMalformedSerialState) {
		t.Fatalf("duplicate name: %v", err)
	}
}
