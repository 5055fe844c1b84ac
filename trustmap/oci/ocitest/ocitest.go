// Package ocitest runs go-containerregistry's in-process registry on a
// loopback port for tests, counts the requests it serves, and pushes small
// images to it.
package ocitest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

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

	mu  sync.Mutex
	log []string // "METHOD PATH"
}

// Start starts a registry; with referrersAPI it serves the OCI 1.1
// referrers API, otherwise clients fall back to the sha256-HEX tag.
func Start(t testing.TB, referrersAPI bool) *Registry {
	t.Helper()
	reg := &Registry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(referrersAPI))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg.mu.Lock()
		reg.log = append(reg.log, r.Method+" "+r.URL.Path)
		icpt := reg.Intercept
		reg.mu.Unlock()
		if icpt != nil && icpt(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	reg.Host = strings.TrimPrefix(srv.URL, "http://")
	return reg
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
	img, err := mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1),
		static.NewLayer([]byte(content), types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
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
func PushLayout(t testing.TB, dir, repo string) {
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
				err = remote.WriteIndex(ref(d), ii)
			} else {
				img, err2 := idx.Image(d.Digest)
				if err2 != nil {
					t.Fatal(err2)
				}
				err = remote.Write(ref(d), img)
			}
			if err != nil {
				t.Fatalf("push %s: %v", d.Digest, err)
			}
		}
	}
}
