package trustmap_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/hallmark-build/hallmark/internal/cputime"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/questionnaire"
	"github.com/hallmark-build/hallmark/trustmap"
)

func BenchmarkVerifySingle(b *testing.B) {
	roots := loadRoots(b)
	c := loadCases(b)[0] // pass-policy-l3
	for b.Loop() {
		if _, err := runCase(b, roots, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawSignatureVerify is the ceiling for batch throughput: one
// ECDSA P-256 verification (the provenance signer's key type) per item.
// rawVerifier returns a verifier with a message and its signature by the
// provenance signer (ECDSA P-256, the key type of the fixtures).
func rawVerifier(b *testing.B) (verify func() error) {
	k := keyFile(b, "provenance-signer.key", "")
	s, _ := signature.LoadDefaultSigner(keyFileSigner(b))
	msg := []byte(strings.Repeat("x", 1000))
	sig, err := s.SignMessage(bytes.NewReader(msg))
	if err != nil {
		b.Fatal(err)
	}
	v, _ := signature.LoadDefaultVerifier(k.Public().Key)
	return func() error { return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)) }
}

// BenchmarkRawSignatureVerify is the ceiling for batch throughput: one
// signature verification per item.
func BenchmarkRawSignatureVerify(b *testing.B) {
	verify := rawVerifier(b)
	for b.Loop() {
		if err := verify(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawSignatureVerifyParallel runs raw verifications on every core.
func BenchmarkRawSignatureVerifyParallel(b *testing.B) {
	verify := rawVerifier(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := verify(); err != nil {
				b.Error(err)
			}
		}
	})
}

// BenchmarkBatch verifies batches of 1,000 and 10,000 key-signed items,
// streamed from a manifest file as the command does, and reports their
// rate against raw signature verifications on every core, measured in the
// same run (target: at least 80%), and the peak heap (flat from 1k to 10k).
func BenchmarkBatch(b *testing.B) {
	roots, dir, it, o := keySignedItem(b)
	raw := rawVerifier(b)
	runBatchBench(b, dir, it.Artifact, it.Provenance, roots, o, raw, 0.8, "of-raw×cores")
}

// keySignedItem is the key-signed batch item of the benchmarks: a
// provenance file and its artifact in a temporary directory, with inline
// expectations.
func keySignedItem(b *testing.B) (*trustmap.Roots, string, trustmap.BatchItem, trustmap.VerifyOptions) {
	roots := loadRoots(b)
	dir := b.TempDir()
	prov, _ := os.ReadFile(filepath.Join(verifyDir, "cases", "pass-no-policy.intoto.jsonl"))
	os.WriteFile(filepath.Join(dir, "p.intoto.jsonl"), prov, 0o644)
	os.WriteFile(filepath.Join(dir, "a.tgz"), []byte(artifactData), 0o644)
	o := trustmap.VerifyOptions{At: verifyAt, Expect: &trustmap.Expectations{SourceURI: "https://git.example.com/app"}}
	return roots, dir, trustmap.BatchItem{Artifact: filepath.Join(dir, "a.tgz"), Provenance: filepath.Join(dir, "p.intoto.jsonl")}, o
}

// BenchmarkBatchKeyless is BenchmarkBatch for keyless bundles (the corpus's),
// against their floor (keylessFloor) on every core: target at least 70%.
func BenchmarkBatchKeyless(b *testing.B) {
	roots := compileSigstoreRoots(b)
	trust := publicGood(b)
	bundle := filepath.Join(corpusDir, "bcr/MODULE.bazel.intoto.jsonl")
	raw, _ := os.ReadFile(bundle)
	floor := keylessFloor(b, raw, trust)
	o := trustmap.VerifyOptions{At: corpusVerify, Sigstore: trust, Expect: corpusSource("bcr/")}
	runBatchBench(b, b.TempDir(), filepath.Join(corpusDir, "bcr/MODULE.bazel"), bundle, roots, o, floor, 0.7, "of-floor×cores")
}

func runBatchBench(b *testing.B, dir, artifact, provenance string, roots *trustmap.Roots, o trustmap.VerifyOptions, unit func() error, target float64, unitName string) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			// The manifest is streamed from a file, as the command does.
			var manifest bytes.Buffer
			for range n {
				fmt.Fprintf(&manifest, "{\"artifact\":%q,\"provenance\":%q}\n", artifact, provenance)
			}
			mpath := filepath.Join(dir, fmt.Sprintf("manifest-%d.jsonl", n))
			if err := os.WriteFile(mpath, manifest.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			manifest = bytes.Buffer{}
			runtime.GC()
			// As the command does: the collector's target for a batch,
			// the provenance read with its size bounded, a JSON line
			// written per result.
			verify := func(ctx context.Context, it trustmap.BatchItem) (*trustmap.Result, error) {
				p, err := limitio.ReadFile(it.Provenance, trustmap.MaxProvenanceBytes)
				if err != nil {
					return nil, err
				}
				return trustmap.Verify(ctx, roots, p, []*trustmap.Artifact{trustmap.FileArtifact(it.Artifact)}, o)
			}
			defer debug.SetGCPercent(debug.SetGCPercent(trustmap.BatchGCPercent))
			var peak atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ms runtime.MemStats
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			// The unit (a raw verification, a keyless floor) on every core
			// is measured before each batch and after the last, on the same
			// machine, and the figures are summed: other work on the
			// machine weighs on both alike.
			var unitN, unitWall, unitCPU float64
			measureUnit := func() {
				n, wall, cpu := parallelRate(b, unit)
				unitN, unitWall, unitCPU = unitN+n, unitWall+wall, unitCPU+cpu
			}
			var elapsed, elapsedCPU time.Duration
			items := 0
			for b.Loop() {
				b.StopTimer()
				measureUnit()
				b.StartTimer()
				start, startCPU := time.Now(), cputime.Process()
				mf, err := os.Open(mpath)
				if err != nil {
					b.Fatal(err)
				}
				failed, err := trustmap.RunBatch(context.Background(), mf, 2*runtime.NumCPU(), verify, func(r trustmap.BatchResult) { io.Discard.Write(r.MarshalLine()) })
				mf.Close()
				if err != nil || failed != 0 {
					b.Fatalf("failed %d: %v", failed, err)
				}
				elapsed, elapsedCPU = elapsed+time.Since(start), elapsedCPU+cputime.Process()-startCPU
				items += n
			}
			b.StopTimer()
			measureUnit()
			close(stop)
			wg.Wait()
			rate := float64(items) / elapsed.Seconds()
			units := unitN / unitWall
			// The same per CPU second: what a batch costs against what its
			// units cost, whatever else runs on the machine. On an idle
			// machine cores-used is the number of cores and both ratios
			// agree.
			cpuRatio := (float64(items) / elapsedCPU.Seconds()) / (unitN / unitCPU)
			b.ReportMetric(rate, "items/s")
			b.ReportMetric(units, "units/s")
			b.ReportMetric(rate/units, unitName+"-wall")
			b.ReportMetric(cpuRatio, unitName)
			b.ReportMetric(cpuRatio/target, "x-target")
			b.ReportMetric(elapsedCPU.Seconds()/elapsed.Seconds(), "cores-used")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

// parallelRate runs f on all cores (one goroutine per core, for a fifth
// of a second) and returns how many times it ran, the wall time and the
// process's CPU time it took, in seconds.
func parallelRate(b *testing.B, f func() error) (n, wall, cpu float64) {
	var count atomic.Int64
	deadline := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	start, startCPU := time.Now(), cputime.Process()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := f(); err != nil {
					b.Error(err)
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(count.Load()), time.Since(start).Seconds(), (cputime.Process() - startCPU).Seconds()
}

// lookupEntries is a roots map of n entries (n a multiple of 10) of every
// kind: key signers with exact builder.ids and builder patterns, Sigstore
// identities with exact SANs and SAN patterns. The first ten are the same
// whatever n.
func lookupEntries(base trustmap.Entry, n int) []trustmap.Entry {
	entries := make([]trustmap.Entry, n)
	for i := range entries {
		e := base
		switch i % 10 {
		case 7, 8: // a builder pattern (a reusable workflow's release tags)
			e.BuilderID, e.BuilderIDRegexp = "", fmt.Sprintf(`https://builds\.example\.com/pattern/p%d@v[0-9.]+`, i)
		case 5: // a Sigstore identity, exact
			e.BuilderID = fmt.Sprintf("https://github.com/org/r%d/.github/workflows/release.yml@refs/tags/v1", i)
			e.Signer = trustmap.Signer{OIDCIssuer: "https://token.actions.githubusercontent.com", SAN: e.BuilderID}
		case 6: // a Sigstore identity, patterns
			re := fmt.Sprintf(`https://github\.com/org/q%d/\.github/workflows/release\.yml@refs/tags/v[0-9.]+`, i)
			e.BuilderID, e.BuilderIDRegexp = "", re
			e.Signer = trustmap.Signer{OIDCIssuer: "https://token.actions.githubusercontent.com", SANRegexp: re}
		default:
			e.BuilderID = fmt.Sprintf("https://builds.example.com/builders/b%d@v1", i)
		}
		entries[i] = e
	}
	return entries
}

// BenchmarkRootsLookup looks up the same pairs in a map of 10 entries and
// one of 100,000 (a tenth of them builder patterns, a tenth SAN patterns),
// alternating, and reports the ratio of their times: the target is at most
// 1.5.
func BenchmarkRootsLookup(b *testing.B) {
	base := loadRoots(b).Entries[0]
	small, err := trustmap.NewRoots(compiledAt, lookupEntries(base, 10))
	if err != nil {
		b.Fatal(err)
	}
	large, err := trustmap.NewRoots(compiledAt, lookupEntries(base, 100000))
	if err != nil {
		b.Fatal(err)
	}
	key := trustmap.Signer{KeyFingerprint: base.Signer.KeyFingerprint}
	const gh = "https://token.actions.githubusercontent.com"
	lookups := []struct {
		signer  trustmap.Signer
		builder string
	}{
		{key, "https://builds.example.com/builders/b3@v1"},
		{key, "https://builds.example.com/pattern/p7@v1.2.3"},
		{trustmap.Signer{OIDCIssuer: gh, SAN: "https://github.com/org/r5/.github/workflows/release.yml@refs/tags/v1"}, "https://github.com/org/r5/.github/workflows/release.yml@refs/tags/v1"},
		{trustmap.Signer{OIDCIssuer: gh, SAN: "https://github.com/org/q6/.github/workflows/release.yml@refs/tags/v2.0"}, "https://github.com/org/q6/.github/workflows/release.yml@refs/tags/v2.0"},
	}
	built := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	run := func(roots *trustmap.Roots) time.Duration {
		start := time.Now()
		for range 50 {
			for _, l := range lookups {
				r, err := roots.Lookup(l.signer, l.builder, built, verifyAt, true)
				if err != nil || r.Level != questionnaire.Level(base.SLSABuildLevel) {
					b.Fatalf("%s: %v %v", l.builder, r, err)
				}
			}
		}
		return time.Since(start)
	}
	var tSmall, tLarge time.Duration
	for b.Loop() {
		tSmall += run(small)
		tLarge += run(large)
	}
	n := float64(b.N * 50 * len(lookups))
	b.ReportMetric(float64(tSmall.Nanoseconds())/n, "ns/lookup-10")
	b.ReportMetric(float64(tLarge.Nanoseconds())/n, "ns/lookup-100000")
	b.ReportMetric(float64(tLarge)/float64(tSmall), "ratio")
}

const hashSize = 256 << 20

func BenchmarkHashFile256MiB(b *testing.B) {
	p := filepath.Join(b.TempDir(), "big")
	data := bytes.Repeat([]byte("0123456789abcdef"), hashSize/16)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	data = nil
	b.SetBytes(hashSize)
	for b.Loop() {
		if _, err := trustmap.FileArtifact(p).Digest("sha256"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSHA256InMemory256MiB(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), hashSize/16)
	b.SetBytes(hashSize)
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// Patterns are matched through a bounded memo of builder.ids and SANs: the
// answers stay right past its bound, for matching and non-matching ids, in
// the small map and the large one alike.
func TestLookupMemo(t *testing.T) {
	base := loadRoots(t).Entries[0]
	key := trustmap.Signer{KeyFingerprint: base.Signer.KeyFingerprint}
	other := trustmap.Signer{KeyFingerprint: "SHA256:other"}
	const gh = "https://token.actions.githubusercontent.com"
	built := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{10, 1000} {
		roots, err := trustmap.NewRoots(compiledAt, lookupEntries(base, n))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 4 { // from several goroutines, as batches and the gate do
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := g; i < 10000; i += 4 { // more distinct values than the memo holds
					if _, err := roots.Lookup(key, fmt.Sprintf("https://builds.example.com/pattern/p7@v1.%d", i), built, verifyAt, true); err != nil {
						t.Errorf("%d entries, release %d: %v", n, i, err)
						return
					}
					if _, err := roots.Lookup(key, fmt.Sprintf("https://builds.example.com/pattern/p7@x%d", i), built, verifyAt, true); !errors.Is(err, trustmap.ErrUntrustedBuilder) {
						t.Errorf("%d entries, non-matching %d: %v", n, i, err)
						return
					}
					id := fmt.Sprintf("https://github.com/org/q6/.github/workflows/release.yml@refs/tags/v%d", i)
					if _, err := roots.Lookup(trustmap.Signer{OIDCIssuer: gh, SAN: id}, id, built, verifyAt, true); err != nil {
						t.Errorf("%d entries, SAN pattern %d: %v", n, i, err)
						return
					}
					if _, err := roots.Lookup(trustmap.Signer{OIDCIssuer: gh, SAN: id + "x"}, id, built, verifyAt, true); !errors.Is(err, trustmap.ErrSignerNotPaired) {
						t.Errorf("%d entries, SAN outside the pattern %d: %v", n, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		// A pattern entry pairs its builder.id with its signer only.
		if _, err := roots.Lookup(other, "https://builds.example.com/pattern/p7@v1.0", built, verifyAt, true); !errors.Is(err, trustmap.ErrSignerNotPaired) {
			t.Fatalf("other signer: %v", err)
		}
	}
}

// BenchmarkBatchItem is one item of BenchmarkBatch verified alone, as a
// batch worker does (the provenance read with its size bounded, then
// Verify): its time less BenchmarkRawSignatureVerify's is what an item
// costs beyond its signature check.
func BenchmarkBatchItem(b *testing.B) {
	roots, _, it, o := keySignedItem(b)
	for b.Loop() {
		p, err := limitio.ReadFile(it.Provenance, trustmap.MaxProvenanceBytes)
		if err != nil {
			b.Fatal(err)
		}
		r, err := trustmap.Verify(context.Background(), roots, p, []*trustmap.Artifact{trustmap.FileArtifact(it.Artifact)}, o)
		if err != nil || !r.Passed {
			b.Fatal(err)
		}
	}
}
