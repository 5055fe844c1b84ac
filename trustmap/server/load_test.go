package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/provtest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// loadInputs are n uploads of distinct artifacts over 50 packages, written
// as files and a batch manifest too: the same inputs for both paths.
type loadInputs struct {
	bodies   [][]byte
	manifest []byte
	dir      string
}

func makeLoadInputs(b *testing.B, n int) *loadInputs {
	b.Helper()
	key, err := provtest.Signer()
	if err != nil {
		b.Fatal(err)
	}
	in := &loadInputs{dir: b.TempDir()}
	var manifest bytes.Buffer
	for i := range n {
		artifact := []byte(fmt.Sprintf("release %d of a package\n", i))
		d := provtest.Digest(artifact)
		prov, err := provtest.Provenance(key, "app.tgz", d, provtest.Parameters())
		if err != nil {
			b.Fatal(err)
		}
		pkg := fmt.Sprintf("pkg-%d", i%50)
		in.bodies = append(in.bodies, mustJSON(b, UploadRequest{Package: pkg, Provenance: string(prov),
			Artifacts: []ArtifactRef{{Name: "app.tgz", Digest: map[string]string{"sha256": d}}}}))
		a, p := fmt.Sprintf("a%d.tgz", i), fmt.Sprintf("a%d.intoto.jsonl", i)
		if err := os.WriteFile(filepath.Join(in.dir, a), artifact, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in.dir, p), prov, 0o644); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&manifest, `{"artifact":%q,"provenance":%q,"package":%q}`+"\n", a, p, pkg)
	}
	in.manifest = manifest.Bytes()
	return in
}

// runBatch verifies the manifest as `trustmap verify --batch` does: files
// read per item, 2 workers per core, a JSON line per result. With a key it
// also signs a VSA per item, as `--batch --vsa-out DIR` does (kept in
// memory, not written).
func runBatch(b *testing.B, in *loadInputs, roots *trustmap.Roots, key *attest.PrivateKey) time.Duration {
	o := trustmap.VerifyOptions{At: testAt, MinLevel: 1, Expect: &trustmap.Expectations{SourceURI: "https://git.example.com/app"}}
	var vsas sync.Map
	verify := func(ctx context.Context, it trustmap.BatchItem) (*trustmap.Result, error) {
		prov, err := limitio.ReadFile(filepath.Join(in.dir, it.Provenance), trustmap.MaxProvenanceBytes)
		if err != nil {
			return nil, err
		}
		o := o
		o.Package = it.Package
		art := trustmap.FileArtifact(filepath.Join(in.dir, it.Artifact))
		res, verr := trustmap.Verify(ctx, roots, prov, []*trustmap.Artifact{art}, o)
		if key != nil && res != nil {
			d, err := art.Digest("sha256")
			if err != nil {
				return nil, err
			}
			st, err := trustmap.NewVSA(res, trustmap.VSAOptions{VerifierID: "https://registry.example/batch",
				ResourceURI: trustmap.ResourceURIFor(it.Package, d), Subjects: map[string]string{it.Artifact: d},
				PolicyURI: trustmap.InlineExpectationsURI, PolicyData: []byte(`{"sourceUri":"https://git.example.com/app"}`),
				InputAttestations: []trustmap.VSARef{{URI: "file:///" + it.Provenance, Digest: map[string]string{"sha256": provtest.Digest(prov)}}}, At: testAt})
			if err != nil {
				return nil, err
			}
			env, err := trustmap.SignVSA(ctx, st, key)
			if err != nil {
				return nil, err
			}
			vsas.Store(it.Line, env)
		}
		return res, verr
	}
	start := time.Now()
	failed, err := trustmap.RunBatch(context.Background(), bytes.NewReader(in.manifest), 2*runtime.GOMAXPROCS(0), verify, func(r trustmap.BatchResult) {
		io.Discard.Write(r.MarshalLine())
	})
	if err != nil || failed != 0 {
		b.Fatalf("batch: %d failed, %v", failed, err)
	}
	return time.Since(start)
}

// runGate posts every upload to two replicas over one store from
// 2 clients per core, and returns the elapsed time and each latency.
func runGate(b *testing.B, in *loadInputs, open func() *store.DB) (time.Duration, []time.Duration) {
	var urls []string
	for range 2 {
		s, err := New(testTrustNoPolicy(b), open(), Options{Now: func() time.Time { return testAt }, Tokens: []Token{HashToken("ci", testToken)}})
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(s)
		b.Cleanup(hs.Close)
		urls = append(urls, hs.URL)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	work := make(chan int)
	lat := make([]time.Duration, len(in.bodies))
	var wg sync.WaitGroup
	start := time.Now()
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", urls[i%2]+"/v1/verify", bytes.NewReader(in.bodies[i]))
				req.Header.Set("Authorization", "Bearer "+testToken)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					continue
				}
				var v VerifyResponse
				json.NewDecoder(resp.Body).Decode(&v)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 200 || !v.Passed || v.Replayed {
					b.Errorf("upload %d: %d passed=%v replayed=%v", i, resp.StatusCode, v.Passed, v.Replayed)
				}
			}
		}()
	}
	for i := range in.bodies {
		work <- i
	}
	close(work)
	wg.Wait()
	return time.Since(start), lat
}

func testTrustNoPolicy(b testing.TB) *Trust {
	t := testTrust(b)
	t.Policy, t.PolicyData = nil, nil
	return t
}

// BenchmarkGateVsBatch is the bounded load test: a fixed number of uploads
// (distinct artifacts, 50 packages) through two gate replicas on loopback
// sharing one SQLite store (verify, pin, sign a VSA, archive, answer), and
// the same inputs through the batch verifier, in the same run on the same
// cores. Reported: gate verifications/s and p99 latency, batch
// verifications/s, and their ratio (the target is >= 0.7); and the batch
// verifier signing a VSA per item as well, with the gate's ratio to it.
//
//	go test ./trustmap/server -run XXX -bench GateVsBatch -benchtime 1x
func BenchmarkGateVsBatch(b *testing.B) {
	const n = 1000
	in := makeLoadInputs(b, n)
	roots := testTrust(b).Roots
	benchGateVsBatch(b, in, roots, func() func() *store.DB {
		// SQLite is one host's embedded store: the replicas of one
		// process share its handle (PostgreSQL replicas each have their
		// own: BenchmarkGateVsBatchPostgres, e2e).
		st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(b.TempDir(), "gate.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return func() *store.DB { return st }
	})
}

func benchGateVsBatch(b *testing.B, in *loadInputs, roots *trustmap.Roots, newDB func() func() *store.DB) {
	key, err := attest.GenerateKey(attest.ECDSAP256, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	var gateTotal, batchTotal, batchVSATotal time.Duration
	var gateCPU, batchCPU time.Duration
	var lats []time.Duration
	for range b.N {
		open := newDB() // a fresh database: every upload is a first verification
		b.StartTimer()
		c0 := cpuTime()
		batchTotal += runBatch(b, in, roots, nil)
		c1 := cpuTime()
		batchVSATotal += runBatch(b, in, roots, key)
		c2 := cpuTime()
		el, lat := runGate(b, in, open)
		c3 := cpuTime()
		b.StopTimer()
		batchCPU += c1 - c0
		gateCPU += c3 - c2
		gateTotal += el
		lats = append(lats, lat...)
	}
	slices.Sort(lats)
	n := float64(len(in.bodies) * b.N)
	gateRate, batchRate, batchVSARate := n/gateTotal.Seconds(), n/batchTotal.Seconds(), n/batchVSATotal.Seconds()
	b.ReportMetric(gateRate, "gate-verifications/s")
	b.ReportMetric(batchRate, "batch-verifications/s")
	b.ReportMetric(gateRate/batchRate, "gate/batch")
	// The batch verifier signing a VSA per item too (--vsa-out): what the
	// gate adds beyond the signature (archive, pins, HTTP).
	b.ReportMetric(batchVSARate, "batch-vsa-verifications/s")
	b.ReportMetric(gateRate/batchVSARate, "gate/batch-vsa")
	// CPU time per verification (this process: the gate's includes its
	// clients), and the ratio of throughput per CPU-second that follows:
	// unlike the rates, it does not move with other work on the machine.
	if gateCPU > 0 && batchCPU > 0 {
		b.ReportMetric(float64(gateCPU.Microseconds())/n, "gate-cpu-us/op")
		b.ReportMetric(float64(batchCPU.Microseconds())/n, "batch-cpu-us/op")
		b.ReportMetric(batchCPU.Seconds()/gateCPU.Seconds(), "gate/batch-per-cpu")
	}
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "cores")
}
