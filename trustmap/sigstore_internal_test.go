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
