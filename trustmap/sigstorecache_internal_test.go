package trustmap

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/google/certificate-transparency-go/x509util"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// corpusBundles are the Sigstore bundles of the corpus.
func corpusBundles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir("../testdata/corpus/slsa-verifier", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for line := range strings.Lines(string(b)) {
			if isBundle([]byte(line)) {
				out[filepath.Base(p)+"#"+line[len(line)/2:len(line)/2+8]] = []byte(strings.TrimSpace(line))
			}
		}
		return nil
	})
	if len(out) == 0 {
		t.Fatal("no bundles in the corpus")
	}
	return out
}

// parseBundle validates as sigstore-go's bundle.UnmarshalJSON does (it
// decodes the log entries once instead of twice): both accept and refuse
// the same bundles, the corpus's and variants of them.
func TestParsedBundleAgreesWithSigstoreGo(t *testing.T) {
	edit := func(raw []byte, f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	vm := func(m map[string]any) map[string]any { v, _ := m["verificationMaterial"].(map[string]any); return v }
	entry := func(m map[string]any) map[string]any {
		es, _ := vm(m)["tlogEntries"].([]any)
		if len(es) == 0 {
			return map[string]any{}
		}
		return es[0].(map[string]any)
	}
	variants := map[string]func(m map[string]any){
		"as is":                 func(map[string]any) {},
		"v0.1":                  func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1" },
		"v0.2":                  func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2" },
		"v0.3":                  func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json" },
		"v0.3.1":                func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3.1+json" },
		"v0.4":                  func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json" },
		"v0.0":                  func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.0+json" },
		"bad version":           func(m map[string]any) { m["mediaType"] = "application/vnd.dev.sigstore.bundle.vx+json" },
		"other media type":      func(m map[string]any) { m["mediaType"] = "application/json" },
		"no inclusion proof":    func(m map[string]any) { delete(entry(m), "inclusionProof") },
		"no inclusion promise":  func(m map[string]any) { delete(entry(m), "inclusionPromise") },
		"no log entries":        func(m map[string]any) { delete(vm(m), "tlogEntries") },
		"no envelope":           func(m map[string]any) { delete(m, "dsseEnvelope") },
		"no material":           func(m map[string]any) { delete(m, "verificationMaterial") },
		"empty material":        func(m map[string]any) { m["verificationMaterial"] = map[string]any{} },
		"bad log body":          func(m map[string]any) { entry(m)["canonicalizedBody"] = "e30=" },
		"log entry kind":        func(m map[string]any) { entry(m)["kindVersion"] = map[string]any{"kind": "rekord", "version": "0.0.1"} },
		"chain instead of cert": func(m map[string]any) { toChain(vm(m)) },
		"chain, v0.2": func(m map[string]any) {
			toChain(vm(m))
			m["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"
		},
	}
	for name, raw := range corpusBundles(t) {
		for vname, f := range variants {
			doc := edit(raw, f)
			var want bundle.Bundle
			wantErr := want.UnmarshalJSON(doc)
			_, gotErr := parseBundle(doc)
			if (wantErr == nil) != (gotErr == nil) {
				t.Errorf("%s, %s: sigstore-go: %v; parseBundle: %v", name, vname, wantErr, gotErr)
			}
			switch vname {
			case "as is":
				if gotErr != nil {
					t.Errorf("%s: %v", name, gotErr)
				}
			case "v0.4", "other media type", "no envelope", "no material", "bad log body":
				if gotErr == nil {
					t.Errorf("%s, %s: accepted", name, vname)
				}
			}
		}
	}
}

func toChain(vm map[string]any) {
	if c, ok := vm["certificate"]; ok {
		delete(vm, "certificate")
		vm["x509CertificateChain"] = map[string]any{"certificates": []any{c}}
	}
}

// corpusLeaf returns the leaf certificate of a corpus bundle and the
// public-good chain above it.
func corpusLeaf(t *testing.T) (leaf *x509.Certificate, above []*x509.Certificate, trust *SigstoreTrust) {
	t.Helper()
	raw, _ := os.ReadFile("../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl")
	b, err := parseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	leaf = b.vc.Certificate()
	trust, err = PublicGoodTrust()
	if err != nil {
		t.Fatal(err)
	}
	for _, ca := range trust.Material.FulcioCertificateAuthorities() {
		fca := ca.(*root.FulcioCertificateAuthority)
		if chains, err := fca.Verify(leaf, corpusSigned); err == nil {
			return leaf, chains[0][1:], trust
		}
	}
	t.Fatal("no chain for the corpus leaf")
	return nil, nil, nil
}

// corpusSigned is inside the corpus leaf's validity.
var corpusSigned = time.Date(2025, 3, 26, 23, 50, 0, 0, time.UTC)

// The SCT check rebuilds the precertificate as certificate-transparency-go
// does, and fails closed.
func TestEmbeddedSCTs(t *testing.T) {
	leaf, above, trust := corpusLeaf(t)
	want, err := ctx509.RemoveSCTList(leaf.RawTBSCertificate)
	if err != nil {
		t.Fatal(err)
	}
	got, err := removeSCTList(leaf.RawTBSCertificate)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("removeSCTList differs from certificate-transparency-go's: %v", err)
	}
	if _, err := removeSCTList(want); err == nil {
		t.Fatal("a TBSCertificate without SCT list: no error")
	}
	if _, err := removeSCTList(leaf.RawTBSCertificate[:len(leaf.RawTBSCertificate)-3]); err == nil {
		t.Fatal("truncated TBSCertificate: no error")
	}
	// The signed data is encoded as certificate-transparency-go encodes it.
	list, _ := embeddedSCTList(leaf)
	scts, err := x509util.ParseSCTsFromSCTList(&list)
	if err != nil || len(scts) == 0 {
		t.Fatalf("scts: %v", err)
	}
	ikh := sha256.Sum256(above[0].RawSubjectPublicKeyInfo)
	mine, ok := sctSignedData(scts[0], ikh, got)
	theirs, err := ct.SerializeSCTSignatureInput(*scts[0], ct.LogEntry{Leaf: ct.MerkleTreeLeaf{TimestampedEntry: &ct.TimestampedEntry{
		EntryType: ct.PrecertLogEntryType, PrecertEntry: &ct.PreCert{IssuerKeyHash: ikh, TBSCertificate: got}}}})
	if !ok || err != nil || !bytes.Equal(mine, theirs) {
		t.Fatalf("SCT signed data differs from certificate-transparency-go's (%v)", err)
	}
	chain := append([]*x509.Certificate{leaf}, above...)
	if err := verifyEmbeddedSCTs([][]*x509.Certificate{chain}, 1, trust.Material); err != nil {
		t.Fatalf("valid SCT: %v", err)
	}
	// The SCT signs the issuer's key: another issuer does not verify.
	wrong := []*x509.Certificate{leaf, above[len(above)-1]}
	if err := verifyEmbeddedSCTs([][]*x509.Certificate{wrong}, 1, trust.Material); err == nil {
		t.Fatal("SCT verified with the wrong issuer")
	}
	// Another trusted root's CT logs do not know the SCT's log.
	vs, _ := ca.NewVirtualSigstore()
	if err := verifyEmbeddedSCTs([][]*x509.Certificate{chain}, 1, vs); err == nil {
		t.Fatal("SCT verified by an unknown log")
	}
	// An intermediate has no SCT.
	if err := verifyEmbeddedSCTs([][]*x509.Certificate{above}, 1, trust.Material); err == nil {
		t.Fatal("a certificate without SCTs passed")
	}
}

// The lazy public-good trust describes itself as the eager one does, parses
// nothing until a keyless document needs it, and then verifies as it does.
func TestLazyPublicGoodTrust(t *testing.T) {
	eager, err := PublicGoodTrust()
	if err != nil {
		t.Fatal(err)
	}
	lazy := LazyPublicGoodTrust()
	if lazy.Description != eager.Description || lazy.Material != nil {
		t.Fatalf("lazy trust: %q, material %v; eager: %q", lazy.Description, lazy.Material, eager.Description)
	}
	raw, _ := os.ReadFile("../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl")
	b, err := parseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := verifySigstoreEntity(b, lazy)
	if err != nil || lazy.Material == nil {
		t.Fatalf("lazy: %v, material loaded: %v", err, lazy.Material != nil)
	}
	want, err := verifySigstoreEntity(b, eager)
	if err != nil || sv.signer != want.signer || !sv.signedAt.Equal(want.signedAt) {
		t.Fatalf("lazy %+v, eager %+v (%v)", sv, want, err)
	}
}

// isBundle's shortcut (no mediaType spelled out, no escapes: not a bundle)
// agrees with the decoding it skips.
func TestIsBundleShortcut(t *testing.T) {
	slow := func(raw []byte) bool {
		var probe struct {
			MediaType string `json:"mediaType"`
		}
		return strictjson.UnmarshalOpen(raw, &probe) == nil && strings.HasPrefix(probe.MediaType, "application/vnd.dev.sigstore.bundle")
	}
	docs := [][]byte{
		[]byte(`{"mediaType":"application\/vnd.dev.sigstore.bundle.v0.3+json"}`),
		[]byte(`{"media\u0054ype":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
		[]byte(`{"mediatype":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
		[]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`),
	}
	for _, b := range corpusBundles(t) {
		docs = append(docs, b)
	}
	cases, _ := filepath.Glob("../testdata/verify/cases/*.intoto.jsonl")
	for _, c := range cases {
		b, _ := os.ReadFile(c)
		for line := range strings.Lines(string(b)) {
			docs = append(docs, []byte(line))
		}
	}
	for _, d := range docs {
		if got, want := isBundle(d), slow(d); got != want {
			t.Errorf("%.80s: isBundle %v, decoding says %v", d, got, want)
		}
	}
}
