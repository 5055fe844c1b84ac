// Package provtest makes signed SLSA provenance for tests of the upload
// gate: the shape of testdata/verify's fixtures (the hosted-vm builder of
// testdata/verify/roots.json, signed by testdata/keys/provenance-signer.key)
// for any artifact digest and external parameters.
package provtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/hallmark-build/hallmark/attest"
)

// Builder and BuildType of the fixtures.
const (
	Builder   = "https://builds.example.com/builders/hosted-vm@v1"
	BuildType = "https://builds.example.com/buildtypes/make@v1"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Signer is the provenance signer testdata/verify/roots.json trusts.
func Signer() (*attest.PrivateKey, error) {
	b, err := os.ReadFile(filepath.Join(Root(), "testdata", "keys", "provenance-signer.key"))
	if err != nil {
		return nil, err
	}
	return attest.ParsePrivateKey(b, nil)
}

// Digest is the sha256 hex of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Parameters are the fixtures' external parameters (those policy.json
// expects for example-app).
func Parameters() map[string]any {
	return map[string]any{"repository": "https://git.example.com/app", "ref": "refs/tags/v1.2.3", "target": "release"}
}

// Provenance returns a DSSE envelope (one JSON line) of SLSA provenance v1
// for an artifact with the given sha256, built by Builder.
func Provenance(key *attest.PrivateKey, name, sha256Hex string, ext map[string]any) ([]byte, error) {
	st := map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": name, "digest": map[string]any{"sha256": sha256Hex}}},
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType":          BuildType,
				"externalParameters": ext,
				"internalParameters": map[string]any{"runner_environment": "hosted"},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": Builder},
				"metadata": map[string]any{"invocationId": "inv-" + sha256Hex[:8], "startedOn": "2026-11-20T09:50:00Z", "finishedOn": "2026-11-20T10:00:00Z"},
			},
		},
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	env, err := attest.Sign(context.Background(), "application/vnd.in-toto+json", b, key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return attest.MarshalEnvelope(env)
}
