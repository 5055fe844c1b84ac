package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/clitest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

// TestImageScripts runs testdata/image (the README's "Verifying a container
// image" commands) against go-containerregistry's in-process registry,
// which serves the referrers API, holding the cosign fixture image as
// app:v1 and an image with nothing attached as bare:v1.
func TestImageScripts(t *testing.T) {
	reg := ocitest.Start(t, true)
	runImageScripts(t, reg.Host)
}

// runImageScripts pushes the images the scripts verify to the registry at
// host and runs them.
func runImageScripts(t *testing.T, host string) {
	ocitest.PushLayout(t, "../../testdata/oci/cosign-key", host+"/hallmark/app")
	bare := ocitest.PushImage(t, host+"/hallmark/bare:v1", "bare image")
	// Provenance for bare:v1, kept in a file (trustmap attach pushes it).
	st := map[string]any{
		"_type":         trustmap.StatementV1,
		"subject":       []any{map[string]any{"name": "hallmark/bare", "digest": map[string]any{"sha256": strings.TrimPrefix(bare, "sha256:")}}},
		"predicateType": trustmap.ProvenanceV1,
	}
	var pred map[string]any
	b, err := os.ReadFile("../../testdata/oci/cosign-key.predicate.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pred); err != nil {
		t.Fatal(err)
	}
	st["predicate"] = pred
	kb, err := os.ReadFile("../../testdata/keys/provenance-signer.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := attest.ParsePrivateKey(kb, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(st)
	env, err := attest.Sign(context.Background(), trustmap.InTotoPayloadType, payload, key)
	if err != nil {
		t.Fatal(err)
	}
	envb, _ := attest.MarshalEnvelope(env)
	prov := filepath.Join(t.TempDir(), "bare.intoto.jsonl")
	if err := os.WriteFile(prov, envb, 0o644); err != nil {
		t.Fatal(err)
	}
	layoutDir, _ := filepath.Abs("../../testdata/oci/cosign-key")
	manifest := filepath.Join(t.TempDir(), "manifest.jsonl")
	lines := `{"artifact":"oci://` + host + `/hallmark/app:v1","package":"example-app"}` + "\n" +
		`{"artifact":"oci-layout://` + layoutDir + `:v1","package":"example-app"}` + "\n"
	if err := os.WriteFile(manifest, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	clitest.RunDir(t, "testdata/image", map[string]string{"V": "testdata/verify", "OCI": "testdata/oci"},
		map[string]string{"REGISTRY": host, "BARE": bare, "BARE_PROV": prov, "MANIFEST": manifest})
}

// TestImageRegistryCA runs testdata/image-tls against the in-process
// registry over TLS with a self-signed certificate.
func TestImageRegistryCA(t *testing.T) {
	reg, caPEM := ocitest.StartTLS(t)
	pool, err := oci.SystemRootsWith(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	ocitest.PushLayout(t, "../../testdata/oci/cosign-key", reg.Host+"/hallmark/app", remote.WithTransport(oci.NewTransport(pool)))
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	clitest.RunDir(t, "testdata/image-tls", map[string]string{"V": "testdata/verify"}, map[string]string{"REGISTRY": reg.Host, "CA": ca})
}

// TestRegistryClientCredentialHelper: the client trustmap verify and attach
// use reads credentials from the Docker config's credential helpers.
func TestRegistryClientCredentialHelper(t *testing.T) {
	reg := ocitest.Start(t, true)
	ocitest.PushLayout(t, "../../testdata/oci/cosign-key", reg.Host+"/hallmark/app")
	reg.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == "ci" && p == "s3cret" {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return true
	}
	bin, cfg := t.TempDir(), t.TempDir()
	script := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"s3cret\"}' \"$server\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-credential-hallmarktest"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	conf, _ := json.Marshal(map[string]any{"credHelpers": map[string]string{reg.Host: "hallmarktest"}})
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	ref := "oci://" + reg.Host + "/hallmark/app:v1"
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
	c, err := registryClient(registryFlags{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Discover(context.Background(), ref); !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("without credentials: got %v, want ErrUnauthorized", err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DOCKER_CONFIG", cfg)
	d, err := c.Discover(context.Background(), ref)
	if err != nil || len(d.Attestations) != 2 {
		t.Fatalf("with the credential helper: %v", err)
	}
}
