package oci_test

import (
	"context"
	"fmt"
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
// read from memory, their ratio (the registry's share), and the HTTP
// requests and blob reads per verification.
func BenchmarkImageTenAttestations(b *testing.B) {
	for _, api := range []bool{true, false} {
		b.Run(fmt.Sprintf("referrersAPI=%v", api), func(b *testing.B) {
			v := loadVerifier(b)
			signer := readKey(b, "provenance-signer.key")
			reg := ocitest.Start(b, api)
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
			reg.Reset()
			var full, core time.Duration
			var prov []byte
			var art *trustmap.Artifact
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				d, err := c.Discover(ctx, ref)
				if err != nil || len(d.Attestations) != 10 {
					b.Fatalf("discover: %v", err)
				}
				prov = d.Provenance()
				art = d.Image.Artifact()
				res, err := trustmap.Verify(ctx, v.roots, prov, []*trustmap.Artifact{art}, opts)
				if err != nil || !res.Passed {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := trustmap.Verify(ctx, v.roots, prov, []*trustmap.Artifact{trustmap.BytesArtifact("m", d.Image.Manifest)}, opts); err != nil {
					b.Fatal(err)
				}
				full += t1.Sub(t0)
				core += time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(full.Microseconds())/n, "µs/image")
			b.ReportMetric(float64(core.Microseconds())/n, "µs/core-verify")
			b.ReportMetric(float64(full)/float64(core), "x-core")
			b.ReportMetric(float64(len(reg.Requests()))/n, "requests/op")
			blobs := 0
			for p, k := range reg.Count() {
				if k != b.N {
					b.Fatalf("%s read %d times in %d verifications", p, k, b.N)
				}
				blobs++
			}
			b.ReportMetric(float64(blobs), "manifests+blobs/op")
		})
	}
}
