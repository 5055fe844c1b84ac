package oci_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

// The cosign fixture (testdata/oci/README.md): an image with key-signed
// cosign v3 attestations in both forms, the sha256-HEX.att tag (DSSE
// layer) and a Sigstore bundle referrer (public-key hint, no certificate,
// no transparency-log entry).
const (
	cosignLayout = "../../testdata/oci/cosign-key"
	cosignDigest = "sha256:ec12bd89a6071fb43d81a75888c40b748dab140a9e937110b470943df5378acf"
)

// checkCosignFixture verifies every attestation found for ref on its own:
// both forms must pass by themselves.
func checkCosignFixture(t *testing.T, c *oci.Client, ref string) {
	t.Helper()
	v := loadVerifier(t)
	d, res, err := v.verify(t, c, ref)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	if !res.Passed || res.Level != 3 || d.Image.Digest != cosignDigest {
		t.Fatalf("%s: passed=%v level=%v digest=%s", ref, res.Passed, res.Level, d.Image.Digest)
	}
	sources := map[string]bool{}
	for _, a := range d.Attestations {
		sources[strings.Fields(a.Source)[0]] = true
		one := &oci.Discovery{Image: d.Image, Attestations: []oci.Attestation{a}}
		r, err := trustmap.Verify(context.Background(), v.roots, one.Provenance(), []*trustmap.Artifact{d.Image.Artifact()},
			trustmap.VerifyOptions{At: verifyAt, Policy: v.policy, Package: "example-app"})
		if err != nil || !r.Passed {
			t.Errorf("%s (%s): %v", a.Source, a.MediaType, err)
		}
	}
	if !sources["referrers"] || !sources["cosign"] || len(d.Attestations) != 2 {
		t.Fatalf("found %d attestations from %v, want the bundle referrer and the .att tag", len(d.Attestations), sources)
	}
}

func TestCosignFixtureLayout(t *testing.T) {
	c := oci.New(oci.Options{})
	checkCosignFixture(t, c, "oci-layout://"+cosignLayout+":v1")
	checkCosignFixture(t, c, "oci-layout://"+cosignLayout+"@"+cosignDigest)
}

func TestCosignFixtureRegistry(t *testing.T) {
	for _, api := range []bool{true, false} {
		reg := ocitest.Start(t, api)
		ocitest.PushLayout(t, cosignLayout, reg.Host+"/hallmark/app")
		c := oci.New(oci.Options{})
		reg.Reset()
		checkCosignFixture(t, c, "oci://"+reg.Host+"/hallmark/app:v1")
		for p, n := range reg.Count() {
			if n != 1 {
				t.Errorf("referrers API %v: GET %s served %d times, want once", api, p, n)
			}
		}
	}
}

// TestKeylessCorpusReferrer attaches a real keyless bundle (the shared
// corpus, GitHub Actions) to an image as a referrer: it is found and its
// Sigstore signature verifies offline, but its statement names another
// artifact, so the image fails with ErrSubjectMismatch.
func TestKeylessCorpusReferrer(t *testing.T) {
	bundle, err := os.ReadFile(filepath.Join("../../testdata/corpus/slsa-verifier/bcr", "MODULE.bazel.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reg := ocitest.Start(t, true)
	ocitest.PushImage(t, reg.Host+"/bcr/module:v1", "module")
	c := oci.New(oci.Options{})
	im := resolve(t, c, "oci://"+reg.Host+"/bcr/module:v1")
	attach(t, c, im, bundle)
	d, err := c.Discover(context.Background(), "oci://"+reg.Host+"/bcr/module:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Attestations) != 1 || d.Attestations[0].MediaType != oci.BundleMediaType {
		t.Fatalf("found %+v", d.Attestations)
	}
	trust, err := trustmap.PublicGoodTrust()
	if err != nil {
		t.Fatal(err)
	}
	v := loadVerifier(t)
	res, err := trustmap.Verify(context.Background(), v.roots, d.Provenance(), []*trustmap.Artifact{d.Image.Artifact()},
		trustmap.VerifyOptions{At: verifyAt, Sigstore: trust, Policy: v.policy, Package: "example-app"})
	if !errors.Is(err, trustmap.ErrSubjectMismatch) {
		t.Fatalf("got %v, want ErrSubjectMismatch", err)
	}
	sig := res.Documents[0].Checks[0]
	if sig.ID != "signature" || !sig.Passed {
		t.Fatalf("the keyless signature should verify before the subject fails: %+v", res.Documents[0].Checks)
	}
}
