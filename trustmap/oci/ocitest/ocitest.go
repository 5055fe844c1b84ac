// Package ocitest runs go-containerregistry's in-process registry on a
// loopback port for tests, counts the requests it serves, and pushes small
// images to it.
package ocitest

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is an in-process registry on 127.0.0.1, stopped when the test
// ends.
type Registry struct {
	Host string
	// Intercept, when set, may answer a request itself (return true).
	Intercept func(w http.ResponseWriter, r *http.Request) bool

	h   http.Handler
	mu  sync.Mutex
	log []string // "METHOD PATH"
}

// Start starts a registry; with referrersAPI it serves the OCI 1.1
// referrers API, otherwise clients fall back to the sha256-HEX tag.
func Start(t testing.TB, referrersAPI bool) *Registry {
	t.Helper()
	return start(t, registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrersAPI)))
}

// StartTLS starts the in-process registry (with the referrers API) over
// TLS with a self-signed certificate, which it returns in PEM for clients
// to trust.
func StartTLS(t testing.TB) (*Registry, []byte) {
	t.Helper()
	reg := newRegistry(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)))
	srv := httptest.NewUnstartedServer(reg.handler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the plain-HTTP probes of loopback
	srv.StartTLS()
	t.Cleanup(srv.Close)
	reg.Host = strings.TrimPrefix(srv.URL, "https://")
	return reg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// start serves h on loopback behind the request log and Intercept.
func start(t testing.TB, h http.Handler) *Registry {
	reg := newRegistry(h)
	srv := httptest.NewServer(reg.handler())
	t.Cleanup(srv.Close)
	reg.Host = strings.TrimPrefix(srv.URL, "http://")
	return reg
}

func newRegistry(h http.Handler) *Registry { return &Registry{h: h} }

func (reg *Registry) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg.mu.Lock()
		reg.log = append(reg.log, r.Method+" "+r.URL.Path)
		icpt := reg.Intercept
		reg.mu.Unlock()
		if icpt != nil && icpt(w, r) {
			return
		}
		reg.h.ServeHTTP(w, r)
	})
}

// Reset forgets the requests served so far.
func (r *Registry) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = nil
}

// Requests returns the requests served, as "METHOD PATH".
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

// Count returns how many times each GET under /blobs/ or /manifests/ was
// served, by path.
func (r *Registry) Count() map[string]int {
	out := map[string]int{}
	for _, l := range r.Requests() {
		if strings.HasPrefix(l, "GET ") && (strings.Contains(l, "/blobs/") || strings.Contains(l, "/manifests/")) {
			out[strings.TrimPrefix(l, "GET ")]++
		}
	}
	return out
}

// PushImage pushes a one-layer OCI image whose layer holds content to ref
// (HOST/REPO:TAG) and returns its digest.
func PushImage(t testing.TB, ref, content string) string {
	t.Helper()
	return PushImageWith(t, ref, content, remote.DefaultTransport)
}

// PushImageWith is PushImage through transport tr.
func PushImageWith(t testing.TB, ref, content string, tr http.RoundTripper) string {
	t.Helper()
	img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
		static.NewLayer([]byte(content), types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, remote.WithTransport(tr)); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// PushLayout pushes every manifest of an OCI image layout to repo
// (HOST/REPO), under the tags its ref.name annotations give (REPO:TAG or
// TAG) or by digest: images first, then indexes.
// Options such as the credentials or the transport are passed on.
func PushLayout(t testing.TB, dir, repo string, opts ...remote.Option) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	ref := func(d v1.Descriptor) name.Reference {
		n := d.Annotations["org.opencontainers.image.ref.name"]
		if i := strings.LastIndex(n, ":"); i >= 0 && !strings.Contains(n[:i], "@") {
			r, err := name.ParseReference(repo + ":" + n[i+1:])
			if err == nil {
				return r
			}
		}
		r, err := name.ParseReference(repo + "@" + d.Digest.String())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, pass := range []bool{false, true} {
		for _, d := range im.Manifests {
			if d.MediaType.IsIndex() != pass {
				continue
			}
			if pass {
				ii, err := idx.ImageIndex(d.Digest)
				if err != nil {
					t.Fatal(err)
				}
				err = remote.WriteIndex(ref(d), ii, opts...)
			} else {
				img, err2 := idx.Image(d.Digest)
				if err2 != nil {
					t.Fatal(err2)
				}
				err = remote.Write(ref(d), img, opts...)
			}
			if err != nil {
				t.Fatalf("push %s: %v", d.Digest, err)
			}
		}
	}
}

// StartDistribution starts Debian's docker-registry (distribution 2.8, no
// referrers API) on a free loopback port with a temporary storage
// directory, behind a counting proxy, and stops it when the test ends. With
// htpasswd (a bcrypt htpasswd file's content) the registry requires basic
// auth. It fails the test when docker-registry is not installed.
func StartDistribution(t testing.TB, htpasswd string) *Registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry is not installed (apt-get install docker-registry): %v", err)
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", filepath.Join(dir, "storage"), addr)
	if htpasswd != "" {
		hp := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(hp, []byte(htpasswd), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", hp)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", cfgPath)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("docker-registry did not stop")
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("docker-registry exited: %s", logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if i > 200 {
			t.Fatalf("docker-registry did not start on %s: %s", addr, logs.String())
		}
	}
	u, _ := url.Parse("http://" + addr)
	return start(t, httputil.NewSingleHostReverseProxy(u))
}

// PushCosignAtt pushes a manifest as cosign writes its attachment tag
// (REPO:sha256-HEX.att for the image digest): one DSSE layer with the
// annotations given.
func PushCosignAtt(t testing.TB, repo, digest string, envelope []byte, ann map[string]string) {
	t.Helper()
	img, err := mutate.Append(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
		mutate.Addendum{Layer: static.NewLayer(envelope, "application/vnd.dsse.envelope.v1+json"), Annotations: ann})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(repo + ":" + strings.Replace(digest, ":", "-", 1) + ".att")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
}

// PushIndex pushes a two-platform image index (linux/amd64, linux/arm64)
// to ref and returns its digest and its platform manifests' digests.
func PushIndex(t testing.TB, ref string) (string, []string) {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var platforms []string
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
			static.NewLayer([]byte("app for "+arch), types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		platforms = append(platforms, d.String())
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return d.String(), platforms
}
