package oci_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

// BenchmarkImageTenAttestations verifies an image with 10 provenance
// attestations (referrers) from a loopback registry, from the reference to
// the verdict, and reports in the same run: the time of the whole
// verification, the time of the core verification of the same documents
// read from memory, their ratio (the registry's share), the speed-up of
// reading manifests and blobs 8 at a time over one at a time, and the HTTP
// requests and blob reads per verification.
func BenchmarkImageTenAttestations(b *testing.B) {
	for _, tc := range []struct {
		api     bool
		latency time.Duration
	}{{true, 0}, {false, 0}, {true, 2 * time.Millisecond}} {
		b.Run(fmt.Sprintf("referrersAPI=%v/latency=%s", tc.api, tc.latency), func(b *testing.B) {
			v := loadVerifier(b)
			signer := readKey(b, "provenance-signer.key")
			reg := ocitest.Start(b, tc.api)
			digest := ocitest.PushImage(b, reg.Host+"/app:v1", "bench")
			c := oci.New(oci.Options{})
			im := resolve(b, c, "oci://"+reg.Host+"/app:v1")
			for i := range 10 {
				st := statement(digest)
				st["predicate"].(map[string]any)["runDetails"].(map[string]any)["metadata"].(map[string]any)["invocationId"] = fmt.Sprint("inv-", i)
				attach(b, c, im, signed(b, signer, st))
			}
			ref := "oci://" + reg.Host + "/app:v1"
			opts := trustmap.VerifyOptions{At: verifyAt, Policy: v.policy, Package: "example-app"}
			ctx := context.Background()
			if tc.latency > 0 {
				// A registry across a network: each answer comes later.
				reg.Intercept = func(http.ResponseWriter, *http.Request) bool { time.Sleep(tc.latency); return false }
			}
			reg.Reset()
			var full, disc, core, sequential time.Duration
			seq := oci.New(oci.Options{Jobs: 1})
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				d, err := c.Discover(ctx, ref)
				if err != nil || len(d.Attestations) != 10 {
					b.Fatalf("discover: %v", err)
				}
				t1 := time.Now()
				res, err := trustmap.Verify(ctx, v.roots, d.Provenance(), []*trustmap.Artifact{d.Image.Artifact()}, opts)
				if err != nil || !res.Passed {
					b.Fatal(err)
				}
				t2 := time.Now()
				if _, err := trustmap.Verify(ctx, v.roots, d.Provenance(), []*trustmap.Artifact{trustmap.BytesArtifact("m", d.Image.Manifest)}, opts); err != nil {
					b.Fatal(err)
				}
				t3 := time.Now()
				if _, err := seq.Discover(ctx, ref); err != nil {
					b.Fatal(err)
				}
				full += t2.Sub(t0)
				disc += t1.Sub(t0)
				core += t3.Sub(t2)
				sequential += time.Since(t3)
			}
			n := float64(b.N)
			b.ReportMetric(float64(full.Microseconds())/n, "µs/image")
			b.ReportMetric(float64(core.Microseconds())/n, "µs/core-verify")
			b.ReportMetric(float64(full)/float64(core), "x-core")
			b.ReportMetric(float64(sequential)/float64(disc), "x-parallel")
			b.ReportMetric(float64(len(reg.Requests()))/n/2, "requests/op")
			blobs := 0
			for p, k := range reg.Count() {
				if k != 2*b.N { // once by each client
					b.Fatalf("%s read %d times in %d verifications", p, k, b.N)
				}
				blobs++
			}
			b.ReportMetric(float64(blobs), "manifests+blobs/op")
		})
	}
}
