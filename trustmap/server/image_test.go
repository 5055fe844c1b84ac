package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

// The cosign fixture of testdata/oci: key-signed provenance for
// example-app, as a bundle referrer and on the .att tag.
const (
	cosignLayout = "../../testdata/oci/cosign-key"
	cosignDigest = "sha256:ec12bd89a6071fb43d81a75888c40b748dab140a9e937110b470943df5378acf"
)

// TestImageUploads: an upload may name an image in a configured registry
// instead of artifact digests; the gate resolves it and verifies the
// provenance attached to it, with the same verdict and archive as any
// upload. Other registries, layouts and registry failures are refused
// with their own codes, and nothing is archived for them.
func TestImageUploads(t *testing.T) {
	reg := ocitest.Start(t, true)
	ocitest.PushLayout(t, cosignLayout, reg.Host+"/hallmark/app")
	ocitest.PushImage(t, reg.Host+"/hallmark/bare:v1", "nothing attached")
	other := ocitest.Start(t, true)
	ocitest.PushLayout(t, cosignLayout, other.Host+"/hallmark/app")
	client := oci.New(oci.Options{})
	s := newTestServer(t, nil, nil, Options{Images: &Images{Client: client, Registries: []string{reg.Host}}})
	// Every answer has a status openapi.json lists and a body its schema
	// accepts.
	op := loadSpec(t).Paths["/v1/verify"]["post"]
	post := func(body string) answer {
		t.Helper()
		a := do(t, "POST", s.URL+"/v1/verify", testToken, []byte(body))
		resp, ok := op.Responses[strconv.Itoa(a.Code)]
		if !ok {
			t.Errorf("answered %d, which openapi.json does not list: %s", a.Code, a.Body)
			return a
		}
		var v any
		if err := json.Unmarshal(a.Body, &v); err != nil {
			t.Fatal(err)
		}
		if err := validate(loadSpec(t), resp.Content["application/json"].Schema, v, "$"); err != nil {
			t.Errorf("%d: %v", a.Code, err)
		}
		return a
	}
	records := func() int {
		var n int
		if err := s.store.SQL().QueryRow(`SELECT COUNT(*) FROM records`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// By tag: resolved once, the provenance found in the registry.
	body := `{"package":"example-app","image":"oci://` + reg.Host + `/hallmark/app:v1"}`
	a := post(body)
	var v VerifyResponse
	a.decode(t, &v)
	if a.Code != http.StatusOK || !v.Passed || v.Level != 3 || v.Replayed {
		t.Fatalf("image upload: %d %s", a.Code, a.Body)
	}
	if !strings.Contains(vsaPayload(t, v.VSA), strings.TrimPrefix(cosignDigest, "sha256:")) {
		t.Fatalf("the VSA does not name the image digest: %s", vsaPayload(t, v.VSA))
	}
	rec, err := s.store.GetRecord(context.Background(), v.Record)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Subjects) != 1 || rec.Subjects[0].Digest != cosignDigest || rec.Subjects[0].Name != "oci://"+reg.Host+"/hallmark/app@"+cosignDigest {
		t.Fatalf("subjects: %+v", rec.Subjects)
	}
	if n := strings.Count(strings.TrimSpace(string(rec.Provenance.Body)), "\n") + 1; n != 2 {
		t.Fatalf("archived %d provenance documents, want the 2 found", n)
	}
	// Re-posted (or posted by digest): the stored verdict.
	for _, ref := range []string{"app:v1", "app@" + cosignDigest} {
		a = post(`{"package":"example-app","image":"oci://` + reg.Host + `/hallmark/` + ref + `"}`)
		var again VerifyResponse
		a.decode(t, &again)
		if a.Code != http.StatusOK || !again.Replayed || again.Record != v.Record {
			t.Fatalf("%s again: %d %s", ref, a.Code, a.Body)
		}
	}
	// The image with provenance brought along: that provenance is verified.
	d, err := client.Discover(context.Background(), "oci-layout://"+cosignLayout+":v1")
	if err != nil {
		t.Fatal(err)
	}
	a = post(string(mustJSON(t, UploadRequest{Package: "example-app", Image: "oci://" + reg.Host + "/hallmark/app:v1", Provenance: string(d.Provenance()[:len(d.Provenance())/2])})))
	if a.Code != http.StatusUnprocessableEntity || a.errorCode(t) == "" {
		t.Fatalf("truncated provenance brought along: %d %s", a.Code, a.Body)
	}
	// Nothing attached: verified, failed and archived like an upload
	// without provenance.
	a = post(`{"package":"example-app","image":"oci://` + reg.Host + `/hallmark/bare:v1"}`)
	a.decode(t, &v)
	if a.Code != http.StatusUnprocessableEntity || v.Error == nil || v.Error.Code != "ErrNoProvenance" {
		t.Fatalf("nothing attached: %d %s", a.Code, a.Body)
	}
	stored := records()

	other.Reset()
	for _, c := range []struct {
		name, body string
		code       int
		errCode    string
	}{
		{"another registry", `{"package":"example-app","image":"oci://` + other.Host + `/hallmark/app:v1"}`, 403, "ErrImageNotAllowed"},
		{"a layout", `{"package":"example-app","image":"oci-layout://` + cosignLayout + `:v1"}`, 400, "ErrMalformedRequest"},
		{"not a reference", `{"package":"example-app","image":"oci://hallmark/app:v1"}`, 400, "ErrMalformedRequest"},
		{"artifacts and an image", `{"package":"example-app","image":"oci://` + reg.Host + `/hallmark/app:v1","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `"}}]}`, 400, "ErrMalformedRequest"},
		{"no such image", `{"package":"example-app","image":"oci://` + reg.Host + `/hallmark/app:v9"}`, 502, "oci.ErrNotFound"},
		{"a pinned tag that moved", `{"package":"example-app","image":"oci://` + reg.Host + `/hallmark/bare:v1@` + cosignDigest + `"}`, 502, "oci.ErrTagMoved"},
	} {
		a := post(c.body)
		if a.Code != c.code || a.errorCode(t) != c.errCode {
			t.Errorf("%s: %d %s, want %d %s", c.name, a.Code, a.Body, c.code, c.errCode)
		}
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("the gate made %d requests to a registry it was not configured for", n)
	}
	if n := records(); n != stored {
		t.Errorf("refused image uploads were archived: %d records, want %d", n, stored)
	}
	// A gate without Images reads no registry.
	none := newTestServer(t, nil, nil, Options{})
	if a := do(t, "POST", none.URL+"/v1/verify", testToken, []byte(body)); a.Code != 403 || a.errorCode(t) != "ErrImageNotAllowed" {
		t.Errorf("no image registries configured: %d %s", a.Code, a.Body)
	}
}

func TestSameRegistry(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"ghcr.io", "ghcr.io", true},
		{"docker.io", "index.docker.io", true},
		{"127.0.0.1:5000", "127.0.0.1:5000", true},
		{"127.0.0.1:5000", "127.0.0.1:5001", false},
		{"ghcr.io", "ghcr.io.evil.example", false},
		{"", "", false},
	} {
		if got := sameRegistry(c.a, c.b); got != c.same {
			t.Errorf("sameRegistry(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
