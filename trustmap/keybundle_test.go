package trustmap_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/hallmark-build/hallmark/trustmap"
)

// privateTSA is a timestamp authority of our own and the trusted root that
// names it.
type privateTSA struct {
	leaf  *x509.Certificate
	key   crypto.Signer
	trust *trustmap.SigstoreTrust
}

func newPrivateTSA(t *testing.T) *privateTSA {
	t.Helper()
	notBefore, notAfter := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test TSA root", Organization: []string{"hallmark tests"}},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}}) // id-kp-timeStamping
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "test TSA", Organization: []string{"hallmark tests"}},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	tr, _ := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
		"tlogs":     []any{}, "certificateAuthorities": []any{}, "ctlogs": []any{},
		"timestampAuthorities": []any{map[string]any{
			"subject":   map[string]any{"organization": "hallmark tests", "commonName": "test TSA"},
			"certChain": map[string]any{"certificates": []any{map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(leafDER)}, map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(rootDER)}}},
			"validFor":  map[string]any{"start": notBefore.Format(time.RFC3339)},
		}},
	})
	trust, err := trustmap.ParseTrustedRoot(tr)
	if err != nil {
		t.Fatal(err)
	}
	return &privateTSA{leaf: leaf, key: leafKey, trust: trust}
}

// stamp returns an RFC 3161 response over the signature bytes at time at.
func (p *privateTSA) stamp(t *testing.T, sig []byte, at time.Time) []byte {
	t.Helper()
	h := sha256.Sum256(sig)
	ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: h[:], Time: at, Policy: asn1.ObjectIdentifier{1, 2, 3, 4, 1}, SerialNumber: big.NewInt(7), AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(p.leaf, p.key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// keyBundle wraps a DSSE envelope into a key-signed Sigstore bundle v0.3, as
// cosign v3 writes it, with the timestamps given.
func keyBundle(t *testing.T, env []byte, stamps ...[]byte) []byte {
	t.Helper()
	var ts []any
	for _, s := range stamps {
		ts = append(ts, map[string]any{"signedTimestamp": base64.StdEncoding.EncodeToString(s)})
	}
	vm := map[string]any{"publicKey": map[string]any{"hint": "test-hint"}}
	if ts != nil {
		vm["timestampVerificationData"] = map[string]any{"rfc3161Timestamps": ts}
	}
	b, err := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": vm, "dsseEnvelope": json.RawMessage(env),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeySignedBundleTimestamp: a key-signed bundle with a signed timestamp
// from a timestamp authority of the trusted root passes a roots entry that
// requires one, with the verified time; without the timestamp, or with a
// timestamp over another signature, it does not.
func TestKeySignedBundleTimestamp(t *testing.T) {
	ctx := context.Background()
	tsa := newPrivateTSA(t)
	signer := keyFile(t, "provenance-signer.key", "")
	art := trustmap.BytesArtifact("app", []byte(artifactData))
	digest, _ := art.Digest("sha256")
	env := signStatement(t, signer, provenance(digest))
	var e struct {
		Signatures []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	at := time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC)

	roots := loadRoots(t)
	var entries []trustmap.Entry
	for _, en := range roots.Entries {
		if en.Signer.KeyFingerprint != "" {
			en.Signer.RequireTimestamp = true
		}
		entries = append(entries, en)
	}
	strict, err := trustmap.NewRoots(roots.CompiledAt, entries)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := os.ReadFile(filepath.Join(verifyDir, "policy.json"))
	policy, err := trustmap.LoadPolicy(ctx, pb, nil, 0, trustmap.LoadOptions{At: verifyAt})
	if err != nil {
		t.Fatal(err)
	}
	o := trustmap.VerifyOptions{At: verifyAt, Sigstore: tsa.trust, Policy: policy, Package: "example-app"}
	verify := func(doc []byte) (*trustmap.Result, error) {
		return trustmap.Verify(ctx, strict, doc, []*trustmap.Artifact{art}, o)
	}

	res, err := verify(keyBundle(t, env, tsa.stamp(t, sig, at)))
	if err != nil || !res.Passed {
		t.Fatalf("timestamped key-signed bundle: %v", err)
	}
	if found := res.Documents[0].Checks[0].Found; !strings.Contains(found, "signed 2026-11-20T10:05:00Z") {
		t.Fatalf("signature check %q does not give the verified time", found)
	}
	if _, err := verify(keyBundle(t, env)); !errors.Is(err, trustmap.ErrNoVerifiedTimestamp) {
		t.Fatalf("no timestamp: got %v, want ErrNoVerifiedTimestamp", err)
	}
	if _, err := verify(env); !errors.Is(err, trustmap.ErrNoVerifiedTimestamp) {
		t.Fatalf("plain envelope: got %v, want ErrNoVerifiedTimestamp", err)
	}
	other := append([]byte{}, sig...)
	other[0] ^= 1
	if _, err := verify(keyBundle(t, env, tsa.stamp(t, other, at))); !errors.Is(err, trustmap.ErrNoVerifiedTimestamp) {
		t.Fatalf("a timestamp over another signature: got %v, want ErrNoVerifiedTimestamp", err)
	}
	// Signed after the certified window closed: the verified time counts.
	if _, err := verify(keyBundle(t, env, tsa.stamp(t, sig, time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)))); !errors.Is(err, trustmap.ErrSigningTimeOutsideWindow) {
		t.Fatalf("timestamped outside the certified window: got %v, want ErrSigningTimeOutsideWindow", err)
	}
}
