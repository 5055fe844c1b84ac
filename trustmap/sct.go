package trustmap

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	ct "github.com/google/certificate-transparency-go"
	"github.com/google/certificate-transparency-go/tls"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/google/certificate-transparency-go/x509util"
	"github.com/sigstore/sigstore-go/pkg/root"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// oidSCTList is the X.509 extension of embedded signed certificate
// timestamps (RFC 6962).
var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// verifyEmbeddedSCTs is sigstore-go's VerifySignedCertificateTimestamp
// without re-parsing the leaf and its issuer for every bundle: the SCTs are
// read from the leaf Go parsed, and the precertificate the log signed is
// rebuilt from the leaf's TBSCertificate and the issuer's key (all RFC 6962
// needs). SCTs of logs the trusted root does not know, or outside a log's
// validity period, are skipped; threshold logs must verify.
func verifyEmbeddedSCTs(chains [][]*x509.Certificate, threshold int, tm root.TrustedMaterial) error {
	if len(chains) == 0 || len(chains[0]) == 0 || chains[0][0] == nil {
		return errors.New("no chains provided")
	}
	leaf := chains[0][0]
	list, err := embeddedSCTList(leaf)
	if err != nil {
		return err
	}
	scts, err := x509util.ParseSCTsFromSCTList(&list)
	if err != nil {
		return err
	}
	tbs, err := removeSCTList(leaf.RawTBSCertificate)
	if err != nil {
		return err
	}
	ctlogs := tm.CTLogs()
	verified := map[string]bool{}
	for _, sct := range scts {
		id := hex.EncodeToString(sct.LogID.KeyID[:])
		if verified[id] {
			continue
		}
		log, ok := ctlogs[id]
		if !ok {
			continue
		}
		at := ct.TimestampToTime(sct.Timestamp)
		if (!log.ValidityPeriodStart.IsZero() && at.Before(log.ValidityPeriodStart)) || (!log.ValidityPeriodEnd.IsZero() && at.After(log.ValidityPeriodEnd)) {
			continue
		}
		sv, err := ct.NewSignatureVerifier(log.PublicKey)
		if err != nil {
			continue
		}
		for _, chain := range chains {
			if len(chain) < 2 {
				continue
			}
			issuerKeyHash := sha256.Sum256(chain[1].RawSubjectPublicKeyInfo)
			if ok, handled := verifySCTECDSA(log.PublicKey, sct, issuerKeyHash, tbs); handled {
				if ok {
					verified[id] = true
					break
				}
				continue
			}
			// The precertificate the log signed (RFC 6962 3.2): the leaf's
			// TBSCertificate without the SCT list, and its issuer's key.
			entry := ct.LogEntry{Leaf: ct.MerkleTreeLeaf{
				Version:  ct.V1,
				LeafType: ct.TimestampedEntryLeafType,
				TimestampedEntry: &ct.TimestampedEntry{
					EntryType: ct.PrecertLogEntryType,
					Timestamp: sct.Timestamp,
					PrecertEntry: &ct.PreCert{
						IssuerKeyHash:  issuerKeyHash,
						TBSCertificate: tbs,
					},
				},
			}}
			if sv.VerifySCTSignature(*sct, entry) == nil {
				verified[id] = true
				break
			}
		}
	}
	if len(verified) < threshold {
		return fmt.Errorf("only able to verify %d SCT entries; unable to meet threshold of %d", len(verified), threshold)
	}
	return nil
}

// removeSCTList returns a DER TBSCertificate without its one SCT list
// extension, the other extensions in their order (certificate-transparency-
// go's x509.RemoveSCTList, without decoding the whole certificate).
func removeSCTList(tbs []byte) ([]byte, error) {
	malformed := errors.New("failed to remove SCT List extension: malformed TBSCertificate")
	in := cryptobyte.String(tbs)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, malformed
	}
	extensionsTag := cbasn1.Tag(3).Constructed().ContextSpecific()
	found := 0
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for !seq.Empty() {
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !seq.ReadAnyASN1Element(&el, &tag) {
				b.SetError(malformed)
				return
			}
			if tag != extensionsTag {
				b.AddBytes(el)
				continue
			}
			var explicit, exts cryptobyte.String
			if !el.ReadASN1(&explicit, tag) || !explicit.ReadASN1(&exts, cbasn1.SEQUENCE) || !explicit.Empty() {
				b.SetError(malformed)
				return
			}
			b.AddASN1(tag, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for !exts.Empty() {
						var ext, body cryptobyte.String
						var oid asn1.ObjectIdentifier
						if !exts.ReadASN1Element(&ext, cbasn1.SEQUENCE) {
							b.SetError(malformed)
							return
						}
						e := ext
						if !e.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) {
							b.SetError(malformed)
							return
						}
						if oid.Equal(oidSCTList) {
							found++
							continue
						}
						b.AddBytes(ext)
					}
				})
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	if found != 1 {
		return nil, fmt.Errorf("failed to remove SCT List extension: expected one, got %d", found)
	}
	return out, nil
}

// embeddedSCTList decodes the SCT list extension of a certificate.
func embeddedSCTList(c *x509.Certificate) (ctx509.SignedCertificateTimestampList, error) {
	var list ctx509.SignedCertificateTimestampList
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidSCTList) {
			continue
		}
		var raw []byte
		if rest, err := asn1.Unmarshal(e.Value, &raw); err != nil || len(rest) != 0 {
			return list, errors.New("malformed SCT list extension")
		}
		if rest, err := tls.Unmarshal(raw, &list); err != nil || len(rest) != 0 {
			return list, errors.New("malformed SCT list")
		}
		return list, nil
	}
	return list, nil
}

// sctSignedData is what a log signs for a precertificate SCT (RFC 6962
// 3.2, digitally-signed struct of a certificate_timestamp), encoded by hand
// (certificate-transparency-go's encoder reflects on every field).
func sctSignedData(sct *ct.SignedCertificateTimestamp, issuerKeyHash [32]byte, tbs []byte) ([]byte, bool) {
	if sct.SCTVersion != ct.V1 || len(tbs) >= 1<<24 || len(sct.Extensions) >= 1<<16 {
		return nil, false
	}
	b := make([]byte, 0, 2+8+2+32+3+len(tbs)+2+len(sct.Extensions))
	b = append(b, byte(ct.V1), byte(ct.CertificateTimestampSignatureType))
	b = binary.BigEndian.AppendUint64(b, sct.Timestamp)
	b = binary.BigEndian.AppendUint16(b, uint16(ct.PrecertLogEntryType))
	b = append(b, issuerKeyHash[:]...)
	b = append(b, byte(len(tbs)>>16), byte(len(tbs)>>8), byte(len(tbs)))
	b = append(b, tbs...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sct.Extensions)))
	return append(b, sct.Extensions...), true
}

// verifySCTECDSA verifies an ECDSA-SHA256 SCT of an ECDSA log key (every
// public-good CT log); handled is false for other algorithms, which the
// certificate-transparency-go verifier checks.
func verifySCTECDSA(key crypto.PublicKey, sct *ct.SignedCertificateTimestamp, issuerKeyHash [32]byte, tbs []byte) (ok, handled bool) {
	k, isECDSA := key.(*ecdsa.PublicKey)
	if !isECDSA || sct.Signature.Algorithm.Signature != tls.ECDSA || sct.Signature.Algorithm.Hash != tls.SHA256 {
		return false, false
	}
	data, encoded := sctSignedData(sct, issuerKeyHash, tbs)
	if !encoded {
		return false, false
	}
	d := sha256.Sum256(data)
	return ecdsa.VerifyASN1(k, d[:], sct.Signature.Signature), true
}
