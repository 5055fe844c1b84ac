package oci_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

const (
	verifyDir     = "../../testdata/verify"
	hostedBuilder = "https://builds.example.com/builders/hosted-vm@v1"
	buildType     = "https://builds.example.com/buildtypes/make@v1"
)

var verifyAt = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func readKey(t testing.TB, name string) *attest.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/keys", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := attest.ParsePrivateKey(b, func(bool) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// statement is SLSA provenance v1 for an image digest (sha256:HEX) that
// passes the example-app policy of testdata/verify.
func statement(digest string) map[string]any {
	return map[string]any{
		"_type":         trustmap.StatementV1,
		"subject":       []any{map[string]any{"name": "registry.example/app", "digest": map[string]any{"sha256": strings.TrimPrefix(digest, "sha256:")}}},
		"predicateType": trustmap.ProvenanceV1,
		"predicate": map[string]any{
			"buildDefinition": map[string]any{
				"buildType": buildType,
				"externalParameters": map[string]any{
					"repository": "https://git.example.com/app", "ref": "refs/tags/v1.2.3", "target": "release",
				},
				"internalParameters": map[string]any{"runner_environment": "hosted"},
			},
			"runDetails": map[string]any{
				"builder":  map[string]any{"id": hostedBuilder},
				"metadata": map[string]any{"invocationId": "inv-1", "startedOn": "2026-11-20T09:50:00Z", "finishedOn": "2026-11-20T10:00:00Z"},
			},
		},
	}
}

func signed(t testing.TB, key *attest.PrivateKey, st map[string]any) []byte {
	t.Helper()
	b, _ := json.Marshal(st)
	env, err := attest.Sign(context.Background(), trustmap.InTotoPayloadType, b, key)
	if err != nil {
		t.Fatal(err)
	}
	out, err := attest.MarshalEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type verifier struct {
	roots  *trustmap.Roots
	policy *trustmap.Policy
}

func loadVerifier(t testing.TB) verifier {
	t.Helper()
	ctx := context.Background()
	rb, err := os.ReadFile(filepath.Join(verifyDir, "roots.json"))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := trustmap.LoadRoots(ctx, rb, nil, trustmap.LoadOptions{At: verifyAt})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := os.ReadFile(filepath.Join(verifyDir, "policy.json"))
	policy, err := trustmap.LoadPolicy(ctx, pb, nil, 0, trustmap.LoadOptions{At: verifyAt})
	if err != nil {
		t.Fatal(err)
	}
	return verifier{roots, policy}
}

// verify discovers ref and verifies what it finds, as trustmap verify does.
func (v verifier) verify(t testing.TB, c *oci.Client, ref string) (*oci.Discovery, *trustmap.Result, error) {
	t.Helper()
	ctx := context.Background()
	d, err := c.Discover(ctx, ref)
	if err != nil {
		return d, nil, err
	}
	res, err := trustmap.Verify(ctx, v.roots, d.Provenance(), []*trustmap.Artifact{d.Image.Artifact()},
		trustmap.VerifyOptions{At: verifyAt, Policy: v.policy, Package: "example-app"})
	return d, res, err
}

func resolve(t testing.TB, c *oci.Client, ref string) *oci.Image {
	t.Helper()
	im, err := c.Resolve(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func attach(t testing.TB, c *oci.Client, im *oci.Image, doc []byte) string {
	t.Helper()
	d, err := c.Attach(context.Background(), im, doc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReferrers: provenance attached as a referrer is found through the
// referrers API and through the referrers tag, and passes; each manifest
// and blob is fetched once.
func TestReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(fmt.Sprintf("referrersAPI=%v", api), func(t *testing.T) {
			testReferrers(t, func(t testing.TB) *ocitest.Registry { return ocitest.Start(t, api) })
		})
	}
}

func TestRejections(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(fmt.Sprintf("referrersAPI=%v", api), func(t *testing.T) {
			testRejections(t, func(t testing.TB) *ocitest.Registry { return ocitest.Start(t, api) })
		})
	}
}

type starter func(t testing.TB) *ocitest.Registry

func testReferrers(t *testing.T, start starter) {
	v := loadVerifier(t)
	signer := readKey(t, "provenance-signer.key")
	{
		{
			reg := start(t)
			digest := ocitest.PushImage(t, reg.Host+"/app:v1", "app v1")
			c := oci.New(oci.Options{})
			im := resolve(t, c, "oci://"+reg.Host+"/app:v1")
			if im.Digest != digest || !im.Resolved {
				t.Fatalf("resolved %s (resolved=%v), want %s", im.Digest, im.Resolved, digest)
			}
			// Two attestations sharing one envelope: its blob is still
			// fetched once.
			env := signed(t, signer, statement(digest))
			attach(t, c, im, env)
			other := signed(t, signer, func() map[string]any {
				st := statement(digest)
				st["predicate"].(map[string]any)["runDetails"].(map[string]any)["metadata"].(map[string]any)["invocationId"] = "inv-2"
				return st
			}())
			attach(t, c, im, other)

			reg.Reset()
			d, res, err := v.verify(t, c, "oci://"+reg.Host+"/app:v1")
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if !res.Passed || res.Level != 3 || len(d.Attestations) != 2 {
				t.Fatalf("passed=%v level=%v attestations=%d", res.Passed, res.Level, len(d.Attestations))
			}
			for path, n := range reg.Count() {
				if n != 1 {
					t.Errorf("GET %s served %d times, want once", path, n)
				}
			}
			tagReads := 0
			for _, r := range reg.Requests() {
				if strings.HasSuffix(r, "/manifests/v1") {
					tagReads++
				}
			}
			if tagReads != 1 {
				t.Errorf("the tag was read %d times, want once: %v", tagReads, reg.Requests())
			}
			// By digest, the same.
			if _, res, err := v.verify(t, c, "oci://"+reg.Host+"/app@"+digest); err != nil || !res.Passed {
				t.Fatalf("by digest: %v", err)
			}
		}
	}
}

// testRejections: each way a registry or an attacker can get it wrong fails
// with its own error.
func testRejections(t *testing.T, start starter) {
	v := loadVerifier(t)
	signer := readKey(t, "provenance-signer.key")
	ctx := context.Background()

	reg := start(t)
	c := oci.New(oci.Options{})
	digest := ocitest.PushImage(t, reg.Host+"/app:v1", "app v1")
	otherDigest := ocitest.PushImage(t, reg.Host+"/app:v2", "app v2")
	im := resolve(t, c, "oci://"+reg.Host+"/app:v1")
	other := resolve(t, c, "oci://"+reg.Host+"/app:v2")

	t.Run("provenance for another image", func(t *testing.T) {
		// Provenance of v1, attached to v2.
		attach(t, c, other, signed(t, signer, statement(digest)))
		_, _, err := v.verify(t, c, "oci://"+reg.Host+"/app:v2")
		if !errors.Is(err, trustmap.ErrSubjectMismatch) {
			t.Fatalf("got %v, want ErrSubjectMismatch", err)
		}
	})
	attach(t, c, im, signed(t, signer, statement(digest)))

	t.Run("nothing attached", func(t *testing.T) {
		ocitest.PushImage(t, reg.Host+"/bare:v1", "bare")
		_, _, err := v.verify(t, c, "oci://"+reg.Host+"/bare:v1")
		if !errors.Is(err, oci.ErrNoAttestations) || !errors.Is(err, trustmap.ErrNoProvenance) {
			t.Fatalf("got %v, want ErrNoAttestations", err)
		}
	})

	t.Run("tag moved since pinned", func(t *testing.T) {
		_, _, err := v.verify(t, c, "oci://"+reg.Host+"/app:v2@"+digest)
		if !errors.Is(err, oci.ErrTagMoved) {
			t.Fatalf("got %v, want ErrTagMoved", err)
		}
	})

	t.Run("tag moved between resolve and fetch", func(t *testing.T) {
		// The tag is read once. Right after, while the attestations are
		// looked up, the registry moves it to another image that carries
		// its own (valid) provenance: the verification stays with the
		// digest it resolved, reads nothing by that tag again, and reports
		// the image it verified.
		reg2 := start(t)
		d1 := ocitest.PushImage(t, reg2.Host+"/app:latest", "one")
		i1 := resolve(t, c, "oci://"+reg2.Host+"/app:latest")
		attach(t, c, i1, signed(t, signer, statement(d1)))
		d2 := ocitest.PushImage(t, reg2.Host+"/app:v2", "two")
		attach(t, c, resolve(t, c, "oci://"+reg2.Host+"/app:v2"), signed(t, signer, statement(d2)))
		var mu sync.Mutex
		tagReads, moved := 0, false
		reg2.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodGet {
				return false
			}
			mu.Lock()
			if strings.HasSuffix(r.URL.Path, "/manifests/latest") {
				tagReads++
			}
			move := !moved && (strings.Contains(r.URL.Path, "/referrers/") || strings.Contains(r.URL.Path, "/manifests/sha256-"))
			moved = moved || move
			mu.Unlock()
			if move {
				// The push's own requests come through here too.
				ocitest.PushImage(t, reg2.Host+"/app:latest", "two") // the tag now names d2
			}
			return false
		}
		d, res, err := v.verify(t, c, "oci://"+reg2.Host+"/app:latest")
		reg2.Intercept = nil
		if err != nil || !res.Passed || d.Image.Digest != d1 || !moved || tagReads != 1 {
			t.Fatalf("err=%v digest=%s moved=%v tag reads=%d", err, d.Image.Digest, moved, tagReads)
		}
		// Pinned to d1, the moved tag is refused.
		_, _, err = v.verify(t, c, "oci://"+reg2.Host+"/app:latest@"+d1)
		if !errors.Is(err, oci.ErrTagMoved) || !strings.Contains(err.Error(), d2) {
			t.Fatalf("got %v, want ErrTagMoved naming %s", err, d2)
		}
	})

	t.Run("referrer with another subject", func(t *testing.T) {
		reg3 := start(t)
		d1 := ocitest.PushImage(t, reg3.Host+"/app:v1", "one")
		d2 := ocitest.PushImage(t, reg3.Host+"/app:v2", "two")
		i2 := resolve(t, c, "oci://"+reg3.Host+"/app:v2")
		ref := attach(t, c, i2, signed(t, signer, statement(d2)))
		// The referrers tag of v1 lists the referrer of v2.
		reg3.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/manifests/sha256-"+strings.TrimPrefix(d1, "sha256:")) || strings.HasSuffix(r.URL.Path, "/referrers/"+d1) {
				idx := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"artifactType":%q}]}`,
					ref, sizeOf(t, c, reg3.Host, ref), oci.InTotoArtifactType)
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				w.Write([]byte(idx))
				return true
			}
			return false
		}
		_, _, err := v.verify(t, c, "oci://"+reg3.Host+"/app@"+d1)
		if !errors.Is(err, oci.ErrReferrerSubject) {
			t.Fatalf("got %v, want ErrReferrerSubject", err)
		}
	})

	t.Run("attestation over the size cap", func(t *testing.T) {
		small := oci.New(oci.Options{MaxBlob: 256})
		reg.Reset()
		_, err := small.Discover(ctx, "oci://"+reg.Host+"/app:v1")
		if !errors.Is(err, oci.ErrTooLarge) {
			t.Fatalf("got %v, want ErrTooLarge", err)
		}
		for p := range reg.Count() {
			if strings.Contains(p, "/blobs/") {
				t.Errorf("a blob over the cap was fetched: %s", p)
			}
		}
	})

	for _, tc := range []struct {
		status int
		want   error
	}{{401, oci.ErrUnauthorized}, {404, oci.ErrNotFound}, {500, oci.ErrRegistry}} {
		t.Run(fmt.Sprintf("registry answers %d", tc.status), func(t *testing.T) {
			reg.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
				if strings.Contains(r.URL.Path, "/manifests/") {
					w.WriteHeader(tc.status)
					return true
				}
				return false
			}
			defer func() { reg.Intercept = nil }()
			_, _, err := v.verify(t, c, "oci://"+reg.Host+"/app:v1")
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	t.Run("manifest that does not match its digest", func(t *testing.T) {
		reg.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, "/manifests/"+digest) {
				b := resolve(t, oci.New(oci.Options{}), "oci://"+reg.Host+"/app@"+otherDigest).Manifest
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				w.Header().Set("Docker-Content-Digest", digest)
				w.Write(b)
				return true
			}
			return false
		}
		defer func() { reg.Intercept = nil }()
		_, _, err := v.verify(t, c, "oci://"+reg.Host+"/app@"+digest)
		if !errors.Is(err, oci.ErrDigestMismatch) {
			t.Fatalf("got %v, want ErrDigestMismatch", err)
		}
	})

	t.Run("manifest over the size cap", func(t *testing.T) {
		_, err := oci.New(oci.Options{MaxManifest: 64}).Discover(ctx, "oci://"+reg.Host+"/app:v1")
		if !errors.Is(err, oci.ErrTooLarge) {
			t.Fatalf("got %v, want ErrTooLarge", err)
		}
	})

	t.Run("blob that does not match its digest", func(t *testing.T) {
		reg.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				// Same length, other bytes.
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Write(bytes.Repeat([]byte("x"), sizeOfBlob(t, reg.Host, r.URL.Path)))
				return true
			}
			return false
		}
		defer func() { reg.Intercept = nil }()
		_, err := c.Discover(ctx, "oci://"+reg.Host+"/app:v1")
		if !errors.Is(err, oci.ErrDigestMismatch) {
			t.Fatalf("got %v, want ErrDigestMismatch", err)
		}
	})

	t.Run("too many attestations", func(t *testing.T) {
		reg4 := start(t)
		d := ocitest.PushImage(t, reg4.Host+"/many:v1", "many")
		many := resolve(t, c, "oci://"+reg4.Host+"/many:v1")
		env := signed(t, signer, statement(d))
		for i := 0; i <= oci.MaxAttestations; i++ {
			// Distinct referrers (their annotations differ), one envelope.
			doc := []byte(strings.Replace(string(env), "{", fmt.Sprintf(`{"n%d":0,`, i), 1))
			attach(t, c, many, doc)
		}
		reg4.Reset()
		_, err := c.Discover(ctx, "oci://"+reg4.Host+"/many:v1")
		if !errors.Is(err, oci.ErrTooMany) {
			t.Fatalf("got %v, want ErrTooMany", err)
		}
		for p := range reg4.Count() {
			if strings.Contains(p, "/blobs/") {
				t.Fatalf("blobs were read before the count was checked: %s", p)
			}
		}
	})

	t.Run("plain HTTP only on loopback", func(t *testing.T) {
		// Private addresses are the ones the registry
		// client would try over plain HTTP. No request leaves the process:
		// the base transport refuses everything and records what reached it.
		var mu sync.Mutex
		var seen []string
		offline := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			seen = append(seen, r.URL.Scheme+"://"+r.URL.Host)
			mu.Unlock()
			return nil, errors.New("no network in tests")
		})
		for _, host := range []string{"10.1.2.3:5000", "192.168.1.10", "172.16.0.1:443"} {
			_, err := oci.New(oci.Options{Transport: offline}).Discover(ctx, "oci://"+host+"/app:v1")
			if !errors.Is(err, oci.ErrInsecure) {
				t.Errorf("%s: got %v, want ErrInsecure", host, err)
			}
		}
		for _, s := range seen {
			if !strings.HasPrefix(s, "https://") {
				t.Errorf("a plain HTTP request reached the transport: %s", s)
			}
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func sizeOf(t testing.TB, c *oci.Client, host, digest string) int {
	return len(resolve(t, c, "oci://"+host+"/app@"+digest).Manifest)
}

func TestParseReference(t *testing.T) {
	good := []string{
		"oci://127.0.0.1:5000/app:v1",
		"oci://ghcr.io/example/app@sha256:" + strings.Repeat("a", 64),
		"oci://ghcr.io/example/app:v1@sha256:" + strings.Repeat("a", 64),
		"oci-layout://testdata/layout:v1",
		"oci-layout:///tmp/x@sha256:" + strings.Repeat("0", 64),
	}
	for _, s := range good {
		if _, err := oci.ParseReference(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []string{
		"ghcr.io/example/app:v1",    // no scheme
		"oci://app:v1",              // no registry
		"oci://ghcr.io/example/app", // neither tag nor digest
		"oci://ghcr.io/example/app@sha256:" + strings.Repeat("A", 64),
		"oci://ghcr.io/example/app@sha512:" + strings.Repeat("a", 128),
		"oci://ghcr.io/example/app@sha256:abc",
		"oci://ghcr.io/Example/app:v1",
		"oci://ghcr.io/example/app:v1\x1b[2J",
		"oci-layout://:v1",
	}
	for _, s := range bad {
		if _, err := oci.ParseReference(s); !errors.Is(err, oci.ErrBadReference) {
			t.Errorf("%q: got %v, want ErrBadReference", s, err)
		}
	}
}

// TestRegistryCA: a TLS registry with a private CA is refused with the
// system roots alone, and reached with the CA added (--registry-ca); plain
// HTTP is not tried in its place.
func TestRegistryCA(t *testing.T) {
	reg, caPEM := ocitest.StartTLS(t)
	pool, err := oci.SystemRootsWith(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	trusting := oci.New(oci.Options{Transport: oci.NewTransport(pool)})
	// Push through the trusting transport.
	img := "oci://" + reg.Host + "/app:v1"
	ocitest.PushImageWith(t, reg.Host+"/app:v1", "tls", oci.NewTransport(pool))
	im := resolve(t, trusting, img)
	attach(t, trusting, im, signed(t, readKey(t, "provenance-signer.key"), statement(im.Digest)))
	v := loadVerifier(t)
	if _, res, err := v.verify(t, trusting, img); err != nil || !res.Passed {
		t.Fatalf("with the CA: %v", err)
	}
	if _, err := oci.New(oci.Options{}).Discover(context.Background(), img); err == nil || !errors.Is(err, oci.ErrRegistry) {
		t.Fatalf("without the CA: got %v, want a TLS failure", err)
	}
	if _, err := oci.SystemRootsWith([]byte("not PEM")); err == nil {
		t.Fatal("a CA file without certificates was accepted")
	}
}

// TestIndex: a multi-platform image is verified by the digest it resolves
// to, as cosign and gh do: provenance attached to the index names the index;
// provenance that names only a platform manifest does not verify the index;
// a platform is verified by its own digest.
func TestIndex(t *testing.T) {
	v := loadVerifier(t)
	signer := readKey(t, "provenance-signer.key")
	reg := ocitest.Start(t, true)
	idx, platforms := ocitest.PushIndex(t, reg.Host+"/multi:v1")
	c := oci.New(oci.Options{})
	im := resolve(t, c, "oci://"+reg.Host+"/multi:v1")
	if im.Digest != idx || !strings.Contains(im.MediaType, "index") {
		t.Fatalf("resolved %s (%s), want the index %s", im.Digest, im.MediaType, idx)
	}
	attach(t, c, im, signed(t, signer, statement(platforms[0])))
	if _, _, err := v.verify(t, c, "oci://"+reg.Host+"/multi:v1"); !errors.Is(err, trustmap.ErrSubjectMismatch) {
		t.Fatalf("platform provenance on the index: got %v, want ErrSubjectMismatch", err)
	}
	attach(t, c, im, signed(t, signer, statement(idx)))
	if _, res, err := v.verify(t, c, "oci://"+reg.Host+"/multi:v1"); err != nil || !res.Passed {
		t.Fatalf("index provenance: %v", err)
	}
	amd := resolve(t, c, "oci://"+reg.Host+"/multi@"+platforms[0])
	attach(t, c, amd, signed(t, signer, statement(platforms[0])))
	if _, res, err := v.verify(t, c, "oci://"+reg.Host+"/multi@"+platforms[0]); err != nil || !res.Passed {
		t.Fatalf("platform by digest: %v", err)
	}
}

// sizeOfBlob reads a blob's size from the registry.
func sizeOfBlob(t testing.TB, host, path string) int {
	resp, err := http.Head("http://" + host + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return int(resp.ContentLength)
}

// TestVSANotFetched: a VSA attached as a referrer (as --attach-vsa does) is
// announced as another predicate, so discovery neither reads it nor counts
// it as provenance.
func TestVSANotFetched(t *testing.T) {
	reg := ocitest.Start(t, true)
	digest := ocitest.PushImage(t, reg.Host+"/app:v1", "app")
	c := oci.New(oci.Options{})
	im := resolve(t, c, "oci://"+reg.Host+"/app:v1")
	signer := readKey(t, "provenance-signer.key")
	vsa := statement(digest)
	vsa["predicateType"] = trustmap.VSAPredicateType
	attach(t, c, im, signed(t, signer, vsa))
	attach(t, c, im, signed(t, signer, statement(digest)))
	reg.Reset()
	d, err := c.Discover(context.Background(), "oci://"+reg.Host+"/app:v1")
	if err != nil || len(d.Attestations) != 1 {
		t.Fatalf("err=%v attestations=%d, want the provenance only", err, len(d.Attestations))
	}
	blobs := 0
	for p := range reg.Count() {
		if strings.Contains(p, "/blobs/") {
			blobs++
		}
	}
	if blobs != 1 {
		t.Fatalf("%d blobs read, want 1 (the VSA is not fetched)", blobs)
	}
	// A verifier that needs VSAs (a policy's source and dependencies) reads
	// them too, apart from the provenance candidates, each blob once.
	reg.Reset()
	d, err = c.WithVSAs().Discover(context.Background(), "oci://"+reg.Host+"/app:v1")
	if err != nil || len(d.Attestations) != 1 || len(d.VSAs) != 1 || !strings.Contains(string(d.VSAs[0].Document), "payload") {
		t.Fatalf("with VSAs: err=%v attestations=%d VSAs=%d", err, len(d.Attestations), len(d.VSAs))
	}
	for p, n := range reg.Count() {
		if strings.Contains(p, "/blobs/") && n != 1 {
			t.Fatalf("%s read %d times", p, n)
		}
	}
}

// TestLayoutBlobThatNeverEnds: a layout blob that is a device (a file that
// never ends) is refused, not read.
func TestLayoutBlobThatNeverEnds(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(cosignLayout)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(cosignDigest, "sha256:"))
	os.Remove(p)
	if err := os.Symlink("/dev/zero", p); err != nil {
		t.Fatal(err)
	}
	_, err := oci.New(oci.Options{}).Discover(context.Background(), "oci-layout://"+dir+"@"+cosignDigest)
	if !errors.Is(err, oci.ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	// A huge (sparse) file is refused at the cap.
	os.Remove(p)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(oci.MaxManifestBytes + 1)
	f.Close()
	_, err = oci.New(oci.Options{}).Discover(context.Background(), "oci-layout://"+dir+"@"+cosignDigest)
	if !errors.Is(err, oci.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

// TestCredentialHelper: a registry that requires credentials refuses
// anonymous reads (ErrUnauthorized) and is read with the credentials a
// Docker credential helper named in the Docker config gives
// (authn.DefaultKeychain, as trustmap uses it), and wrong ones are refused.
func TestCredentialHelper(t *testing.T) {
	reg := ocitest.Start(t, true)
	ocitest.PushLayout(t, cosignLayout, reg.Host+"/hallmark/app")
	reg.Intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if u, p, ok := r.BasicAuth(); ok && u == "ci" && p == "s3cret" {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		return true
	}
	ref := "oci://" + reg.Host + "/hallmark/app:v1"
	if _, err := oci.New(oci.Options{}).Discover(context.Background(), ref); !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("anonymous: got %v, want ErrUnauthorized", err)
	}
	bin, cfg := t.TempDir(), t.TempDir()
	helper := func(secret string) {
		script := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"ci\",\"Secret\":\"" + secret + "\"}' \"$server\"\n"
		if err := os.WriteFile(filepath.Join(bin, "docker-credential-hallmarktest"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	helper("s3cret")
	conf, _ := json.Marshal(map[string]any{"credHelpers": map[string]string{reg.Host: "hallmarktest"}})
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), conf, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("DOCKER_CONFIG", cfg)
	checkCosignFixture(t, oci.New(oci.Options{Keychain: authn.DefaultKeychain}), ref)
	helper("wrong")
	if _, err := oci.New(oci.Options{Keychain: authn.DefaultKeychain}).Discover(context.Background(), ref); !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("wrong credentials from the helper: got %v, want ErrUnauthorized", err)
	}
}
