package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/provtest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

var (
	verifyDir = filepath.Join(provtest.Root(), "testdata", "verify")
	testAt    = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	appDigest = "6c0f0caed284b2d6335d648479bfdb89e6b5b66c9c5d31f88a9545657e3a9a41"
)

const testToken = "tmk_test-token"

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(verifyDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testTrust is testdata/verify's roots and policy, TOFU on, a fresh VSA key.
func testTrust(t testing.TB) *Trust {
	t.Helper()
	key, err := attest.GenerateKey(attest.ECDSAP256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	trust, err := trustWithKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

// trustWithKey is testdata/verify's roots and policy, TOFU on.
func trustWithKey(key *attest.PrivateKey) (*Trust, error) {
	rb, err := os.ReadFile(filepath.Join(verifyDir, "roots.json"))
	if err != nil {
		return nil, err
	}
	roots, err := trustmap.ParseRoots(rb)
	if err != nil {
		return nil, err
	}
	pb, err := os.ReadFile(filepath.Join(verifyDir, "policy.json"))
	if err != nil {
		return nil, err
	}
	policy, err := trustmap.ParsePolicy(pb)
	if err != nil {
		return nil, err
	}
	return &Trust{Roots: roots, Policy: policy, PolicyData: pb, PolicyURI: "file:///srv/gate/policy.json", TOFU: true,
		VSAKey: key, VerifierID: "https://registry.example/gate", Options: trustmap.VerifyOptions{MinLevel: 1}}, nil
}

type testServer struct {
	*Server
	URL   string
	store *store.DB
	http  *httptest.Server
}

func openTestStore(t testing.TB) *store.DB {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newTestServer(t testing.TB, trust *Trust, st *store.DB, o Options) *testServer {
	t.Helper()
	if trust == nil {
		trust = testTrust(t)
	}
	if st == nil {
		st = openTestStore(t)
	}
	if o.Now == nil {
		o.Now = func() time.Time { return testAt }
	}
	if o.Tokens == nil {
		o.Tokens = []Token{HashToken("ci", testToken)}
	}
	s, err := New(trust, st, o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &testServer{Server: s, URL: hs.URL, store: st, http: hs}
}

// upload is an upload of testdata/verify's artifact with a case's
// provenance.
func upload(t testing.TB, pkg, provenanceFile string) []byte {
	t.Helper()
	return mustJSON(t, UploadRequest{
		Package:    pkg,
		Artifacts:  []ArtifactRef{{Name: "app-1.2.3.tar.gz", Digest: map[string]string{"sha256": appDigest}}},
		Provenance: string(readFile(t, provenanceFile)),
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type answer struct {
	Code int
	Body []byte
}

func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.Body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v: %s", a.Code, err, a.Body)
	}
}

// errorCode is the error code of an error answer.
func (a answer) errorCode(t testing.TB) string {
	t.Helper()
	var e struct {
		Error *ErrorBody `json:"error"`
	}
	a.decode(t, &e)
	if e.Error == nil {
		t.Fatalf("answer %d has no error: %s", a.Code, a.Body)
	}
	return e.Error.Code
}

func do(t testing.TB, method, url, token string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, b}
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func approverKeys(t testing.TB, n int) []*attest.PrivateKey {
	t.Helper()
	var out []*attest.PrivateKey
	for range n {
		k, err := attest.GenerateKey(attest.Ed25519, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k)
	}
	return out
}

func testTrustNoPolicy(b testing.TB) *Trust {
	t := testTrust(b)
	t.Policy, t.PolicyData = nil, nil
	return t
}
