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

// TestKeySignedBundle: the cosign v3 key-signed bundle (public-key hint, no
// certificate, no log entry) verifies with the roots' keys exactly as a
// plain DSSE envelope, and fails the same ways: a roots map without the key,
// a signature that does not verify, a roots entry that requires a
// transparency-log entry or timestamp.
func TestKeySignedBundle(t *testing.T) {
	ctx := context.Background()
	v := loadVerifier(t)
	d, err := oci.New(oci.Options{}).Discover(ctx, "oci-layout://"+cosignLayout+":v1")
	if err != nil {
		t.Fatal(err)
	}
	var bundle []byte
	for _, a := range d.Attestations {
		if a.MediaType == oci.BundleMediaType {
			bundle = a.Document
		}
	}
	if bundle == nil {
		t.Fatal("no bundle in the fixture")
	}
	art := []*trustmap.Artifact{d.Image.Artifact()}
	opts := trustmap.VerifyOptions{At: verifyAt, Policy: v.policy, Package: "example-app"}
	if res, err := trustmap.Verify(ctx, v.roots, bundle, art, opts); err != nil || !res.Passed {
		t.Fatalf("the key-signed bundle should pass: %v", err)
	}
	withRoots := func(f func(e *trustmap.Entry) bool) *trustmap.Roots {
		var entries []trustmap.Entry
		for _, e := range v.roots.Entries {
			if f(&e) {
				entries = append(entries, e)
			}
		}
		r, err := trustmap.NewRoots(v.roots.CompiledAt, entries)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	signerFP := "SHA256:PCom+YL8lAeen7pcPHZgDz7PgN7JOx7x6hGiitM5etg"
	withoutKey := withRoots(func(e *trustmap.Entry) bool { return e.Signer.KeyFingerprint != signerFP })
	if _, err := trustmap.Verify(ctx, withoutKey, bundle, art, opts); !errors.Is(err, trustmap.ErrUnknownSigner) {
		t.Errorf("roots without the key: got %v, want ErrUnknownSigner", err)
	}
	tampered := []byte(strings.Replace(string(bundle), `"sig":"M`, `"sig":"N`, 1))
	if string(tampered) == string(bundle) {
		t.Fatal("could not tamper with the signature")
	}
	// cosign leaves the DSSE keyid empty (the hint is its own format), so a
	// signature that no roots key verifies names no key: ErrUnknownSigner,
	// as for a plain envelope without keyid.
	if _, err := trustmap.Verify(ctx, v.roots, tampered, art, opts); !errors.Is(err, trustmap.ErrUnknownSigner) {
		t.Errorf("tampered signature: got %v, want ErrUnknownSigner", err)
	}
	requireTS := withRoots(func(e *trustmap.Entry) bool {
		e.Signer.RequireTimestamp = e.Signer.KeyFingerprint != ""
		return true
	})
	for _, a := range d.Attestations {
		if _, err := trustmap.Verify(ctx, requireTS, a.Document, art, opts); !errors.Is(err, trustmap.ErrNoVerifiedTimestamp) {
			t.Errorf("%s with requireTimestamp: got %v, want ErrNoVerifiedTimestamp", a.Source, err)
		}
	}
}
