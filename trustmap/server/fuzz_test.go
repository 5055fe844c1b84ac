package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/trustmap/oci"
)

// FuzzParseUploadRequest: any body is parsed or refused with
// ErrMalformedRequest, never a panic; what is accepted has a sha256 per
// artifact, lowercase hex digests of the right length, printable names and
// bounded counts, and names either artifacts or an image in a registry.
func FuzzParseUploadRequest(f *testing.F) {
	f.Add([]byte(`{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `"}}],"provenance":"{}"}`))
	f.Add([]byte(`{"package":"app","package":"x","artifacts":[],"provenance":""}`))
	f.Add([]byte(`{"Package":"app","artifacts":[{"digest":{"sha256":"` + strings.ToUpper(appDigest) + `"}}],"provenance":"x"}`))
	f.Add([]byte(`{"artifacts":[{"digest":{"sha256":"` + appDigest + `","md5":"00"}}],"provenance":"x","attestations":["a"]}`))
	f.Add([]byte(`{"package":"a\u001b[2J","artifacts":[{"digest":{"sha256":"` + appDigest + `"}}],"provenance":"x"}`))
	f.Add([]byte(`{"package":"app","image":"oci://127.0.0.1:5000/app:v1"}`))
	f.Add([]byte(`{"package":"app","image":"oci-layout:///etc@sha256:` + appDigest + `"}`))
	f.Add([]byte(`{"image":"oci://r.example/app@sha256:` + appDigest + `","artifacts":[{"digest":{"sha256":"` + appDigest + `"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseUploadRequest(b)
		if err != nil {
			if req != nil {
				t.Fatal("a request and an error")
			}
			return
		}
		if (len(req.Artifacts) == 0) == (req.Image == "") || len(req.Artifacts) > MaxArtifacts || len(req.Attestations) > MaxAttestations || !printable(req.Package) {
			t.Fatalf("accepted %+v", req)
		}
		if req.Image != "" {
			// An image is a registry reference, never a local layout.
			if r, err := oci.ParseReference(req.Image); err != nil || r.Layout() || r.Registry() == "" {
				t.Fatalf("accepted image %q", req.Image)
			}
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
