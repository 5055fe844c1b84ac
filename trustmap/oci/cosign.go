package oci

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// Annotations cosign puts on the DSSE layers of a keyless .att manifest.
const (
	annCosignCertificate = "dev.sigstore.cosign/certificate"
	annCosignChain       = "dev.sigstore.cosign/chain"
	annCosignBundle      = "dev.sigstore.cosign/bundle"
)

// bundleV01 is the Sigstore bundle media type used for cosign's older
// keyless attachments, which carry an inclusion promise but no proof.
const bundleV01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"

// cosignKeylessBundle turns a keyless layer of cosign's .att tag (a DSSE
// envelope, the Fulcio certificate and the Rekor entry in annotations) into
// the Sigstore bundle v0.1 it amounts to, so that the core verifies it like
// any bundle: certificate chain, SCT, the signed entry timestamp over the
// entry, and the entry against the envelope. Nothing here is trusted; a
// layer without a certificate annotation is returned as it is (key-signed).
func cosignKeylessBundle(envelope []byte, ann map[string]string) ([]byte, error) {
	certPEM, ok := ann[annCosignCertificate]
	if !ok || certPEM == "" {
		return envelope, nil
	}
	var certs []map[string]string
	for _, p := range []string{certPEM, ann[annCosignChain]} {
		rest := []byte(p)
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "CERTIFICATE" {
				certs = append(certs, map[string]string{"rawBytes": base64.StdEncoding.EncodeToString(blk.Bytes)})
			}
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: cosign layer: %s holds no PEM certificate", ErrMalformed, annCosignCertificate)
	}
	var rb struct {
		SignedEntryTimestamp string `json:"SignedEntryTimestamp"`
		Payload              struct {
			Body           string `json:"body"`
			IntegratedTime int64  `json:"integratedTime"`
			LogIndex       int64  `json:"logIndex"`
			LogID          string `json:"logID"`
		} `json:"Payload"`
	}
	raw, ok := ann[annCosignBundle]
	if !ok {
		return nil, fmt.Errorf("%w: cosign keyless layer without the %s annotation (no transparency-log entry)", ErrMalformed, annCosignBundle)
	}
	if err := strictjson.UnmarshalOpen([]byte(raw), &rb); err != nil {
		return nil, fmt.Errorf("%w: cosign layer: %s: %v", ErrMalformed, annCosignBundle, err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("%w: cosign layer: logID is not hex", ErrMalformed)
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: cosign layer: body is not base64", ErrMalformed)
	}
	var kind struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := strictjson.UnmarshalOpen(body, &kind); err != nil {
		return nil, fmt.Errorf("%w: cosign layer: transparency-log body: %v", ErrMalformed, err)
	}
	var env json.RawMessage = envelope
	b := map[string]any{
		"mediaType": bundleV01,
		"verificationMaterial": map[string]any{
			"x509CertificateChain": map[string]any{"certificates": certs},
			"tlogEntries": []any{map[string]any{
				"logIndex":          strconv.FormatInt(rb.Payload.LogIndex, 10),
				"logId":             map[string]string{"keyId": base64.StdEncoding.EncodeToString(logID)},
				"kindVersion":       map[string]string{"kind": kind.Kind, "version": kind.APIVersion},
				"integratedTime":    strconv.FormatInt(rb.Payload.IntegratedTime, 10),
				"inclusionPromise":  map[string]string{"signedEntryTimestamp": rb.SignedEntryTimestamp},
				"canonicalizedBody": rb.Payload.Body,
			}},
		},
		"dsseEnvelope": env,
	}
	return json.Marshal(b)
}
