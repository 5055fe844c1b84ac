package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
)

// VerifyEnvelopeBudget (the PAE hashed as it is encoded) answers as
// sigstore's default verifier given the whole PAE does, for every key type and for signatures made with
// the right hash, the wrong hashes, RSA-PSS, and on a PAE with another
// payload type, payload or length prefix.
func TestEnvelopeDigestMatchesWholePAE(t *testing.T) {
	type keyCase struct {
		name string
		priv crypto.Signer
	}
	var keys []keyCase
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, keyCase{c.Params().Name, k})
	}
	for _, bits := range []int{2048, 3072} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, keyCase{"RSA", k})
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	keys = append(keys, keyCase{"Ed25519", ed})

	payloadTypes := []string{"application/vnd.in-toto+json", "", "t y p e 12", "12", strings.Repeat("long/type", 30)}
	payloads := [][]byte{[]byte(`{"a":1}`), nil, []byte("12 DSSEv1 \x00"), bytes.Repeat([]byte("x"), 70000)}

	for _, kc := range keys {
		pub := &PublicKey{Key: kc.priv.Public(), Fingerprint: "fp"}
		verified := 0
		for _, pt := range payloadTypes {
			for _, pl := range payloads {
				pae := ssldsse.PAE(pt, pl)
				// Signatures: over this PAE with several hashes and
				// schemes, and over neighbouring messages.
				var sigs [][]byte
				sign := func(msg []byte, h crypto.Hash, pss bool) {
					switch k := kc.priv.(type) {
					case ed25519.PrivateKey:
						sigs = append(sigs, ed25519.Sign(k, msg))
					default:
						w := h.New()
						w.Write(msg)
						d := w.Sum(nil)
						var opts crypto.SignerOpts = h
						if pss {
							opts = &rsa.PSSOptions{Hash: h}
						}
						s, err := kc.priv.Sign(rand.Reader, d, opts)
						if err != nil {
							t.Fatal(err)
						}
						sigs = append(sigs, s)
					}
				}
				for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
					sign(pae, h, false)
					if _, ok := kc.priv.(*rsa.PrivateKey); ok {
						sign(pae, h, true)
					}
					sign(ssldsse.PAE(pt+" ", pl), h, false)
					sign(append(bytes.Clone(pae), 0), h, false)
					sign(pae[:len(pae)-min(1, len(pae))], h, false)
				}
				sigs = append(sigs, nil, []byte{0})
				old, err := signature.LoadDefaultVerifier(pub.Key)
				if err != nil {
					t.Fatal(err)
				}
				for i, s := range sigs {
					want := old.VerifySignature(bytes.NewReader(s), bytes.NewReader(pae)) == nil
					e := &Envelope{PayloadType: pt, Payload: base64.StdEncoding.EncodeToString(pl)}
					e.Signatures = append(e.Signatures, ssldsse.Signature{Sig: base64.StdEncoding.EncodeToString(s)})
					_, _, err := VerifyEnvelope(context.Background(), e, pt, []*PublicKey{pub})
					got := err == nil
					if got {
						verified++
					}
					if got != want {
						t.Errorf("%s %q %d-byte payload, signature %d: verified %v, before the change %v (%v)", kc.name, pt, len(pl), i, got, want, err)
					}
				}
			}
		}
		if verified == 0 {
			t.Errorf("%s: no signature verified", kc.name)
		}
		t.Logf("%s: %d signatures verified", kc.name, verified)
	}
}
