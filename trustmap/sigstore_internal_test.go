package trustmap

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// sigstore-go's in-process virtual Sigstore issues real certificates, log
// entries and timestamps. Its leaf certificates are valid for a few minutes
// from when they are made, so signing times are set relative to that.

const (
	virtualIdentity = "https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1"
	virtualIssuer   = "https://token.actions.githubusercontent.com"
)

func virtualStatement(t *testing.T) []byte {
	b, _ := json.Marshal(map[string]any{
		"_type": StatementV1, "predicateType": ProvenanceV1,
		"subject":   []any{map[string]any{"name": "a", "digest": map[string]any{"sha256": "aa"}}},
		"predicate": map[string]any{},
	})
	return b
}

// withoutTlog hides transparency-log entries (and optionally timestamps).
type withoutTlog struct {
	*ca.TestEntity
	keepTimestamps bool
}

func (w withoutTlog) TlogEntries() ([]*tlog.Entry, error) { return nil, nil }
func (w withoutTlog) Timestamps() ([][]byte, error) {
	if w.keepTimestamps {
		return w.TestEntity.Timestamps()
	}
	return nil, nil
}

var _ verify.SignedEntity = withoutTlog{}

func TestVirtualSigstore(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	// The virtual CA issues no SCTs.
	trust := &SigstoreTrust{Material: vs, Description: "virtual Sigstore", SkipSCTUnsafe: true}
	soon := time.Now().Add(5 * time.Minute) // inside the leaf certificate's validity

	good, err := vs.AttestAtTime(virtualIdentity, virtualIssuer, virtualStatement(t), soon, true)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := verifySigstoreEntity(good, trust)
	if err != nil {
		t.Fatalf("valid entity: %v", err)
	}
	if sv.signer.SAN != virtualIdentity || sv.signer.OIDCIssuer != virtualIssuer || sv.signedAt.IsZero() {
		t.Fatalf("verified %+v", sv.signer)
	}
	// The second bundle of the same intermediate reuses its verified chain;
	// the rejections below meet that warm cache.
	again, err := vs.AttestAtTime(virtualIdentity, virtualIssuer, virtualStatement(t), soon, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifySigstoreEntity(again, trust); err != nil {
		t.Fatalf("second entity: %v", err)
	}
	// (one leaf verification per verified time: log entry and timestamp)
	if full, fast := trust.chains().full.Load(), trust.chains().fast.Load(); full != 1 || fast < 2 {
		t.Fatalf("%d full and %d cached chain verifications, want 1 and some", full, fast)
	}

	// Logged 20 minutes later, when the 10-minute certificate had expired.
	// Its signed timestamp is still inside the validity, but every verified
	// time must be.
	late, err := vs.AttestAtTime(virtualIdentity, virtualIssuer, virtualStatement(t), time.Now().Add(20*time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifySigstoreEntity(late, trust); !errors.Is(err, ErrCertificateNotValid) {
		t.Fatalf("certificate expired at signing time: err = %v, want ErrCertificateNotValid", err)
	}

	// No transparency-log entry and no signed timestamp: no trusted time.
	if _, err := verifySigstoreEntity(withoutTlog{TestEntity: good}, trust); !errors.Is(err, ErrNoVerifiedTimestamp) {
		t.Fatalf("no tlog entry or timestamp: err = %v, want ErrNoVerifiedTimestamp", err)
	}
	// A signed timestamp alone is enough.
	if _, err := verifySigstoreEntity(withoutTlog{TestEntity: good, keepTimestamps: true}, trust); err != nil {
		t.Fatalf("signed timestamp without tlog entry: %v", err)
	}

	// A certificate from another Sigstore instance is not trusted.
	other, _ := ca.NewVirtualSigstore()
	if _, err := verifySigstoreEntity(good, &SigstoreTrust{Material: other, Description: "other", SkipSCTUnsafe: true}); err == nil {
		t.Fatal("entity verified against an unrelated trusted root")
	}
}

// A keyless VSA (a Sigstore bundle from the verifier's CI identity) is
// verified offline and matched to a verifier trusted by issuer and SAN.
func TestVirtualSigstoreVSA(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	trust := &SigstoreTrust{Material: vs, Description: "virtual Sigstore", SkipSCTUnsafe: true}
	now := time.Now()
	st, _ := json.Marshal(map[string]any{
		"_type": StatementV1, "predicateType": VSAPredicateType,
		"subject": []any{map[string]any{"digest": map[string]any{"gitCommit": "3f786850e387550fdab836ed7e6dc881de23001b"}}},
		"predicate": map[string]any{
			"verifier": map[string]any{"id": "https://source.example/verifier"}, "timeVerified": now.UTC().Format(time.RFC3339),
			"resourceUri": "git+https://github.com/example/app", "policy": map[string]any{"uri": "https://source.example/policy"},
			"verificationResult": "PASSED", "verifiedLevels": []any{"SLSA_SOURCE_LEVEL_3"},
		},
	})
	entity, err := vs.AttestAtTime(virtualIdentity, virtualIssuer, st, now.Add(5*time.Minute), true)
	if err != nil {
		t.Fatal(err)
	}
	verifier := func(san string) *VerifierSet {
		s, err := NewVerifierSet([]TrustedVerifier{{ID: "https://source.example/verifier", Signer: Signer{OIDCIssuer: virtualIssuer, SAN: san},
			ResourceURIRegexp: `git\+https://github\.com/example/.*`, Levels: map[string]int{"SOURCE": 3},
			ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	target := vsaTarget{digests: map[string]string{"gitCommit": "3f786850e387550fdab836ed7e6dc881de23001b"}, resourceURI: "git+https://github.com/example/app",
		levels: []LevelRequirement{{Name: "SLSA_SOURCE_LEVEL_3", Track: "SOURCE", Level: 3}}}
	o := VerifyVSAOptions{At: now.Add(10 * time.Minute), MaxAge: time.Hour, Sigstore: trust}
	read := func(set *VerifierSet) (*vsaClaim, *Document) {
		d := &Document{}
		payload, signer, ok := verifyVSAEntity(d, entity, o)
		if !ok {
			t.Fatalf("keyless VSA: %v", d.err)
		}
		return readVSAStatement(set, "vsa.sigstore.json", payload, signer, o, d), d
	}
	c, d := read(verifier(virtualIdentity))
	if c == nil {
		t.Fatalf("trusted identity: %v", d.err)
	}
	if err := c.covers(d, target); err != nil {
		t.Fatalf("covers: %v", err)
	}
	// Another workflow of the same repository is another identity.
	if c, d := read(verifier("https://github.com/example/app/.github/workflows/other.yml@refs/tags/v1")); c != nil || !errors.Is(d.err, ErrVSAUntrustedVerifier) {
		t.Fatalf("other identity: %v", d.err)
	}
	// Without a trusted root nothing keyless verifies.
	if _, _, ok := verifyVSAEntity(&Document{}, entity, VerifyVSAOptions{At: o.At, MaxAge: time.Hour}); ok {
		t.Fatal("keyless VSA verified without a trusted root")
	}
}
