package trustmap

import (
	"bytes"
	"encoding/base64"
	"math"

	"github.com/go-json-experiment/json/jsontext"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// bundleMediaType is how the mediaType of a Sigstore bundle begins
// (isBundle).
const bundleMediaType = "application/vnd.dev.sigstore.bundle"

// readBundleFast is the one reading of the common case: a Sigstore bundle
// (v0.1 to v0.3) in plain form. In a single pass it builds the message the
// full reading builds, or answers ok=false and the document is read in full
// (isBundle, then decodeBundle), unchanged. Whatever it reads, the full
// reading reads too, to the same message:
//
//   - the strict walk (isBundle's, strictjson.Check's) finds no name given
//     twice, nor twice up to case, at any depth, and the document is one
//     value of valid UTF-8;
//   - isBundle's probe finds a mediaType beginning as a bundle's does;
//   - protojson.Unmarshal reads it into the same protobundle.Bundle
//     (proto.Equal).
//
// The plain form: every member name is exactly the JSON name of a field of
// the message it is in (protobuf-specs v0.5.2: "mediaType", never the proto
// name "media_type", an extension or a name the message does not define),
// each at most once, and at most one member of each oneof (content,
// verificationMaterial's content); every value has the type of its field,
// never null; strings (mediaType, hint, kind, version, envelope,
// payloadType, keyid) have no escape sequence but the short ones \" \\ \/
// \b \f \n \r \t (the checkpoint's envelope has its lines in \n), which
// protojson reads as the decoder does; bytes fields have no escape sequence
// and are read by protojson's rule (unmarshalBytes: the URL alphabet if the
// text has - or _, the standard one otherwise; padded when the length is a
// multiple of 4, unpadded otherwise); int64 fields (logIndex,
// integratedTime, treeSize) are decimal strings without sign or leading
// zeros, at most 2^63-1; the hash algorithm is given by its name; nothing
// but white space follows the object.
//
// TestBundleFastReading and FuzzBundleFastReading check it against the full
// reading.
func readBundleFast(raw []byte) (*protobundle.Bundle, bool) {
	d, done := strictjson.Decoder(raw, jsontext.AllowDuplicateNames(true))
	defer done()
	r := bundleReader{d: d}
	pb := &protobundle.Bundle{}
	if !r.bundle(pb) || !strictjson.AtEnd(d) {
		return nil, false
	}
	if len(pb.MediaType) < len(bundleMediaType) || pb.MediaType[:len(bundleMediaType)] != bundleMediaType {
		return nil, false // not a bundle for isBundle
	}
	return pb, true
}

// bundleReader reads the messages of a bundle, each from a JSON object
// whose members it reads by their JSON names (field functions answer false
// for any other name, and for a name given twice).
type bundleReader struct {
	d *jsontext.Decoder
}

func (r bundleReader) bundle(pb *protobundle.Bundle) bool {
	var seen [3]bool // mediaType, verificationMaterial, the content oneof
	return strictjson.ReadPlainObject(r.d, func(name []byte) bool {
		switch string(name) {
		case "mediaType":
			return strictjson.Once(&seen[0]) && r.str(&pb.MediaType)
		case "verificationMaterial":
			if !strictjson.Once(&seen[1]) {
				return false
			}
			pb.VerificationMaterial = &protobundle.VerificationMaterial{}
			return r.material(pb.VerificationMaterial)
		case "dsseEnvelope":
			if !strictjson.Once(&seen[2]) {
				return false
			}
			env := &protodsse.Envelope{}
			pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
			return r.envelope(env)
		case "messageSignature":
			if !strictjson.Once(&seen[2]) {
				return false
			}
			ms := &protocommon.MessageSignature{}
			pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: ms}
			return r.messageSignature(ms)
		}
		return false
	})
}

func (r bundleReader) material(vm *protobundle.VerificationMaterial) bool {
	d := r.d
	var seen [3]bool // the content oneof, tlogEntries, timestampVerificationData
	return strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "publicKey":
			if !strictjson.Once(&seen[0]) {
				return false
			}
			pk := &protocommon.PublicKeyIdentifier{}
			vm.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: pk}
			var hint bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				return string(name) == "hint" && strictjson.Once(&hint) && r.str(&pk.Hint)
			})
		case "x509CertificateChain":
			if !strictjson.Once(&seen[0]) {
				return false
			}
			chain := &protocommon.X509CertificateChain{}
			vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: chain}
			var certs bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				return string(name) == "certificates" && strictjson.Once(&certs) && r.list(func() bool {
					c := &protocommon.X509Certificate{}
					chain.Certificates = append(chain.Certificates, c)
					return r.certificate(c)
				})
			})
		case "certificate":
			if !strictjson.Once(&seen[0]) {
				return false
			}
			c := &protocommon.X509Certificate{}
			vm.Content = &protobundle.VerificationMaterial_Certificate{Certificate: c}
			return r.certificate(c)
		case "tlogEntries":
			return strictjson.Once(&seen[1]) && r.list(func() bool {
				e := &protorekor.TransparencyLogEntry{}
				vm.TlogEntries = append(vm.TlogEntries, e)
				return r.tlogEntry(e)
			})
		case "timestampVerificationData":
			if !strictjson.Once(&seen[2]) {
				return false
			}
			tv := &protobundle.TimestampVerificationData{}
			vm.TimestampVerificationData = tv
			var stamps bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				return string(name) == "rfc3161Timestamps" && strictjson.Once(&stamps) && r.list(func() bool {
					ts := &protocommon.RFC3161SignedTimestamp{}
					tv.Rfc3161Timestamps = append(tv.Rfc3161Timestamps, ts)
					var signed bool
					return strictjson.ReadPlainObject(d, func(name []byte) bool {
						return string(name) == "signedTimestamp" && strictjson.Once(&signed) && r.bytes(&ts.SignedTimestamp)
					})
				})
			})
		}
		return false
	})
}

func (r bundleReader) certificate(c *protocommon.X509Certificate) bool {
	var raw bool
	return strictjson.ReadPlainObject(r.d, func(name []byte) bool {
		return string(name) == "rawBytes" && strictjson.Once(&raw) && r.bytes(&c.RawBytes)
	})
}

func (r bundleReader) tlogEntry(e *protorekor.TransparencyLogEntry) bool {
	d := r.d
	var seen [7]bool
	return strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "logIndex":
			return strictjson.Once(&seen[0]) && r.int64(&e.LogIndex)
		case "logId":
			if !strictjson.Once(&seen[1]) {
				return false
			}
			e.LogId = &protocommon.LogId{}
			var key bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				return string(name) == "keyId" && strictjson.Once(&key) && r.bytes(&e.LogId.KeyId)
			})
		case "kindVersion":
			if !strictjson.Once(&seen[2]) {
				return false
			}
			kv := &protorekor.KindVersion{}
			e.KindVersion = kv
			var kind, version bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				switch string(name) {
				case "kind":
					return strictjson.Once(&kind) && r.str(&kv.Kind)
				case "version":
					return strictjson.Once(&version) && r.str(&kv.Version)
				}
				return false
			})
		case "integratedTime":
			return strictjson.Once(&seen[3]) && r.int64(&e.IntegratedTime)
		case "inclusionPromise":
			if !strictjson.Once(&seen[4]) {
				return false
			}
			e.InclusionPromise = &protorekor.InclusionPromise{}
			var set bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				return string(name) == "signedEntryTimestamp" && strictjson.Once(&set) && r.bytes(&e.InclusionPromise.SignedEntryTimestamp)
			})
		case "inclusionProof":
			if !strictjson.Once(&seen[5]) {
				return false
			}
			e.InclusionProof = &protorekor.InclusionProof{}
			return r.inclusionProof(e.InclusionProof)
		case "canonicalizedBody":
			return strictjson.Once(&seen[6]) && r.bytes(&e.CanonicalizedBody)
		}
		return false
	})
}

func (r bundleReader) inclusionProof(p *protorekor.InclusionProof) bool {
	d := r.d
	var seen [5]bool
	return strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "logIndex":
			return strictjson.Once(&seen[0]) && r.int64(&p.LogIndex)
		case "rootHash":
			return strictjson.Once(&seen[1]) && r.bytes(&p.RootHash)
		case "treeSize":
			return strictjson.Once(&seen[2]) && r.int64(&p.TreeSize)
		case "hashes":
			return strictjson.Once(&seen[3]) && r.list(func() bool {
				var h []byte
				if !r.bytes(&h) {
					return false
				}
				if h == nil {
					h = []byte{} // an element is kept, empty or not
				}
				p.Hashes = append(p.Hashes, h)
				return true
			})
		case "checkpoint":
			if !strictjson.Once(&seen[4]) {
				return false
			}
			p.Checkpoint = &protorekor.Checkpoint{}
			var env bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				return string(name) == "envelope" && strictjson.Once(&env) && r.str(&p.Checkpoint.Envelope)
			})
		}
		return false
	})
}

func (r bundleReader) envelope(env *protodsse.Envelope) bool {
	d := r.d
	var seen [3]bool
	return strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "payload":
			return strictjson.Once(&seen[0]) && r.bytes(&env.Payload)
		case "payloadType":
			return strictjson.Once(&seen[1]) && r.str(&env.PayloadType)
		case "signatures":
			return strictjson.Once(&seen[2]) && r.list(func() bool {
				sig := &protodsse.Signature{}
				env.Signatures = append(env.Signatures, sig)
				var s, k bool
				return strictjson.ReadPlainObject(d, func(name []byte) bool {
					switch string(name) {
					case "sig":
						return strictjson.Once(&s) && r.bytes(&sig.Sig)
					case "keyid":
						return strictjson.Once(&k) && r.str(&sig.Keyid)
					}
					return false
				})
			})
		}
		return false
	})
}

func (r bundleReader) messageSignature(ms *protocommon.MessageSignature) bool {
	d := r.d
	var seen [2]bool
	return strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "messageDigest":
			if !strictjson.Once(&seen[0]) {
				return false
			}
			h := &protocommon.HashOutput{}
			ms.MessageDigest = h
			var alg, digest bool
			return strictjson.ReadPlainObject(d, func(name []byte) bool {
				switch string(name) {
				case "algorithm":
					return strictjson.Once(&alg) && r.hashAlgorithm(&h.Algorithm)
				case "digest":
					return strictjson.Once(&digest) && r.bytes(&h.Digest)
				}
				return false
			})
		case "signature":
			return strictjson.Once(&seen[1]) && r.bytes(&ms.Signature)
		}
		return false
	})
}

// list reads a JSON array, each element with elem.
func (r bundleReader) list(elem func() bool) bool {
	d := r.d
	if d.PeekKind() != '[' {
		return false
	}
	if _, err := d.ReadToken(); err != nil {
		return false
	}
	for d.PeekKind() != ']' {
		if !elem() {
			return false
		}
	}
	_, err := d.ReadToken()
	return err == nil
}

// str reads a string field as protojson reads it, when it has no escape
// sequence but the short ones (\" \\ \/ \b \f \n \r \t), which mean the
// same to every JSON decoder; a \u escape is read in full.
func (r bundleReader) str(s *string) bool {
	d := r.d
	if d.PeekKind() != '"' {
		return false
	}
	v, err := d.ReadValue() // a valid string: escapes well formed, valid UTF-8
	if err != nil {
		return false
	}
	v = v[1 : len(v)-1]
	i := bytes.IndexByte(v, '\\')
	if i < 0 {
		*s = string(v)
		return true
	}
	out := make([]byte, 0, len(v))
	for i >= 0 {
		out = append(out, v[:i]...)
		var c byte
		switch v[i+1] {
		case '"', '\\', '/':
			c = v[i+1]
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		default:
			return false // \u
		}
		out = append(out, c)
		v = v[i+2:]
		i = bytes.IndexByte(v, '\\')
	}
	*s = string(append(out, v...))
	return true
}

// bytes reads a bytes field as protojson does (its unmarshalBytes), from a
// string without escape sequences. An empty value leaves the field nil,
// as protojson's setting of a proto3 bytes field does.
func (r bundleReader) bytes(b *[]byte) bool {
	s, ok := strictjson.ReadPlainBytes(r.d)
	if !ok {
		return false
	}
	enc := base64.StdEncoding
	// strings.ContainsAny(s, "-_"), by the faster byte search.
	if bytes.IndexByte(s, '-') >= 0 || bytes.IndexByte(s, '_') >= 0 {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		// What enc.WithPadding(base64.NoPadding) gives.
		if enc == base64.URLEncoding {
			enc = base64.RawURLEncoding
		} else {
			enc = base64.RawStdEncoding
		}
	}
	out := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, s)
	if err != nil {
		return false
	}
	if n == 0 {
		*b = nil
		return true
	}
	*b = out[:n]
	return true
}

// int64 reads an int64 field given as a decimal string without sign or
// leading zeros (as Sigstore writes them), which protojson reads to the
// same number.
func (r bundleReader) int64(v *int64) bool {
	s, ok := strictjson.ReadPlainBytes(r.d)
	if !ok || len(s) == 0 || len(s) > 1 && s[0] == '0' {
		return false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return false
		}
		n = n*10 + d
	}
	*v = n
	return true
}

// hashAlgorithm reads the hash algorithm by its name, as protojson does;
// a number is read in full.
func (r bundleReader) hashAlgorithm(a *protocommon.HashAlgorithm) bool {
	s, ok := strictjson.ReadPlainBytes(r.d)
	if !ok {
		return false
	}
	v := hashAlgorithms.ByName(protoreflect.Name(s))
	if v == nil {
		return false
	}
	*a = protocommon.HashAlgorithm(v.Number())
	return true
}

var hashAlgorithms = protocommon.HashAlgorithm(0).Descriptor().Values()
