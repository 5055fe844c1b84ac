package trustmap

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// Keyless provenance: the build times in the payload are claims, the
// verified signing time (Rekor integrated time or RFC 3161 timestamp) is
// not. A payload claiming a finishedOn inside the certified window, signed
// hours before the window opened, is refused; so is a build that finished
// after it was signed.
func TestSigningTimeBoundsTheBuild(t *testing.T) {
	const builder = "https://github.com/example/app/.github/workflows/release.yml@refs/tags/v1"
	from := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	roots, err := NewRoots(from, []Entry{{
		BuilderID: builder, Signer: Signer{OIDCIssuer: virtualIssuer, SAN: builder},
		SLSABuildLevel: 3, ValidFrom: from, ValidUntil: from.AddDate(0, 3, 0),
	}})
	if err != nil {
		t.Fatal(err)
	}
	art := BytesArtifact("a", []byte("artifact"))
	digest, _ := art.Digest("sha256")
	payload, _ := json.Marshal(map[string]any{
		"_type": StatementV1, "predicateType": ProvenanceV1,
		"subject": []any{map[string]any{"name": "a", "digest": map[string]any{"sha256": digest}}},
		"predicate": map[string]any{
			"buildDefinition": map[string]any{"buildType": "https://actions.github.io/buildtypes/workflow/v1",
				"externalParameters": map[string]any{"workflow": map[string]any{"repository": "https://github.com/example/app", "ref": "refs/tags/v1", "path": "release.yml"}}},
			"runDetails": map[string]any{"builder": map[string]any{"id": builder},
				"metadata": map[string]any{"startedOn": "2026-11-21T09:00:00Z", "finishedOn": "2026-11-21T10:00:00Z"}},
		},
	})
	signer := Signer{OIDCIssuer: virtualIssuer, SAN: builder}
	o := VerifyOptions{At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), MinLevel: 3, Expect: &Expectations{SourceURI: "github.com/example/app"}}
	verifyAt := func(signedAt time.Time) *Document {
		d := &Document{}
		verifyStatement(d, roots, payload, signer, signedAt, []*Artifact{art}, nil, o)
		return d
	}
	if d := verifyAt(time.Date(2026, 11, 21, 10, 5, 0, 0, time.UTC)); d.err != nil || d.Level != 3 {
		t.Fatalf("signed just after the build, inside the window: level %v, %v", d.Level, d.err)
	}
	// finishedOn claims 21 November; it was signed on 19 November, before
	// the certification.
	if d := verifyAt(time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)); !errors.Is(d.err, ErrImplausibleBuildTime) {
		t.Fatalf("build finished after it was signed: %v", d.err)
	}
	// The build is inside the window, the verified signing time is after
	// it closed: even with the expiry at verification time waived, the
	// signature was made when the builder was no longer certified.
	late := o
	late.At = from.AddDate(0, 4, 0)
	late.IgnoreCertificationAtVerifyTimeUnsafe = true
	d := &Document{}
	verifyStatement(d, roots, payload, signer, from.AddDate(0, 3, 1), []*Artifact{art}, nil, late)
	if !errors.Is(d.err, ErrSigningTimeOutsideWindow) || d.Level != 0 {
		t.Fatalf("signed after the window: level %v, %v", d.Level, d.err)
	}
	// The same provenance signed by a key has no verified signing time:
	// the waiver then applies to the build time alone.
	d = &Document{}
	verifyStatement(d, roots, payload, signer, time.Time{}, []*Artifact{art}, nil, late)
	if d.err != nil {
		t.Fatalf("without a signing time: %v", d.err)
	}
}
