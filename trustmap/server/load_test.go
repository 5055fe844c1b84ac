package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/cputime"
	"github.com/hallmark-build/hallmark/internal/provtest"
)

// loadInputs are n uploads of distinct artifacts over 50 packages, written
// as files and a batch manifest too: the same inputs for both paths, and
// the files both commands are started with.
type loadInputs struct {
	bodies [][]byte
	dir    string
	// manifest, roots, vsaKey and tokens are files in dir.
	manifest, roots, vsaKey, tokens string
}

func makeLoadInputs(b *testing.B, n int) *loadInputs {
	b.Helper()
	key, err := provtest.Signer()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	in := &loadInputs{dir: dir, manifest: filepath.Join(dir, "manifest.jsonl"), roots: filepath.Join(verifyDir, "roots.json"),
		tokens: filepath.Join(dir, "tokens.txt")}
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
		writeFile(b, filepath.Join(dir, a), artifact, 0o644)
		writeFile(b, filepath.Join(dir, p), prov, 0o644)
		fmt.Fprintf(&manifest, `{"artifact":%q,"provenance":%q,"package":%q}`+"\n", a, p, pkg)
	}
	writeFile(b, in.manifest, manifest.Bytes(), 0o644)
	_, in.vsaKey = vsaKeyFile(b)
	sum := sha256.Sum256([]byte(testToken))
	writeFile(b, in.tokens, []byte("ci sha256:"+hex.EncodeToString(sum[:])+"\n"), 0o600)
	return in
}

func writeFile(b *testing.B, path string, data []byte, perm os.FileMode) {
	b.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		b.Fatal(err)
	}
}

// trustOptions are the flags both commands verify with: the same roots,
// time and expectations as the in-process tests.
func (in *loadInputs) trustOptions() []string {
	return []string{"--roots", in.roots, "--at", testAt.Format(time.RFC3339), "--min-level", "1", "--source-uri", "https://git.example.com/app"}
}

// buildTrustmap builds the trustmap command once per test binary, into a
// directory TestMain removes.
var buildTrustmap = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "trustmap-bench-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "trustmap")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hallmark-build/hallmark/cmd/trustmap").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/trustmap: %v\n%s", err, out)
	}
	return bin, nil
})

var binDir string // removed by TestMain

func trustmapBin(b *testing.B) string {
	b.Helper()
	bin, err := buildTrustmap()
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// runBatch runs `trustmap verify --batch` on the manifest in a child
// process; with vsa, `--vsa-dir` too, signing and writing a VSA per item as
// the gate does. It returns the elapsed time and the child's CPU time,
// start-up included.
func runBatch(b *testing.B, in *loadInputs, vsa bool) (elapsed, cpu time.Duration) {
	args := append([]string{"verify", "--batch", in.manifest}, in.trustOptions()...)
	if vsa {
		dir := filepath.Join(b.TempDir(), "vsas")
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		args = append(args, "--vsa-dir", dir, "--vsa-key", in.vsaKey, "--verifier-id", "https://registry.example/batch")
	}
	cmd := exec.Command(trustmapBin(b), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("trustmap %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	elapsed = time.Since(start)
	if n := bytes.Count(stdout.Bytes(), []byte(`"passed":true`)); n != len(in.bodies) {
		b.Fatalf("batch: %d of %d passed", n, len(in.bodies))
	}
	return elapsed, processCPU(cmd.ProcessState)
}

// processCPU is the user and system CPU time of an ended process.
func processCPU(ps *os.ProcessState) time.Duration { return ps.UserTime() + ps.SystemTime() }

// replica is a `trustmap serve` child process.
type replica struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listeningAddr = regexp.MustCompile(`msg="trustmap serve listening" addr=(127\.0\.0\.1:[0-9]+)`)

// startReplica starts `trustmap serve` on a free loopback port over the
// store and returns once it listens.
func startReplica(b *testing.B, in *loadInputs, storeURI string) *replica {
	b.Helper()
	args := append([]string{"serve", "--store", storeURI, "--listen", "127.0.0.1:0", "--vsa-key", in.vsaKey,
		"--verifier-id", "https://registry.example/gate", "--tokens", in.tokens}, in.trustOptions()...)
	cmd := exec.Command(trustmapBin(b), args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	r := &replica{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	b.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		fmt.Fprintln(r.stderr, sc.Text())
		if m := listeningAddr.FindStringSubmatch(sc.Text()); m != nil {
			r.url = "http://" + m[1]
			break
		}
	}
	if r.url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("trustmap serve did not start:\n%s", r.stderr)
	}
	go func() {
		io.Copy(r.stderr, pipe)
		close(r.done)
	}()
	return r
}

// stop ends the replica as an operator does (SIGTERM: requests in flight
// finish) and returns the CPU time it used, start-up included.
func (r *replica) stop(b *testing.B) time.Duration {
	b.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	<-r.done
	if err := r.cmd.Wait(); err != nil {
		b.Fatalf("trustmap serve: %v\n%s", err, r.stderr)
	}
	return processCPU(r.cmd.ProcessState)
}

// gateClients is how many clients post the uploads concurrently.
var gateClients = flag.Int("gate-clients", 4, "BenchmarkGateVsBatch: concurrent clients posting to the two replicas")

// runGate starts two replicas over one store, posts every upload to them
// from gateClients clients, stops them, and returns the elapsed time of the
// uploads, the replicas' CPU time and each upload's latency.
func runGate(b *testing.B, in *loadInputs, storeURI string) (elapsed, cpu time.Duration, lat []time.Duration) {
	replicas := []*replica{startReplica(b, in, storeURI), startReplica(b, in, storeURI)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *gateClients}}
	defer client.CloseIdleConnections()
	work := make(chan int)
	lat = make([]time.Duration, len(in.bodies))
	var wg sync.WaitGroup
	start := time.Now()
	for range *gateClients {
		wg.Go(func() {
			for i := range work {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", replicas[i%2].url+"/v1/verify", bytes.NewReader(in.bodies[i]))
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
		})
	}
	for i := range in.bodies {
		work <- i
	}
	close(work)
	wg.Wait()
	elapsed = time.Since(start)
	for _, r := range replicas {
		cpu += r.stop(b)
	}
	return elapsed, cpu, lat
}

// BenchmarkGateVsBatch is the bounded load test: a fixed number of uploads
// (distinct artifacts, 50 packages) through two `trustmap serve` processes
// on loopback sharing one SQLite file (verify, pin, sign a VSA, archive,
// answer), and the same inputs through `trustmap verify --batch`, with and
// without --vsa-dir, in the same run on the same cores. The service's cost
// is its processes' CPU time (not the load test's clients); throughput per
// CPU-second is the comparison the target (>= 0.7) is about.
//
//	go test ./trustmap/server -run XXX -bench GateVsBatch -benchtime 2x [-gate-clients 16]
func BenchmarkGateVsBatch(b *testing.B) {
	in := makeLoadInputs(b, 1000)
	benchGateVsBatch(b, in, func() (string, func() time.Duration) {
		// A fresh database per run: every upload is a first verification.
		return "sqlite:" + filepath.Join(b.TempDir(), "gate.db"), nil
	})
}

// benchGateVsBatch runs the comparison b.N times. newStore returns a fresh
// store URI and, for a database server, the CPU time it has used so far
// (counted as the service's).
func benchGateVsBatch(b *testing.B, in *loadInputs, newStore func() (string, func() time.Duration)) {
	var gateWall, batchWall, batchVSAWall time.Duration
	var gateCPU, dbCPU, batchCPU, batchVSACPU, clientCPU time.Duration
	var lats []time.Duration
	trustmapBin(b) // built before the clock starts
	b.ResetTimer()
	for range b.N {
		uri, dbTime := newStore()
		el, cpu := runBatch(b, in, false)
		batchWall, batchCPU = batchWall+el, batchCPU+cpu
		el, cpu = runBatch(b, in, true)
		batchVSAWall, batchVSACPU = batchVSAWall+el, batchVSACPU+cpu
		var db0 time.Duration
		if dbTime != nil {
			db0 = dbTime()
		}
		c0 := cputime.Process()
		el, cpu, lat := runGate(b, in, uri)
		clientCPU += cputime.Process() - c0
		if dbTime != nil {
			dbCPU += dbTime() - db0
		}
		gateWall, gateCPU = gateWall+el, gateCPU+cpu
		lats = append(lats, lat...)
	}
	slices.Sort(lats)
	n := float64(len(in.bodies) * b.N)
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / n }
	service := gateCPU + dbCPU
	b.ReportMetric(n/gateWall.Seconds(), "gate-verifications/s")
	b.ReportMetric(n/batchWall.Seconds(), "batch-verifications/s")
	b.ReportMetric(n/batchVSAWall.Seconds(), "batch-vsa-verifications/s")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(perOp(gateCPU), "server-cpu-us/op")
	if dbCPU > 0 {
		b.ReportMetric(perOp(dbCPU), "postgres-cpu-us/op")
	}
	b.ReportMetric(perOp(clientCPU), "client-cpu-us/op")
	b.ReportMetric(perOp(batchCPU), "batch-cpu-us/op")
	b.ReportMetric(perOp(batchVSACPU), "batch-vsa-cpu-us/op")
	// Throughput per CPU-second, the service (and its database server)
	// against the batch command: unlike the rates, other work on the
	// machine hardly moves it.
	b.ReportMetric(batchCPU.Seconds()/service.Seconds(), "gate/batch-per-cpu")
	b.ReportMetric(batchVSACPU.Seconds()/service.Seconds(), "gate/batch-vsa-per-cpu")
	b.ReportMetric(float64(runtime.NumCPU()), "cores")
	b.ReportMetric(float64(*gateClients), "clients")
}
