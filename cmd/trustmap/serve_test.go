package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
	"github.com/hallmark-build/hallmark/trustmap/server"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testEnv(stdout, stderr io.Writer) *env {
	return &env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr,
		Getenv: func(k string) string {
			if k == cli.PasswordEnv {
				return "auditor-test-password"
			}
			return ""
		},
		Now: func() time.Time { return testNow }, Rand: rand.Reader,
		ReadPassword: func(string) ([]byte, error) { return nil, cli.ErrNoPassword },
		Workers:      2,
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

type running struct {
	url   string
	token string
	dir   string
	sigs  chan os.Signal
	done  chan error
	log   *syncBuffer
}

// startServe runs `trustmap serve` in-process on a loopback port, with
// testdata/verify's roots copied to DIR/roots.json.
func startServe(t *testing.T, args ...string) *running {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, "../../testdata/keys/auditor.key", filepath.Join(dir, "vsa.key"))
	copyFile(t, "../../testdata/verify/roots.json", filepath.Join(dir, "roots.json"))
	r := &running{dir: dir, sigs: make(chan os.Signal, 1), done: make(chan error, 1), log: &syncBuffer{}}
	var out bytes.Buffer
	tok := newRoot(testEnv(&out, io.Discard))
	tok.SetArgs([]string{"serve", "new-token", "ci", "--tokens", filepath.Join(dir, "tokens.txt")})
	if err := tok.Execute(); err != nil {
		t.Fatal(err)
	}
	r.token = strings.TrimSpace(out.String())
	e := testEnv(io.Discard, r.log)
	addr := make(chan net.Addr, 1)
	cmd := newServeCmdWith(e, func(ctx context.Context, f serveFlags) error {
		return runServe(ctx, e, f, r.sigs, func(a net.Addr) { addr <- a })
	})
	cmd.SetArgs(append([]string{"--roots", filepath.Join(dir, "roots.json"), "--store", "sqlite:" + filepath.Join(dir, "gate.db"), "--listen", "127.0.0.1:0",
		"--vsa-key", filepath.Join(dir, "vsa.key"), "--verifier-id", "https://registry.example/gate",
		"--tokens", filepath.Join(dir, "tokens.txt")}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	go func() { r.done <- cmd.ExecuteContext(context.Background()) }()
	select {
	case a := <-addr:
		r.url = "http://" + a.String()
	case err := <-r.done:
		t.Fatalf("serve stopped: %v\n%s", err, r.log)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	select {
	case r.sigs <- syscall.SIGTERM:
	default:
	}
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Error("serve did not stop")
	}
}

func post(t *testing.T, url, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, body)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func uploadBody(t *testing.T, pkg, prov string) []byte {
	t.Helper()
	b, err := json.Marshal(server.UploadRequest{Package: pkg, Provenance: string(readTestdata(t, prov)),
		Artifacts: []server.ArtifactRef{{Name: "app-1.2.3.tar.gz", Digest: map[string]string{"sha256": "6c0f0caed284b2d6335d648479bfdb89e6b5b66c9c5d31f88a9545657e3a9a41"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/verify", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readyz(t *testing.T, url string) server.Readiness {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rd server.Readiness
	if err := json.NewDecoder(resp.Body).Decode(&rd); err != nil {
		t.Fatal(err)
	}
	return rd
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 400; i++ {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestServeReloadKeepsPreviousOnBadFile(t *testing.T) {
	r := startServe(t)
	if code, b := post(t, r.url+"/v1/verify", r.token, bytes.NewReader(uploadBody(t, "app", "cases/pass-no-policy.intoto.jsonl"))); code != 200 {
		t.Fatalf("upload: %d %s", code, b)
	}
	// A broken roots file: the reload is refused, the service keeps going.
	if err := os.WriteFile(filepath.Join(r.dir, "roots.json"), []byte(`{"schema": "nope"`), 0o644); err != nil {
		t.Fatal(err)
	}
	r.sigs <- syscall.SIGHUP
	waitFor(t, "the failed reload", func() bool { rd := readyz(t, r.url); return rd.LastReload != nil && rd.LastReload.Error != "" })
	if !strings.Contains(r.log.String(), "reload failed: keeping the previous roots and policy") {
		t.Fatalf("log: %s", r.log)
	}
	if code, b := post(t, r.url+"/v1/verify", r.token, bytes.NewReader(uploadBody(t, "lib", "cases/pass-no-policy.intoto.jsonl"))); code != 200 {
		t.Fatalf("upload after a bad reload: %d %s", code, b)
	}
	// A good file is applied.
	copyFile(t, "../../testdata/verify/roots.json", filepath.Join(r.dir, "roots.json"))
	r.sigs <- syscall.SIGHUP
	waitFor(t, "the good reload", func() bool { rd := readyz(t, r.url); return rd.LastReload != nil && rd.LastReload.Error == "" })
}

// SIGTERM lets a request in flight finish before the service stops.
func TestServeGracefulShutdown(t *testing.T) {
	r := startServe(t)
	body := uploadBody(t, "app", "cases/pass-no-policy.intoto.jsonl")
	pr, pw := io.Pipe()
	type result struct {
		code int
		body []byte
	}
	res := make(chan result, 1)
	go func() {
		code, b := post(t, r.url+"/v1/verify", r.token, pr)
		res <- result{code, b}
	}()
	pw.Write(body[:len(body)/2])
	time.Sleep(100 * time.Millisecond) // the request is in the handler, reading its body
	r.sigs <- syscall.SIGTERM
	time.Sleep(100 * time.Millisecond)
	pw.Write(body[len(body)/2:])
	pw.Close()
	got := <-res
	if got.code != 200 {
		t.Fatalf("in-flight request: %d %s", got.code, got.body)
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	r.done <- nil // for the cleanup
	if _, err := http.Get(r.url + "/healthz"); err == nil {
		t.Fatal("still serving after SIGTERM")
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--vsa-key", "k", "--verifier-id", "x"},
		{"serve", "--roots", "r.json"},
		{"serve", "--roots", "r.json", "--vsa-key", "k", "--verifier-id", "x", "--client-ca", "ca.pem"},
		{"serve", "new-token", "has space", "--tokens", "t"},
	} {
		var stderr bytes.Buffer
		if code := cli.Execute(newRoot(testEnv(io.Discard, &stderr)), args); code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr.String())
		}
	}
}

func TestReadTokens(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(fmt.Sprintf("# writers\nci sha256:%s\n\n", strings.Repeat("ab", 32))), 0o600)
	if toks, err := readTokens(good); err != nil || len(toks) != 1 || toks[0].Name != "ci" {
		t.Fatalf("%v %+v", err, toks)
	}
	for _, bad := range []string{"ci tmk_plaintext-token\n", "ci sha256:abcd\n", "ci\n", "ci sha256:" + strings.Repeat("ab", 32) + " extra\n"} {
		p := filepath.Join(dir, "bad")
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := readTokens(p); err == nil {
			t.Errorf("accepted %q", bad)
		} else if strings.Contains(err.Error(), "tmk_plaintext") {
			t.Errorf("the error echoes the file's content: %v", err)
		}
	}
}

// TestServeImageRegistry: with --image-registry, an upload names an image
// in that registry and the gate verifies the provenance attached to it;
// an image in another registry is refused without a request to it.
func TestServeImageRegistry(t *testing.T) {
	reg := ocitest.Start(t, false) // the referrers tag, as distribution 2.8
	ocitest.PushLayout(t, "../../testdata/oci/cosign-key", reg.Host+"/hallmark/app")
	other := ocitest.Start(t, true)
	r := startServe(t, "--policy", "../../testdata/verify/policy.json", "--image-registry", reg.Host, "--at", "2026-12-01T00:00:00Z")
	code, body := post(t, r.url+"/v1/verify", r.token, strings.NewReader(`{"package":"example-app","image":"oci://`+reg.Host+`/hallmark/app:v1"}`))
	var v server.VerifyResponse
	if err := json.Unmarshal(body, &v); err != nil || code != 200 || !v.Passed || v.Level != 3 {
		t.Fatalf("image upload: %d %s", code, body)
	}
	code, body = post(t, r.url+"/v1/verify", r.token, strings.NewReader(`{"package":"example-app","image":"oci://`+other.Host+`/hallmark/app:v1"}`))
	if code != 403 || !strings.Contains(string(body), `"ErrImageNotAllowed"`) || len(other.Requests()) != 0 {
		t.Fatalf("another registry: %d %s (%d requests to it)", code, body, len(other.Requests()))
	}
	// --image-registry names hosts, not repositories or references.
	dir := t.TempDir()
	copyFile(t, "../../testdata/keys/auditor.key", filepath.Join(dir, "vsa.key"))
	for _, bad := range []string{reg.Host + "/hallmark", "oci://" + reg.Host, "Registry Example"} {
		var stderr bytes.Buffer
		args := []string{"serve", "--roots", "../../testdata/verify/roots.json", "--vsa-key", filepath.Join(dir, "vsa.key"), "--verifier-id", "x",
			"--store", "sqlite:" + filepath.Join(dir, "gate.db"), "--image-registry", bad}
		if code := cli.Execute(newRoot(testEnv(io.Discard, &stderr)), args); code != cli.ExitUsage || !strings.Contains(stderr.String(), "expected a registry host") {
			t.Errorf("--image-registry %q: exit %d: %s", bad, code, stderr.String())
		}
	}
}

// SIGHUP applies a changed policy to the next upload (the same upload
// posted again is verified anew, not replayed); a broken policy file keeps
// the one in force.
func TestServeReloadPolicy(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	copyFile(t, "../../testdata/verify/policy.json", policy)
	r := startServe(t, "--policy", policy, "--insecure-no-tofu")
	body := uploadBody(t, "example-app", "cases/pass-policy-l3.intoto.jsonl")
	if code, b := post(t, r.url+"/v1/verify", r.token, bytes.NewReader(body)); code != 200 {
		t.Fatalf("upload: %d %s", code, b)
	}
	// Broken: kept.
	if err := os.WriteFile(policy, []byte(`{"packages":`), 0o600); err != nil {
		t.Fatal(err)
	}
	r.sigs <- syscall.SIGHUP
	waitFor(t, "the failed reload", func() bool { rd := readyz(t, r.url); return rd.LastReload != nil && rd.LastReload.Error != "" })
	if code, b := post(t, r.url+"/v1/verify", r.token, bytes.NewReader(body)); code != 200 || !strings.Contains(string(b), `"replayed":true`) {
		t.Fatalf("after a bad reload: %d %s", code, b)
	}
	// Changed: the package now comes from another repository.
	b, err := os.ReadFile("../../testdata/verify/policy.json")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(b), `"equals": "https://git.example.com/app"`, `"equals": "https://git.example.com/moved"`, 1)
	if changed == string(b) {
		t.Fatal("the policy does not pin the repository")
	}
	if err := os.WriteFile(policy, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	r.sigs <- syscall.SIGHUP
	waitFor(t, "the good reload", func() bool { rd := readyz(t, r.url); return rd.LastReload != nil && rd.LastReload.Error == "" })
	code, got := post(t, r.url+"/v1/verify", r.token, bytes.NewReader(body))
	var v server.VerifyResponse
	if err := json.Unmarshal(got, &v); err != nil || code != 422 || v.Replayed || v.Error == nil || v.Error.Code != "ErrParameterMismatch" {
		t.Fatalf("after the policy changed: %d %s", code, got)
	}
}
