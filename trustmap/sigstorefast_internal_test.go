package trustmap

import (
	"bytes"
	"os"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// The one-pass reading of a Sigstore bundle (readBundleFast) against the
// full reading (isBundle's strict walk and probe, strictjson.Check,
// protojson): whatever the fast reading reads, the full reading reads, to
// the same message; and readBundle answers as isBundle and decodeBundle do.

// keyBundlePath is a key-signed bundle (cosign --key, publicKey hint).
const keyBundlePath = "../testdata/oci/cosign-key/blobs/sha256/e41ebf49d2fd210997ef3f4cbc15d7a08f4ac63fd32122baa23b69059183cbe1"

// checkBundleFastReading fails when readBundleFast reads raw and the full
// reading refuses it or reads it otherwise. It reports whether the fast
// reading read raw.
func checkBundleFastReading(t *testing.T, raw []byte) bool {
	t.Helper()
	// Read from a copy, overwritten once read: the message must not
	// share the document's memory (callers reuse their buffers).
	scratch := bytes.Clone(raw)
	pb, fast := readBundleFast(scratch)
	clear(scratch)
	if !fast {
		return false
	}
	if err := strictjson.Check(raw); err != nil {
		t.Fatalf("the fast reading accepts what the strict walk refuses (%v):\n%.2000s", err, raw)
	}
	if !isBundle(raw) {
		t.Fatalf("the fast reading accepts what isBundle refuses:\n%.2000s", raw)
	}
	var full protobundle.Bundle
	if err := protojson.Unmarshal(bytes.TrimSpace(raw), &full); err != nil {
		t.Fatalf("the fast reading accepts what protojson refuses (%v):\n%.2000s", err, raw)
	}
	if !proto.Equal(pb, &full) {
		t.Fatalf("messages differ:\nfast %v\nfull %v\n%.2000s", pb, &full, raw)
	}
	return true
}

// checkReadBundle fails when readBundle, as the callers use it, answers
// otherwise than isBundle and decodeBundle.
func checkReadBundle(t *testing.T, raw []byte) {
	t.Helper()
	wantBundle := isBundle(raw)
	var want *parsedBundle
	var wantErr error
	if wantBundle {
		want, wantErr = decodeBundle(raw)
	}
	gotBundle, got, gotErr := readBundle(raw)
	if gotBundle != wantBundle {
		t.Fatalf("readBundle: a bundle %v, isBundle %v:\n%.2000s", gotBundle, wantBundle, raw)
	}
	if errText(gotErr) != errText(wantErr) {
		t.Fatalf("readBundle: error %v, decodeBundle %v:\n%.2000s", gotErr, wantErr, raw)
	}
	if (got == nil) != (want == nil) || got != nil && !proto.Equal(got.Bundle.Bundle, want.Bundle.Bundle) {
		t.Fatalf("readBundle and decodeBundle read different bundles:\n%.2000s", raw)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

type bundleCase struct {
	name string
	doc  string
	fast bool // the fast reading reads it (else it must fall back)
}

// bundleFastCases are the corpus's bundles and variants of them, made by
// hand: each fast or to fall back, as the plain form says.
func bundleFastCases(t testing.TB) []bundleCase {
	t.Helper()
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	// v3: v0.3, a certificate, one log entry with promise, proof and
	// checkpoint (lines in \n), empty timestampVerificationData.
	v3 := read("../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl")
	// v2: v0.2, a certificate chain, rfc3161Timestamps [], keyid "".
	v2 := read("../testdata/corpus/slsa-verifier/gha_delegator-v2.1.0/binary-linux-amd64-push-v14.build.slsa")
	key := read(keyBundlePath)
	// edit replaces the first old in doc; old must be there.
	edit := func(doc, old, new string) string {
		if !strings.Contains(doc, old) {
			t.Fatalf("no %q in the document", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	// cut removes from the first from in doc up to the next to.
	cut := func(doc, from, to string) string {
		i := strings.Index(doc, from)
		j := strings.Index(doc[max(i, 0):], to)
		if i < 0 || j < 0 {
			t.Fatalf("no %q ... %q in the document", from, to)
		}
		return doc[:i] + doc[i+j:]
	}
	// value returns the string value of the first member name.
	value := func(doc, name string) string {
		i := strings.Index(doc, `"`+name+`":"`)
		if i < 0 {
			t.Fatalf("no %s in the document", name)
		}
		v := doc[i+len(name)+4:]
		return v[:strings.IndexByte(v, '"')]
	}
	cert := value(v3, "rawBytes")
	urlCert := strings.NewReplacer("+", "-", "/", "_").Replace(cert)
	if urlCert == cert {
		t.Fatal("the certificate's base64 has neither + nor /")
	}
	const (
		v01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
		v02 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
		v03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
	)
	entry := `{"logIndex":"7","logId":{"keyId":"AAAA"},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1700000000",` +
		`"inclusionPromise":{"signedEntryTimestamp":"AQID"},"inclusionProof":{"logIndex":"3","rootHash":"AAEC","treeSize":"4","hashes":["AAAA","AQEB"],` +
		`"checkpoint":{"envelope":"log - 1\n4\nAAEC\n"}},"canonicalizedBody":"e30="}`
	msgSig := `"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"AAAA"},"signature":"AQID"}`
	synth := func(mediaType, material, content string) string {
		return `{"mediaType":"` + mediaType + `","verificationMaterial":` + material + `,` + content + `}`
	}
	pkMaterial := `{"publicKey":{"hint":"abc"},"tlogEntries":[` + entry + `]}`

	cases := []bundleCase{
		// Read in one pass.
		{"corpus v0.3", v3, true},
		{"corpus v0.2 chain", v2, true},
		{"key-signed", key, true},
		{"v0.1", edit(v3, v03, v01), true},
		{"v0.2", edit(v3, v03, v02), true},
		{"v0.3 chain", edit(v2, v02, v03), true},
		{"bare media type", edit(v3, v03, "application/vnd.dev.sigstore.bundle"), true},
		{"v0.4 (refused later, alike)", edit(v3, v03, "application/vnd.dev.sigstore.bundle.v0.4+json"), true},
		{"message signature, public key", synth(v03, pkMaterial, msgSig), true},
		{"message signature, certificate", synth(v02, `{"certificate":{"rawBytes":"`+cert+`"},"tlogEntries":[`+entry+`]}`, msgSig), true},
		{"message signature, chain", synth(v01, `{"x509CertificateChain":{"certificates":[{"rawBytes":"`+cert+`"},{"rawBytes":"AAAA"}]}}`, msgSig), true},
		{"message signature, every algorithm", synth(v03, pkMaterial, strings.Replace(msgSig, "SHA2_256", "SHA3_384", 1)), true},
		{"algorithm unspecified", synth(v03, pkMaterial, strings.Replace(msgSig, "SHA2_256", "HASH_ALGORITHM_UNSPECIFIED", 1)), true},
		{"message signature, no digest", synth(v03, pkMaterial, `"messageSignature":{"signature":"AQID"}`), true},
		{"message signature, empty", synth(v03, pkMaterial, `"messageSignature":{}`), true},
		{"empty digest", synth(v03, pkMaterial, `"messageSignature":{"messageDigest":{}}`), true},
		{"empty envelope", synth(v03, pkMaterial, `"dsseEnvelope":{}`), true},
		{"envelope, no signatures", synth(v03, pkMaterial, `"dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}`), true},
		{"envelope, two signatures", synth(v03, pkMaterial, `"dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AQID","keyid":"k"},{"keyid":"","sig":""},{}]}`), true},
		{"no content", `{"mediaType":"` + v03 + `","verificationMaterial":` + pkMaterial + `}`, true},
		{"content first", `{"dsseEnvelope":{"payloadType":"t"},"verificationMaterial":{"publicKey":{}},"mediaType":"` + v03 + `"}`, true},
		{"media type only", `{"mediaType":"` + v03 + `"}`, true},
		{"empty material", synth(v03, `{}`, msgSig), true},
		{"empty public key", synth(v03, `{"publicKey":{}}`, msgSig), true},
		{"empty certificate", synth(v03, `{"certificate":{}}`, msgSig), true},
		{"empty chain", synth(v03, `{"x509CertificateChain":{}}`, msgSig), true},
		{"chain without certificates", synth(v03, `{"x509CertificateChain":{"certificates":[]}}`, msgSig), true},
		{"no log entries", synth(v03, `{"publicKey":{"hint":"h"},"tlogEntries":[]}`, msgSig), true},
		{"empty log entry", synth(v03, `{"publicKey":{"hint":"h"},"tlogEntries":[{}]}`, msgSig), true},
		{"log entry, empty members", synth(v03, `{"publicKey":{"hint":"h"},"tlogEntries":[{"logId":{},"kindVersion":{},"inclusionPromise":{},"inclusionProof":{"checkpoint":{}}}]}`, msgSig), true},
		{"log entries, many", synth(v03, `{"publicKey":{"hint":"h"},"tlogEntries":[`+strings.Repeat(entry+",", 11)+entry+`]}`, msgSig), true},
		{"timestamps", synth(v03, `{"publicKey":{"hint":"h"},"timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"AQID"},{}]}}`, msgSig), true},
		{"timestamps, empty data", synth(v03, `{"publicKey":{"hint":"h"},"timestampVerificationData":{}}`, msgSig), true},
		{"no inclusion proof", cut(v3, `,"inclusionProof":`, `,"canonicalizedBody"`), true},
		{"no inclusion promise", cut(v3, `,"inclusionPromise":`, `,"inclusionProof"`), true},
		{"no checkpoint", cut(v3, `,"checkpoint":`, `},"canonicalizedBody"`), true},
		{"no log id, kind or time", cut(v3, `"logId":`, `"inclusionPromise"`), true},
		{"no payload", cut(v3, `"payload":`, `"payloadType"`), true},
		{"no timestamp data", edit(v3, `,"timestampVerificationData":{}`, ``), true},
		{"no canonicalized body", edit(v3, `"canonicalizedBody":"`+value(v3, "canonicalizedBody")+`"`, `"canonicalizedBody":""`), true},
		{"empty hashes", edit(v3, `"hashes":[`, `"hashes":["",`), true},
		{"keyid present", edit(v2, `"keyid":""`, `"keyid":"some key"`), true},
		{"log index 0", edit(v3, `"logIndex":"188622862"`, `"logIndex":"0"`), true},
		{"log index max", edit(v3, `"logIndex":"188622862"`, `"logIndex":"9223372036854775807"`), true},
		{"base64 URL alphabet", edit(v3, cert, urlCert), true},
		{"base64 unpadded", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0"`), true},
		{"base64 URL unpadded", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9atQGlz-VWfO6LRygH4QUfY_8W4RFwiT5i5WRgB0"`), true},
		{"base64 trailing bits", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB1="`), true},
		{"escaped slash in media type", edit(v3, v03, `application\/vnd.dev.sigstore.bundle.v0.3+json`), true},
		{"short escapes in strings", edit(edit(key, `"hint":"`, `"hint":"\"\\\/\b\f\n\r\t`), `"payloadType":"application`, `"payloadType":"\tapplication`), true},
		{"checkpoint with \\n", v3, true},
		{"U+2028 in a string", edit(v3, `"kind":"dsse"`, "\"kind\":\"ds\u2028se\""), true},
		{"white space", " \t\r\n" + strings.ReplaceAll(strings.ReplaceAll(v3, `,"`, " ,\n\t\"" /* between members */), `":`, "\" \r: ") + " \n\t ", true},

		// Fall back: proto names, case variants, duplicates.
		{"proto name media_type", edit(v3, `"mediaType"`, `"media_type"`), false},
		{"proto name verification_material", edit(v3, `"verificationMaterial"`, `"verification_material"`), false},
		{"proto name raw_bytes", edit(v3, `"rawBytes"`, `"raw_bytes"`), false},
		{"proto name tlog_entries", edit(v3, `"tlogEntries"`, `"tlog_entries"`), false},
		{"proto name dsse_envelope", edit(v3, `"dsseEnvelope"`, `"dsse_envelope"`), false},
		{"proto name signed_entry_timestamp", edit(v3, `"signedEntryTimestamp"`, `"signed_entry_timestamp"`), false},
		{"proto and JSON name", edit(v3, `"mediaType":`, `"media_type":"x","mediaType":`), false},
		{"case variant MediaType", edit(v3, `"mediaType"`, `"MediaType"`), false},
		{"case variant mediatype", edit(v3, `"mediaType"`, `"mediatype"`), false},
		{"case variant beside", edit(v3, `"mediaType":`, `"MEDIATYPE":"x","mediaType":`), false},
		{"nested case variant", edit(v3, `"rawBytes":`, `"RawBytes":"AAAA","rawBytes":`), false},
		{"nested case variant kind", edit(v3, `"kind":`, `"Kind":"x","kind":`), false},
		{"duplicate mediaType", edit(v3, `"mediaType":`, `"mediaType":"`+v03+`","mediaType":`), false},
		{"duplicate nested kind", edit(v3, `"kind":"dsse"`, `"kind":"dsse","kind":"dsse"`), false},
		{"duplicate hint", edit(key, `"hint":`, `"hint":"x","hint":`), false},
		{"duplicate logIndex", edit(v3, `"logIndex":`, `"logIndex":"1","logIndex":`), false},
		{"duplicate proof logIndex", edit(v3, `"inclusionProof":{"logIndex":`, `"inclusionProof":{"logIndex":"1","logIndex":`), false},
		{"duplicate sig", edit(v3, `"sig":`, `"sig":"AAAA","sig":`), false},
		{"duplicate tlogEntries", edit(v3, `"tlogEntries":`, `"tlogEntries":[],"tlogEntries":`), false},
		{"duplicate signatures", edit(v3, `"signatures":`, `"signatures":[],"signatures":`), false},
		{"duplicate digest", synth(v03, pkMaterial, strings.Replace(msgSig, `"digest":`, `"digest":"AAAA","digest":`, 1)), false},
		{"duplicate algorithm", synth(v03, pkMaterial, strings.Replace(msgSig, `"algorithm":`, `"algorithm":"SHA2_256","algorithm":`, 1)), false},
		{"duplicate signedTimestamp", synth(v03, `{"timestampVerificationData":{"rfc3161Timestamps":[{"signedTimestamp":"AQID","signedTimestamp":"AQID"}]}}`, msgSig), false},
		{"duplicate certificates", synth(v03, `{"x509CertificateChain":{"certificates":[],"certificates":[]}}`, msgSig), false},
		{"duplicate envelope", edit(v3, `"dsseEnvelope":`, `"dsseEnvelope":{},"dsseEnvelope":`), false},
		{"duplicate certificate", edit(v3, `"certificate":`, `"certificate":{},"certificate":`), false},
		{"two contents", edit(v3, `"dsseEnvelope":`, msgSig+`,"dsseEnvelope":`), false},
		{"two contents, message signature last", synth(v03, pkMaterial, `"dsseEnvelope":{},`+msgSig), false},
		{"two materials: certificate and chain", edit(v3, `"certificate":`, `"x509CertificateChain":{"certificates":[]},"certificate":`), false},
		{"two materials: certificate and key", edit(v3, `"certificate":`, `"publicKey":{"hint":"h"},"certificate":`), false},
		{"two materials: key and chain", synth(v03, `{"publicKey":{},"x509CertificateChain":{}}`, msgSig), false},

		// Fall back: escapes, null, unknown members, types.
		{"\\u escape in a name", edit(v3, `"mediaType"`, `"media\u0054ype"`), false},
		{"\\u escape in a nested name", edit(v3, `"kind":`, `"k\u0069nd":`), false},
		{"short escape in a name", edit(v3, `"mediaType"`, `"media\/Type"`), false},
		{"\\u escape in media type", edit(v3, v03, `application\u002fvnd.dev.sigstore.bundle.v0.3+json`), false},
		{"\\u escape in checkpoint", edit(v3, `\n`, `\u000a`), false},
		{"surrogate pair in a string", edit(v3, `"kind":"dsse"`, `"kind":"\ud83d\ude00"`), false},
		{"lone surrogate", edit(v3, `"kind":"dsse"`, `"kind":"\ud83d"`), false},
		{"escape in bytes", edit(v3, cert, strings.Replace(cert, "/", `\/`, 1)), false},
		{"\\n in bytes", edit(v3, cert, cert[:8]+`\n`+cert[8:]), false},
		{"null media type", edit(v3, `"mediaType":"`+v03+`"`, `"mediaType":null`), false},
		{"null timestamp data", edit(v3, `"timestampVerificationData":{}`, `"timestampVerificationData":null`), false},
		{"null envelope", edit(v3, `"dsseEnvelope":`, `"messageSignature":null,"dsseEnvelope":`), false},
		{"null log entry", edit(v3, `"tlogEntries":[`, `"tlogEntries":[null,`), false},
		{"null hash", edit(v3, `"hashes":[`, `"hashes":[null,`), false},
		{"null log index", edit(v3, `"logIndex":"188622862"`, `"logIndex":null`), false},
		{"unknown member", edit(v3, `"mediaType":`, `"extra":1,"mediaType":`), false},
		{"unknown nested member", edit(v3, `"kind":`, `"extra":"x","kind":`), false},
		{"unknown deep member", edit(v3, `"kind":`, `"extra":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`,"kind":`), false},
		{"extension name", edit(v3, `"mediaType":`, `"[dev.sigstore.x]":{},"mediaType":`), false},
		{"@type", edit(v3, `"mediaType":`, `"@type":"x","mediaType":`), false},
		{"nested depth", edit(key, `"hint":"2McjTb+hHOF3xcDesGGhqOJ9f5i6JcuvOQ8b/YGBIwU="`, `"hint":`+strings.Repeat("[", 500)+strings.Repeat("]", 500)), false},
		{"log index as number", edit(v3, `"logIndex":"188622862"`, `"logIndex":188622862`), false},
		{"integrated time as number", edit(v3, `"integratedTime":"1743032850"`, `"integratedTime":1743032850`), false},
		{"log index leading zero", edit(v3, `"logIndex":"188622862"`, `"logIndex":"0188622862"`), false},
		{"log index -0", edit(v3, `"logIndex":"188622862"`, `"logIndex":"-0"`), false},
		{"log index negative", edit(v3, `"logIndex":"188622862"`, `"logIndex":"-1"`), false},
		{"log index +1", edit(v3, `"logIndex":"188622862"`, `"logIndex":"+1"`), false},
		{"log index exponent", edit(v3, `"logIndex":"188622862"`, `"logIndex":"1e3"`), false},
		{"log index fraction", edit(v3, `"logIndex":"188622862"`, `"logIndex":"1.0"`), false},
		{"log index space", edit(v3, `"logIndex":"188622862"`, `"logIndex":" 1"`), false},
		{"log index empty", edit(v3, `"logIndex":"188622862"`, `"logIndex":""`), false},
		{"log index 2^63", edit(v3, `"logIndex":"188622862"`, `"logIndex":"9223372036854775808"`), false},
		{"log index huge", edit(v3, `"logIndex":"188622862"`, `"logIndex":"99999999999999999999999999"`), false},
		{"tree size huge number", edit(v3, `"treeSize":"66718601"`, `"treeSize":1e400`), false},
		{"algorithm as number", synth(v03, pkMaterial, strings.Replace(msgSig, `"SHA2_256"`, `1`, 1)), false},
		{"algorithm as number string", synth(v03, pkMaterial, strings.Replace(msgSig, `"SHA2_256"`, `"1"`, 1)), false},
		{"algorithm unknown", synth(v03, pkMaterial, strings.Replace(msgSig, `"SHA2_256"`, `"SHA1"`, 1)), false},
		{"algorithm lower case", synth(v03, pkMaterial, strings.Replace(msgSig, `"SHA2_256"`, `"sha2_256"`, 1)), false},
		{"media type not a string", edit(v3, `"mediaType":"`+v03+`"`, `"mediaType":true`), false},
		{"log id a string", edit(v3, `"logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}`, `"logId":"x"`), false},
		{"entries an object", synth(v03, `{"tlogEntries":{}}`, msgSig), false},
		{"certificate a list", synth(v03, `{"certificate":[]}`, msgSig), false},
		{"hashes a string", edit(v3, `"hashes":[`, `"hashes":"AAAA","x":[`), false},

		// Fall back: base64 protojson refuses, other documents, trailing
		// data and white space JSON does not have.
		{"base64 mixed alphabets", edit(v3, cert, strings.Replace(urlCert, "-", "+", 1)), false},
		{"base64 padded, bad length", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=="`), false},
		{"base64 padded, two padding", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB=="`), true},
		{"base64 padding inside", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI=atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`), false},
		{"base64 bad character", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0*"`), false},
		{"base64 space", edit(v3, `"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`, `"keyId":"wNI9 tQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="`), false},
		{"other media type", edit(v3, v03, "application/json"), false},
		{"media type case", edit(v3, v03, "Application/vnd.dev.sigstore.bundle.v0.3+json"), false},
		{"no media type", edit(v3, `"mediaType":"`+v03+`",`, ``), false},
		{"empty object", `{}`, false},
		{"array", `[]`, false},
		{"null", `null`, false},
		{"empty", ``, false},
		{"trailing object", v3 + ` {}`, false},
		{"trailing garbage", v3 + `x`, false},
		{"trailing comma", v3 + `,`, false},
		{"truncated", v3[:len(v3)-1], false},
		{"BOM", "\ufeff" + v3, false},
		{"trailing NBSP", v3 + "\u00a0", false},
		{"trailing NEL", v3 + "\u0085", false},
		{"form feed between tokens", edit(v3, `,"verificationMaterial"`, ",\f\"verificationMaterial\""), false},
		{"vertical tab between tokens", edit(v3, `,"verificationMaterial"`, ",\v\"verificationMaterial\""), false},
		{"invalid UTF-8", edit(v3, `"kind":"dsse"`, "\"kind\":\"ds\xffse\""), false},
		{"control character", edit(v3, `"kind":"dsse"`, "\"kind\":\"ds\x01se\""), false},
		{"raw newline in a string", edit(v3, `\n`, "\n"), false},
		{"unknown member in a signature", synth(v03, pkMaterial, `"dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AQID","keyid":"k","extra":1}]}`), false},
	}
	return cases
}

func TestBundleFastReading(t *testing.T) {
	names := map[string]bool{}
	for _, c := range bundleFastCases(t) {
		if names[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			if got := checkBundleFastReading(t, []byte(c.doc)); got != c.fast {
				t.Errorf("fast reading %v, want %v:\n%.300s", got, c.fast, c.doc)
			}
			checkReadBundle(t, []byte(c.doc))
		})
	}
	// The bundles of the corpus in plain form are read in one pass: the
	// fast reading is what verification uses. One was rewritten by a tool
	// that escapes every non-ASCII character (the checkpoint's em dash as
	// \u2014): it is read in full.
	bundles := corpusBundles(t)
	key, err := os.ReadFile(keyBundlePath)
	if err != nil {
		t.Fatal(err)
	}
	bundles["key-signed"] = key
	fast := 0
	for name, raw := range bundles {
		want := !bytes.Contains(raw, []byte(`\u`))
		if got := checkBundleFastReading(t, raw); got != want {
			t.Errorf("%s: read in one pass %v, want %v", name, got, want)
		}
		checkReadBundle(t, raw)
		if want {
			fast++
		}
	}
	if fast < len(bundles)-1 {
		t.Errorf("%d of %d bundles of the corpus read in one pass", fast, len(bundles))
	}
}

// FuzzBundleFastReading: whatever the fast reading reads, the full reading
// reads to the same message (and so readBundle answers as isBundle and
// decodeBundle do, as TestBundleFastReading also checks).
func FuzzBundleFastReading(f *testing.F) {
	for _, c := range bundleFastCases(f) {
		f.Add([]byte(c.doc))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkBundleFastReading(t, raw)
	})
}

// BenchmarkReadBundle reads the benchmark's keyless bundle to its message:
// in one pass, and in full (the strict walk and protojson).
func BenchmarkReadBundle(b *testing.B) {
	raw, err := os.ReadFile("../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := readBundleFast(raw); !ok {
				b.Fatal("not read in one pass")
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var pb protobundle.Bundle
			if !isBundle(raw) || protojson.Unmarshal(bytes.TrimSpace(raw), &pb) != nil {
				b.Fatal("not a bundle")
			}
		}
	})
	// With the log entries and verification material decoded, as
	// verification reads a bundle.
	b.Run("parsed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ok, _, err := readBundle(raw); !ok || err != nil {
				b.Fatal(err)
			}
		}
	})
}
