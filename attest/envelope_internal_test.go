package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// envelopeSeeds are envelopes in the plain form and next to it.
var envelopeSeeds = []string{
	`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"AA=="}]}`,
	`{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="},{"keyid":"","sig":""}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","payload":"e30="}`,
	` {"payloadType" : "t" ,"payload":"e30=","signatures":[ {"keyid":"k","sig":"AA=="} ] } `,
	`{"payloadType":"t","payloadType":"u","payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","PayloadType":"u","payload":"e30=","signatures":[]}`,
	`{"payloadtype":"t","payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"k","KeyID":"j","sig":"AA=="}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"k","keyid":"j","sig":"AA=="}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[{"sig":"AA==","extra":{"a":1,"A":2}}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[],"extra":1}`,
	`{"payloadType":"\u0074","payload":"e30=","signatures":[]}`,
	`{"payloadType":null,"payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","payload":"e30=","signatures":null}`,
	`{"payloadType":"t","payload":"e30=","signatures":[null]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[]} {}`,
	`{"payloadType":"t","payload":"e30=","signatures":[]`,
	"{\"payloadType\":\"\xff\",\"payload\":\"e30=\",\"signatures\":[]}",
	`[]`, `null`, ``,
}

// TestParseEnvelopePlain: the plain reading reads the plain form, and
// only what the strict decoder reads the same way.
func TestParseEnvelopePlain(t *testing.T) {
	plain := 0
	for _, s := range envelopeSeeds {
		if checkEnvelopePlain(t, []byte(s)) {
			plain++
		}
	}
	if plain != 5 {
		t.Fatalf("%d seeds read plain, want 5", plain)
	}
}

func FuzzParseEnvelopePlain(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkEnvelopePlain(t, b)
		checkParsePlainEnvelope(t, b)
	})
}

// TestParsePlainEnvelope: ParsePlainEnvelope answers for the plain form
// only, and then as ParseEnvelope does (errors included); a bundle is never
// plain.
func TestParsePlainEnvelope(t *testing.T) {
	plain := 0
	for _, s := range append(envelopeSeeds,
		`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payloadType":"t","payload":"e30=","signatures":[{"sig":"AA=="}]}}`,
		`{"payloadType":"t","payload":"e30=","signatures":[{"sig":"AA=="}],"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`,
		`{"payloadType":"","payload":"e30=","signatures":[{"sig":"AA=="}]}`,
		`{"payloadType":"t","payload":"","signatures":[{"sig":"AA=="}]}`,
		`{"payloadType":"t","payload":"e30=","signatures":[`+strings.Repeat(`{"sig":"AA=="},`, MaxSignatures)+`{"sig":"AA=="}]}`,
		`{"payloadType":"t","payload":"`+strings.Repeat("A", MaxEnvelopeBytes)+`","signatures":[{"sig":"AA=="}]}`,
	) {
		if checkParsePlainEnvelope(t, []byte(s)) {
			plain++
		}
	}
	if plain != 8 {
		t.Fatalf("%d documents read plain, want 8", plain)
	}
}

func checkParsePlainEnvelope(t *testing.T, b []byte) bool {
	t.Helper()
	e, plain, err := ParsePlainEnvelope(b)
	if !plain {
		if e != nil || err != nil {
			t.Fatalf("%.200s: not plain, yet read: %v, %v", b, e, err)
		}
		return false
	}
	var probe struct {
		MediaType *json.RawMessage `json:"mediaType"`
	}
	if strictjson.UnmarshalOpen(bytes.TrimSpace(b), &probe) != nil || probe.MediaType != nil {
		t.Fatalf("%.200s: a document with a mediaType member read as a plain envelope", b)
	}
	want, wantErr := ParseEnvelope(b)
	if !reflect.DeepEqual(e, want) || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%.200s: plain %v, %v; ParseEnvelope %v, %v", b, e, err, want, wantErr)
	}
	return true
}

func checkEnvelopePlain(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := parseEnvelopePlain(b)
	if !ok {
		return false
	}
	var want Envelope
	if err := strictjson.UnmarshalOpen(b, &want); err != nil {
		t.Fatalf("%s: read plain, the strict decoder refuses it: %v", b, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("%s: plain %#v, strict %#v", b, *got, want)
	}
	return true
}

// paeDigest hashes exactly what ssldsse.PAE assembles, whatever the
// payload type and payload (empty, binary, with spaces and digits).
func TestPAEDigest(t *testing.T) {
	for _, tc := range []struct{ typ, payload string }{
		{"", ""},
		{"application/vnd.in-toto+json", `{"_type":"https://in-toto.io/Statement/v1"}`},
		{"t y p e 12", "12 DSSEv1 \x00\xff"},
		{strings.Repeat("x", 1000), strings.Repeat("\n", 100_000)},
	} {
		want := ssldsse.PAE(tc.typ, []byte(tc.payload))
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			w := h.New()
			w.Write(want)
			if got := paeDigest(h, tc.typ, []byte(tc.payload)); !bytes.Equal(got, w.Sum(nil)) {
				t.Errorf("%s %q: digest differs from the PAE's", h, tc.typ)
			}
		}
		var m signedMessage
		if !bytes.Equal(m.pae(tc.typ, []byte(tc.payload)), want) {
			t.Errorf("%q: PAE differs", tc.typ)
		}
	}
	// Payload types of every length around the room for the header, in
	// turn through the pooled SHA-256 hasher: nothing of one PAE stays
	// in the next one's digest.
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA512} {
		for n := range 200 {
			typ, payload := strings.Repeat("t", n), bytes.Repeat([]byte{byte(n)}, 7*n)
			w := h.New()
			w.Write(ssldsse.PAE(typ, payload))
			if got := paeDigest(h, typ, payload); !bytes.Equal(got, w.Sum(nil)) {
				t.Fatalf("%s, a type of %d bytes: digest differs from the PAE's", h, n)
			}
		}
	}
}

// Each key type's verifier hashes with the hash its signer signs with:
// P-256 with SHA-256, P-384 with SHA-384, RSA with SHA-256, Ed25519 signs
// the message itself.
func TestVerifierHashes(t *testing.T) {
	for _, tc := range []struct {
		alg  Algorithm
		want crypto.Hash
	}{{ECDSAP256, crypto.SHA256}, {Ed25519, 0}} {
		k, err := GenerateKey(tc.alg, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, h, err := k.Public().verifier(); err != nil || h != tc.want {
			t.Errorf("%s: hash %v, %v", tc.alg, h, err)
		}
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	for key, want := range map[crypto.PublicKey]crypto.Hash{&p384.PublicKey: crypto.SHA384, &rsaKey.PublicKey: crypto.SHA256} {
		if _, h, err := (&PublicKey{Key: key}).verifier(); err != nil || h != want {
			t.Errorf("%T: hash %v, %v", key, h, err)
		}
	}
}
