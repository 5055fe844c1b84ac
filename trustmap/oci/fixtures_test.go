package oci_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
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

// The keyless fixture (testdata/oci/README.md): a synthetic image holding
// MODULE.bazel, with the corpus's real GitHub Actions Sigstore bundle for
// that file attached by oras as a referrer (listed in the referrers tag:
// distribution 2.8 has no referrers API).
const (
	keylessLayout = "../../testdata/oci/keyless-corpus"
	keylessDigest = "sha256:44a1e0b6751873138694a00c12597d5a7cc4260d016d01e24720fd81b7c9267b"
)

// checkKeylessFixture: the bundle is found as a referrer, its keyless
// Sigstore signature verifies offline, but its statement names the file
// MODULE.bazel, not the image: ErrSubjectMismatch.
func checkKeylessFixture(t *testing.T, c *oci.Client, ref string) {
	t.Helper()
	d, err := c.Discover(context.Background(), ref)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	if d.Image.Digest != keylessDigest || len(d.Attestations) != 1 || d.Attestations[0].MediaType != oci.BundleMediaType || d.Attestations[0].Source != "referrers" {
		t.Fatalf("%s: image %s, found %+v", ref, d.Image.Digest, d.Attestations)
	}
	corpus, err := os.ReadFile(filepath.Join("../../testdata/corpus/slsa-verifier/bcr", "MODULE.bazel.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Attestations[0].Document, corpus) {
		t.Fatalf("%s: the document found is not the corpus bundle", ref)
	}
	v := loadVerifier(t)
	res, err := v.keyless(t, d)
	if !errors.Is(err, trustmap.ErrSubjectMismatch) {
		t.Fatalf("%s: got %v, want ErrSubjectMismatch", ref, err)
	}
	sig := res.Documents[0].Checks[0]
	if sig.ID != "signature" || !sig.Passed {
		t.Fatalf("%s: the keyless signature should verify before the subject fails: %+v", ref, res.Documents[0].Checks)
	}
}

// TestKeylessCorpusReferrer reads the keyless fixture from its layout and
// from registries it was pushed to, with and without the referrers API.
func TestKeylessCorpusReferrer(t *testing.T) {
	c := oci.New(oci.Options{})
	checkKeylessFixture(t, c, "oci-layout://"+keylessLayout+":v1")
	checkKeylessFixture(t, c, "oci-layout://"+keylessLayout+"@"+keylessDigest)
	for _, api := range []bool{true, false} {
		reg := ocitest.Start(t, api)
		ocitest.PushLayout(t, keylessLayout, reg.Host+"/bcr/module")
		reg.Reset()
		checkKeylessFixture(t, c, "oci://"+reg.Host+"/bcr/module:v1")
		for p, n := range reg.Count() {
			if n != 1 {
				t.Errorf("referrers API %v: GET %s served %d times, want once", api, p, n)
			}
		}
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

// TestKeylessCosignTag: cosign's older keyless form, a DSSE layer on the
// sha256-HEX.att tag with the Fulcio certificate and the Rekor entry in
// annotations, rebuilt here exactly as cosign writes it from a real GitHub
// bundle of the corpus. It is read as the Sigstore bundle it amounts to: the
// certificate chain, SCT and signed entry timestamp verify offline, then the
// statement names another artifact (ErrSubjectMismatch).
func TestKeylessCosignTag(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("../../testdata/corpus/slsa-verifier/bcr", "MODULE.bazel.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			Certificate struct {
				RawBytes []byte `json:"rawBytes"`
			} `json:"certificate"`
			TlogEntries []struct {
				LogIndex         string                 `json:"logIndex"`
				LogID            struct{ KeyID []byte } `json:"logId"`
				IntegratedTime   string                 `json:"integratedTime"`
				InclusionPromise struct {
					SignedEntryTimestamp string `json:"signedEntryTimestamp"`
				} `json:"inclusionPromise"`
				CanonicalizedBody string `json:"canonicalizedBody"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSEEnvelope json.RawMessage `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bytes.SplitN(raw, []byte("\n"), 2)[0], &b); err != nil {
		t.Fatal(err)
	}
	e := b.VerificationMaterial.TlogEntries[0]
	idx, _ := strconv.ParseInt(e.LogIndex, 10, 64)
	it, _ := strconv.ParseInt(e.IntegratedTime, 10, 64)
	rekor, _ := json.Marshal(map[string]any{
		"SignedEntryTimestamp": e.InclusionPromise.SignedEntryTimestamp,
		"Payload":              map[string]any{"body": e.CanonicalizedBody, "integratedTime": it, "logIndex": idx, "logID": hex.EncodeToString(e.LogID.KeyID)},
	})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.VerificationMaterial.Certificate.RawBytes})

	reg := ocitest.Start(t, false)
	digest := ocitest.PushImage(t, reg.Host+"/bcr/module:v1", "module")
	ocitest.PushCosignAtt(t, reg.Host+"/bcr/module", digest, b.DSSEEnvelope, map[string]string{
		"dev.sigstore.cosign/certificate": string(certPEM),
		"dev.sigstore.cosign/chain":       "",
		"dev.sigstore.cosign/bundle":      string(rekor),
		"predicateType":                   trustmap.ProvenanceV1,
	})
	d, err := oci.New(oci.Options{}).Discover(context.Background(), "oci://"+reg.Host+"/bcr/module:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Attestations) != 1 || !strings.HasSuffix(d.Attestations[0].Source, "(keyless)") {
		t.Fatalf("found %+v", d.Attestations)
	}
	v := loadVerifier(t)
	res, err := v.keyless(t, d)
	if !errors.Is(err, trustmap.ErrSubjectMismatch) {
		t.Fatalf("got %v, want ErrSubjectMismatch after a verified signature", err)
	}
	if sig := res.Documents[0].Checks[0]; sig.ID != "signature" || !sig.Passed {
		t.Fatalf("the keyless signature should verify: %+v", res.Documents[0].Checks)
	}
	// A signed entry timestamp that does not verify fails the signature.
	set := []byte(e.InclusionPromise.SignedEntryTimestamp)
	set[10] ^= 1
	forged, _ := json.Marshal(map[string]any{
		"SignedEntryTimestamp": string(set),
		"Payload":              map[string]any{"body": e.CanonicalizedBody, "integratedTime": it, "logIndex": idx, "logID": hex.EncodeToString(e.LogID.KeyID)},
	})
	ocitest.PushCosignAtt(t, reg.Host+"/bcr/module", digest, b.DSSEEnvelope, map[string]string{
		"dev.sigstore.cosign/certificate": string(certPEM), "dev.sigstore.cosign/bundle": string(forged), "predicateType": trustmap.ProvenanceV1,
	})
	d, err = oci.New(oci.Options{}).Discover(context.Background(), "oci://"+reg.Host+"/bcr/module:v1")
	if err != nil {
		t.Fatal(err)
	}
	res, err = v.keyless(t, d)
	if err == nil || errors.Is(err, trustmap.ErrSubjectMismatch) || res.Documents[0].Checks[0].Passed {
		t.Fatalf("a forged signed entry timestamp: got %v", err)
	}
	t.Logf("forged SET: %v", err)

	// The same layer with its entry taken away fails: no log entry.
	ocitest.PushCosignAtt(t, reg.Host+"/bcr/module", digest, b.DSSEEnvelope, map[string]string{
		"dev.sigstore.cosign/certificate": string(certPEM), "predicateType": trustmap.ProvenanceV1,
	})
	if _, err := oci.New(oci.Options{}).Discover(context.Background(), "oci://"+reg.Host+"/bcr/module:v1"); !errors.Is(err, oci.ErrMalformed) {
		t.Fatalf("keyless layer without its entry: got %v, want ErrMalformed", err)
	}
}

// keyless verifies what was found with the embedded Sigstore public-good
// trusted root.
func (v verifier) keyless(t *testing.T, d *oci.Discovery) (*trustmap.Result, error) {
	t.Helper()
	trust, err := trustmap.PublicGoodTrust()
	if err != nil {
		t.Fatal(err)
	}
	return trustmap.Verify(context.Background(), v.roots, d.Provenance(), []*trustmap.Artifact{d.Image.Artifact()},
		trustmap.VerifyOptions{At: verifyAt, Sigstore: trust, Policy: v.policy, Package: "example-app"})
}

// TestLayoutToolVariants: layouts as other tools write them verify the
// same. skopeo and oras name tags bare in org.opencontainers.image.ref.name
// ("v1", not "REPO:v1"); a layout may also hold a referrer manifest without
// the referrers tag index, found by its own subject.
func TestLayoutToolVariants(t *testing.T) {
	var idx struct {
		SchemaVersion int              `json:"schemaVersion"`
		MediaType     string           `json:"mediaType"`
		Manifests     []map[string]any `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(cosignLayout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	variant := func(keep func(m map[string]any) bool, rename func(string) string) string {
		dir := t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(cosignLayout)); err != nil {
			t.Fatal(err)
		}
		out := idx
		out.Manifests = nil
		for _, m := range idx.Manifests {
			if !keep(m) {
				continue
			}
			c := map[string]any{}
			for k, v := range m {
				c[k] = v
			}
			ann := map[string]any{}
			for k, v := range m["annotations"].(map[string]any) {
				ann[k] = v
			}
			if n, ok := ann["org.opencontainers.image.ref.name"].(string); ok {
				ann["org.opencontainers.image.ref.name"] = rename(n)
			}
			c["annotations"] = ann
			out.Manifests = append(out.Manifests, c)
		}
		nb, _ := json.Marshal(out)
		os.Chmod(filepath.Join(dir, "index.json"), 0o644)
		if err := os.WriteFile(filepath.Join(dir, "index.json"), nb, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	all := func(map[string]any) bool { return true }
	bare := func(n string) string { return n[strings.LastIndex(n, ":")+1:] }
	c := oci.New(oci.Options{})
	// Bare tags (skopeo copy … oci:DIR:v1, oras copy --to-oci-layout).
	checkCosignFixture(t, c, "oci-layout://"+variant(all, func(n string) string {
		if strings.Contains(n, "@") {
			return n
		}
		return bare(n)
	})+":v1")
	// No referrers tag index: the bundle referrer is found by its subject.
	noIndex := variant(func(m map[string]any) bool { return !strings.Contains(m["mediaType"].(string), "index") }, func(n string) string { return n })
	checkCosignFixture(t, c, "oci-layout://"+noIndex+"@"+cosignDigest)
	// A tag that names two different manifests is refused.
	dup := variant(all, func(n string) string {
		if strings.Contains(n, "@") {
			return n
		}
		return "v1"
	})
	if _, err := c.Discover(context.Background(), "oci-layout://"+dup+":v1"); !errors.Is(err, oci.ErrMalformed) {
		t.Fatalf("a tag naming several manifests: got %v, want ErrMalformed", err)
	}
}
