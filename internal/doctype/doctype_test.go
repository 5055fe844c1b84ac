package doctype

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envelope(payloadType, payload string) string {
	return `{"payloadType":"` + payloadType + `","payload":"` + base64.StdEncoding.EncodeToString([]byte(payload)) + `","signatures":[{"keyid":"k1","sig":"AA=="}]}`
}

func TestIdentify(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Kind
	}{
		{"answers", `{"schema":"https://hallmark.build/answers/v1"}`, Answers},
		{"review", `{"schema":"https://hallmark.build/review/v1"}`, Review},
		{"roots v2", `{"schema":"https://hallmark.build/roots/v2"}`, Roots},
		{"roots v1", `{"schema":"https://hallmark.build/roots/v1"}`, Roots},
		{"roots v3", `{"schema":"https://hallmark.build/roots/v3"}`, Roots},
		{"verifier trust", `{"schema":"https://hallmark.build/verifier-trust/v1"}`, VerifierTrust},
		{"signed verifier trust", envelope(VerifierTrustPayloadType, `{}`), SignedVerifierTrust},
		{"serial state", `{"schema":"https://hallmark.build/trust-state/v1"}`, SerialState},
		{"policy", `{"schema":"https://hallmark.build/policy/v2"}`, Policy},
		{"certifiers", `{"schema":"https://hallmark.build/certifiers/v1"}`, Certifiers},
		{"revocations", `{"schema":"https://hallmark.build/revocations/v1"}`, Revocations},
		{"tofu", `{"schema":"https://hallmark.build/tofu/v2"}`, TOFU},
		{"approval", `{"schema":"https://hallmark.build/tofu-approval/v1"}`, Approval},
		{"unknown schema", `{"schema":"https://example.com/x"}`, UnknownJSONSchema},
		{"signed roots", envelope(RootsPayloadType, `{}`), SignedRoots},
		{"signed policy", envelope(PolicyPayloadType, `{}`), SignedPolicy},
		{"capability", envelope("application/vnd.in-toto+json", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://hallmark.build/builder-capability/v0.1"}`), Capability},
		{"vsa", envelope("application/vnd.in-toto+json", `{"predicateType":"https://slsa.dev/verification_summary/v1"}`), VSA},
		{"provenance", envelope("application/vnd.in-toto+json", `{"predicateType":"https://slsa.dev/provenance/v1"}`), Provenance},
		{"other in-toto", envelope("application/vnd.in-toto+json", `{"predicateType":"https://example.com/p"}`), InTotoEnvelope},
		{"other envelope", envelope("text/plain", `hi`), Envelope},
		{"bundle", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`, Bundle},
		{"statement", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"x"}`, Statement},
		{"json lines", envelope("application/vnd.in-toto+json", `{}`) + "\n" + envelope("application/vnd.in-toto+json", `{}`) + "\n", ProvenanceLines},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----\n", PublicKey},
		{"private key", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nxx\n", PrivateKey},
		{"tarball", "\x1f\x8b\x08\x00binary", NotJSON},
		{"text", "hello", NotJSON},
		{"empty", "", NotJSON},
		// One reading: a duplicate or case-variant name is not identified.
		{"duplicate schema", `{"schema":"https://hallmark.build/roots/v2","schema":"https://hallmark.build/answers/v1"}`, NotJSON},
		{"case variant", `{"Schema":"https://hallmark.build/roots/v2"}`, NotJSON},
		{"pretty JSON over lines", "{\n  \"schema\": \"https://hallmark.build/roots/v2\"\n}\n", Roots},
	}
	for _, tc := range cases {
		if got := Identify([]byte(tc.in)).Kind; got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Every real document in testdata is recognised as what it is.
func TestIdentifyTestdata(t *testing.T) {
	for file, want := range map[string]Kind{
		"../../testdata/verify/roots.json":                                  Roots,
		"../../testdata/verify/certifiers.json":                             Certifiers,
		"../../testdata/verify/hosted-vm.capability.json":                   Capability,
		"../../testdata/verify/cases/pass-policy-l3.intoto.jsonl":           Provenance,
		"../../testdata/answers/l3-hosted.json":                             Answers,
		"../../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl": Bundle,
	} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := Identify(b).Kind; got != want {
			t.Errorf("%s: %v, want %v", filepath.Base(file), got, want)
		}
	}
}

// Text shown for a terminal never carries an escape sequence from the input.
func TestShowEscapes(t *testing.T) {
	in := envelope("application/vnd.in-toto+json\x1b[2J", `{"predicateType":"https://slsa.dev/provenance/v1","x":"\u001b[31mPASSED\u202e"}`)
	var out bytes.Buffer
	Show("f\x1b.json", Identify([]byte(in)), []byte(in)).WriteText(&out)
	if strings.ContainsAny(out.String(), "\x1b\u202e") {
		t.Fatalf("unescaped: %q", out.String())
	}
	if !strings.Contains(out.String(), "UNVERIFIED") {
		t.Fatal("does not say it is unverified")
	}
}

func FuzzIdentify(f *testing.F) {
	f.Add([]byte(`{"schema":"https://hallmark.build/roots/v2"}`))
	f.Add([]byte(envelope("application/vnd.in-toto+json", `{"predicateType":"https://slsa.dev/provenance/v1"}`)))
	f.Add([]byte(envelope(RootsPayloadType, `{"schema":"x"}`) + "\n{}\n"))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payloadType":"a","payload":"e30="}}`))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := Identify(b)
		if d.Kind.String() == "" || d.Kind.ID() == "" {
			t.Fatalf("kind %d has no name", d.Kind)
		}
		var out bytes.Buffer
		Show("f", d, b).WriteText(&out)
		if bytes.ContainsRune(out.Bytes(), 0x1b) {
			t.Fatalf("escape sequence reached the text: %q", out.String())
		}
		if (d.Kind == PublicKey || d.Kind == PrivateKey) && bytes.Contains(out.Bytes(), b) && len(b) > 40 {
			t.Fatal("key material echoed")
		}
	})
}
