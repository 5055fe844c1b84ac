package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/provtest"
	"github.com/hallmark-build/hallmark/trustmap/server"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// verifyCase is one line of testdata/verify/cases.json.
type verifyCase struct {
	Name                   string `json:"name"`
	Provenance             string `json:"provenance"`
	Artifact               string `json:"artifact"`
	Policy                 string `json:"policy"`
	Package                string `json:"package"`
	At                     string `json:"at"`
	MinLevel               *int   `json:"minLevel"`
	Legacy                 bool   `json:"legacy"`
	SourceURI              string `json:"sourceUri"`
	SourceRef              string `json:"sourceRef"`
	BuilderID              string `json:"builderId"`
	BuildType              string `json:"buildType"`
	InsecureNoExpectations bool   `json:"insecureNoExpectations"`
	Want                   string `json:"want"`
	Level                  int    `json:"level"`
}

// trustArgs are the flags `trustmap verify` and `trustmap serve` share for
// a case: the same inputs for both.
func (c verifyCase) trustArgs(dir string) []string {
	args := []string{"--roots", filepath.Join(dir, "roots.json"), "--at", c.At}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	if c.Policy != "" {
		add("--policy", filepath.Join(dir, c.Policy))
	}
	if c.MinLevel != nil {
		add("--min-level", strconv.Itoa(*c.MinLevel))
	}
	if c.Legacy {
		args = append(args, "--insecure-allow-legacy-predicate")
	}
	if c.InsecureNoExpectations {
		args = append(args, "--insecure-no-expectations")
	}
	add("--source-uri", c.SourceURI)
	add("--source-ref", c.SourceRef)
	add("--builder-id", c.BuilderID)
	add("--build-type", c.BuildType)
	return args
}

// Every testdata/verify case gives the same verdict, and the same result
// JSON, through `trustmap verify --format json` and through POST /v1/verify
// of a gate started with the same flags: without trust on first use, and
// with it (a fresh --tofu-store database for the CLI, the gate's own store).
func TestServeSameVerdictsAsVerify(t *testing.T) {
	t.Run("no tofu", func(t *testing.T) { sameVerdicts(t, false) })
	t.Run("tofu", func(t *testing.T) { sameVerdicts(t, true) })
}

func sameVerdicts(t *testing.T, tofu bool) {
	dir, err := filepath.Abs("../../testdata/verify")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []verifyCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	vsaKey, err := attest.GenerateKey(attest.ECDSAP256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			artifact := filepath.Join(dir, c.Artifact)
			prov, err := os.ReadFile(filepath.Join(dir, c.Provenance))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(artifact)
			if err != nil {
				t.Fatal(err)
			}

			// The CLI.
			var stdout, stderr bytes.Buffer
			args := append([]string{"verify", "--format", "json", "--provenance", filepath.Join(dir, c.Provenance)}, c.trustArgs(dir)...)
			if c.Package != "" {
				args = append(args, "--package", c.Package)
			}
			serveArgs := append(c.trustArgs(dir), "--insecure-no-tofu", "--verifier-id", "https://registry.example/gate")
			if tofu {
				if c.Package == "" || c.InsecureNoExpectations {
					return // trust on first use needs a package; it contradicts no expectations
				}
				args = append(args, "--tofu-store", "sqlite:"+filepath.Join(t.TempDir(), "tofu.db"))
				serveArgs = serveArgs[:len(serveArgs)-3]
				serveArgs = append(serveArgs, "--verifier-id", "https://registry.example/gate")
			}
			code := cli.Execute(newRoot(testEnv(&stdout, &stderr)), append(args, artifact))

			// The gate, configured by serve's own flag parsing.
			var trust *server.Trust
			e := testEnv(io.Discard, io.Discard)
			cmd := newServeCmdWith(e, func(ctx context.Context, f serveFlags) error {
				var err error
				trust, err = loadTrust(ctx, e, f, vsaKey)
				return err
			})
			cmd.SetArgs(serveArgs)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			if err := cmd.Execute(); err != nil {
				// Inputs refused when loaded: the CLI refuses them too.
				if code != cli.ExitUsage || !bytes.Contains(stderr.Bytes(), []byte(err.Error())) {
					t.Fatalf("serve refused the inputs (%v); verify exited %d: %s", err, code, stderr.String())
				}
				return
			}
			st, err := store.Open(context.Background(), "sqlite::memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			at, _ := time.Parse(time.RFC3339, c.At)
			srv, err := server.New(trust, st, server.Options{Now: func() time.Time { return at }, Tokens: []server.Token{server.HashToken("ci", "t")}})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			body, _ := json.Marshal(server.UploadRequest{Package: c.Package, Provenance: string(prov),
				Artifacts: []server.ArtifactRef{{Name: artifact, Digest: map[string]string{"sha256": provtest.Digest(data), "sha512": sha512Hex(data)}}}})
			status, answer := post(t, hs.URL+"/v1/verify", "t", bytes.NewReader(body))

			wantStatus := map[int]int{cli.ExitOK: 200, cli.ExitFailed: 422}[code]
			if status != wantStatus {
				t.Fatalf("verify exited %d, the gate answered %d: %s\n%s", code, status, answer, stderr.String())
			}
			var resp server.VerifyResponse
			if err := json.Unmarshal(answer, &resp); err != nil {
				t.Fatal(err)
			}
			var fromCLI, fromGate any
			if err := json.Unmarshal(stdout.Bytes(), &fromCLI); err != nil {
				t.Fatalf("verify --format json: %v: %s", err, stdout.String())
			}
			if err := json.Unmarshal(resp.Result, &fromGate); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromCLI, fromGate) {
				t.Fatalf("different results:\nverify: %s\ngate:   %s", stdout.String(), resp.Result)
			}
			if c.Want != "" && (resp.Error == nil || (resp.Error.Code != c.Want && !slices.Contains(resp.Error.Codes, c.Want))) {
				t.Fatalf("gate error %+v, want %s", resp.Error, c.Want)
			}
			compared++
		})
	}
	t.Logf("%d of %d cases compared through both paths", compared, len(cases))
	if compared < len(cases)/2 {
		t.Fatalf("only %d of %d cases were compared through both paths", compared, len(cases))
	}
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}
