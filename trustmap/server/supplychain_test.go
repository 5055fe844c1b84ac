package server

import (
	"crypto/rand"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
)

// The gate checks sources and dependencies with the VSAs uploaded as
// attestations, as trustmap verify --vsa does, and its VSA records them.
func TestUploadWithSourceAndDependencyVSAs(t *testing.T) {
	sc := "supplychain"
	roots, err := trustmap.ParseRoots(readFile(t, filepath.Join(sc, "roots.json")))
	if err != nil {
		t.Fatal(err)
	}
	pb := readFile(t, filepath.Join(sc, "policy.json"))
	policy, err := trustmap.ParsePolicy(pb)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := attest.GenerateKey(attest.ECDSAP256, rand.Reader)
	s := newTestServer(t, &Trust{Roots: roots, Policy: policy, PolicyData: pb, PolicyURI: "file:///srv/gate/policy.json",
		VSAKey: key, VerifierID: "https://registry.example/gate"}, nil, Options{})
	post := func(vsas ...string) (answer, VerifyResponse) {
		req := UploadRequest{Package: "example-app", Artifacts: []ArtifactRef{{Name: "app-1.2.3.tar.gz", Digest: map[string]string{"sha256": appDigest}}},
			Provenance: string(readFile(t, filepath.Join(sc, "app.intoto.jsonl")))}
		for _, v := range vsas {
			req.Attestations = append(req.Attestations, string(readFile(t, filepath.Join(sc, v))))
		}
		a := do(t, "POST", s.URL+"/v1/verify", testToken, mustJSON(t, req))
		var v VerifyResponse
		a.decode(t, &v)
		return a, v
	}
	a, v := post("vsas/source.vsa.json", "vsas/libfoo.vsa.json")
	if a.Code != http.StatusOK || !v.Passed {
		t.Fatalf("with both VSAs: %d %s", a.Code, a.Body)
	}
	p := vsaPayload(t, v.VSA)
	if !strings.Contains(p, `"dependencyLevels":{"SLSA_BUILD_LEVEL_3":1}`) || strings.Count(p, "urn:hallmark:archive:sha256:") != 3 {
		t.Fatalf("VSA: %s", p)
	}
	a, v = post("vsas/libfoo.vsa.json")
	if a.Code != http.StatusUnprocessableEntity || v.Passed || v.Error == nil || v.Error.Code != "ErrSourceNotVerified" {
		t.Fatalf("without the source VSA: %d %s", a.Code, a.Body)
	}
	a, v = post("vsas/source.vsa.json")
	if a.Code != http.StatusUnprocessableEntity || v.Error == nil || v.Error.Code != "ErrDependencyNotVerified" {
		t.Fatalf("without the dependency VSA: %d %s", a.Code, a.Body)
	}
}
