package oci

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FuzzParseReference: no panic; an accepted reference has a tag or a
// lowercase sha256 digest, and a registry reference names its host.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"oci://127.0.0.1:5000/app:v1", "oci://ghcr.io/a/b@sha256:" + strings.Repeat("a", 64),
		"oci://ghcr.io/a/b:v1@sha256:" + strings.Repeat("0", 64), "oci-layout://dir:v1",
		"oci-layout://dir@sha256:" + strings.Repeat("f", 64), "oci://app:v1", "oci://x/y", "oci-layout://@",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			return
		}
		if r.Tag() == "" && r.Digest() == "" {
			t.Fatalf("%q: accepted without tag or digest", s)
		}
		if d := r.Digest(); d != "" && (len(d) != len("sha256:")+64 || strings.ToLower(d) != d) {
			t.Fatalf("%q: digest %q", s, d)
		}
		if !r.Layout() && r.repo.RegistryStr() == "" {
			t.Fatalf("%q: no registry", s)
		}
	})
}

// FuzzManifest: manifests and indexes from a registry or layout never
// panic the parsers, and a parsed manifest's subject is a real digest.
func FuzzManifest(f *testing.F) {
	for _, p := range []string{"../../testdata/oci/cosign-key/index.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	blobs, _ := filepath.Glob("../../testdata/oci/cosign-key/blobs/sha256/*")
	for _, p := range blobs {
		if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schemaVersion":2,"layers":[],"subject":{"digest":"sha256:x"}}`))
	f.Add([]byte(`{"schemaVersion":2,"Layers":[],"layers":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := parseManifest(b); err == nil && m.Subject != nil && m.Subject.Digest != (v1.Hash{}) {
			if _, err := v1.NewHash(m.Subject.Digest.String()); err != nil {
				t.Fatalf("subject digest %q accepted: %v", m.Subject.Digest, err)
			}
		}
		parseIndex(b)
		mediaTypeOf(b)
	})
}

// FuzzLayout: a layout directory whose index.json and blobs are arbitrary
// never panics discovery and never passes a digest check it should fail.
func FuzzLayout(f *testing.F) {
	idx, _ := os.ReadFile("../../testdata/oci/cosign-key/index.json")
	f.Add(idx, []byte(`{"schemaVersion":2}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+strings.Repeat("a", 64)+`","size":10,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, index, blob []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
		os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644)
		os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
		// The blob is stored under a digest it does not have.
		os.WriteFile(filepath.Join(dir, "blobs", "sha256", strings.Repeat("a", 64)), blob, 0o644)
		d, err := New(Options{}).Discover(context.Background(), "oci-layout://"+dir+":v1")
		if err == nil && d.Image.Digest == "sha256:"+strings.Repeat("a", 64) {
			t.Fatalf("a blob that does not hash to its name was accepted")
		}
	})
}

// FuzzCosignKeyless: the annotations of a keyless cosign layer never panic
// the conversion, and what it returns is JSON.
func FuzzCosignKeyless(f *testing.F) {
	f.Add([]byte(`{"payloadType":"x","payload":"","signatures":[]}`), "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
		`{"SignedEntryTimestamp":"MA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"00"}}`)
	f.Add([]byte(`{}`), "", "")
	f.Fuzz(func(t *testing.T, env []byte, cert, bundle string) {
		out, err := cosignKeylessBundle(env, map[string]string{annCosignCertificate: cert, annCosignBundle: bundle})
		if err == nil && cert != "" && !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
	})
}
