package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseUploadRequest: any body is parsed or refused with
// ErrMalformedRequest, never a panic; what is accepted has a sha256 per
// artifact, lowercase hex digests of the right length, printable names and
// bounded counts.
func FuzzParseUploadRequest(f *testing.F) {
	f.Add([]byte(`{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `"}}],"provenance":"{}"}`))
	f.Add([]byte(`{"package":"app","package":"x","artifacts":[],"provenance":""}`))
	f.Add([]byte(`{"Package":"app","artifacts":[{"digest":{"sha256":"` + strings.ToUpper(appDigest) + `"}}],"provenance":"x"}`))
	f.Add([]byte(`{"artifacts":[{"digest":{"sha256":"` + appDigest + `","md5":"00"}}],"provenance":"x","attestations":["a"]}`))
	f.Add([]byte(`{"package":"a\u001b[2J","artifacts":[{"digest":{"sha256":"` + appDigest + `"}}],"provenance":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseUploadRequest(b)
		if err != nil {
			if req != nil {
				t.Fatal("a request and an error")
			}
			return
		}
		if len(req.Artifacts) == 0 || len(req.Artifacts) > MaxArtifacts || len(req.Attestations) > MaxAttestations || !printable(req.Package) {
			t.Fatalf("accepted %+v", req)
		}
		for _, a := range req.Artifacts {
			if len(a.Digest["sha256"]) != 64 || a.Name == "" || !printable(a.Name) {
				t.Fatalf("accepted artifact %+v", a)
			}
			for alg, d := range a.Digest {
				if digestLen[alg] != len(d) || strings.Trim(d, "0123456789abcdef") != "" {
					t.Fatalf("accepted digest %s:%q", alg, d)
				}
			}
		}
		// What was accepted re-encodes and parses to the same request.
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseUploadRequest(again); err != nil {
			t.Fatalf("re-encoded request refused: %v", err)
		}
	})
}
