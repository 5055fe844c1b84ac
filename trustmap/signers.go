package trustmap

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/safetext"
)

// DistinctKeys refuses a set of keys in which one key appears twice, in the
// same file or in two PEM files that wrap it differently: keys are compared
// by fingerprint. A threshold of N counts N different keys, never one key
// given N times.
func DistinctKeys(keys []*attest.PublicKey) error { return attest.DistinctKeys(keys) }

// VerifyThreshold checks that at least threshold of keys each made a valid
// signature of env, with the expected payload type. Signers are counted by
// key fingerprint: two signatures by one key (or one key given twice, which
// is refused) count once. It returns the verified payload and the
// fingerprints of the keys that signed it, sorted.
func VerifyThreshold(ctx context.Context, env *attest.Envelope, payloadType string, keys []*attest.PublicKey, threshold int) ([]byte, []string, error) {
	if err := DistinctKeys(keys); err != nil {
		return nil, nil, err
	}
	if threshold < 1 || threshold > len(keys) {
		return nil, nil, fmt.Errorf("%w: threshold %d with %d distinct keys (expected 1 to %d)", ErrThresholdNotMet, threshold, len(keys), len(keys))
	}
	var payload []byte
	var signers []string
	var lastErr error
	for _, k := range keys {
		p, _, err := attest.VerifyEnvelope(ctx, env, payloadType, []*attest.PublicKey{k})
		if err != nil {
			lastErr = err
			continue
		}
		payload = p
		signers = append(signers, k.Fingerprint)
	}
	slices.Sort(signers)
	if len(signers) < threshold {
		why := ""
		if lastErr != nil {
			why = ": " + lastErr.Error()
		}
		return nil, nil, fmt.Errorf("%w: expected valid signatures by %d of %s, found %d (%s)%s", ErrThresholdNotMet, threshold, fingerprints(keys), len(signers), strings.Join(signers, ", "), why)
	}
	return payload, signers, nil
}

// CoSign signs a document, or adds signatures to a signed one, so that
// several people can sign on their own machines one after the other. Given
// a plain document, its bytes are the payload, unchanged. Given a DSSE
// envelope, every key signs the payload already there and its signature is
// appended: the payload is never re-encoded, a key that already signed is
// refused, and so is an envelope of another payload type. validate checks
// the payload before anything is signed.
func CoSign(ctx context.Context, doc []byte, payloadType string, keys []*attest.PrivateKey, validate func(payload []byte) error) ([]byte, error) {
	if len(keys) == 0 {
		return nil, attest.ErrNoKeys
	}
	pubs := make([]*attest.PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.Public()
	}
	if err := DistinctKeys(pubs); err != nil {
		return nil, err
	}
	env := &attest.Envelope{PayloadType: payloadType}
	payload := doc
	if isEnvelope(doc) {
		e, err := attest.ParseEnvelope(doc)
		if err != nil {
			return nil, err
		}
		if e.PayloadType != payloadType {
			return nil, fmt.Errorf("%w: expected payloadType %q, got %q", attest.ErrWrongPayloadType, payloadType, safetext.Term(e.PayloadType))
		}
		if payload, err = attest.DecodePayload(e); err != nil {
			return nil, err
		}
		for _, k := range pubs {
			if _, _, err := attest.VerifyEnvelope(ctx, e, payloadType, []*attest.PublicKey{k}); err == nil {
				return nil, fmt.Errorf("%w: %s has already signed this document", ErrDuplicateKey, k.Fingerprint)
			}
		}
		if len(e.Signatures)+len(keys) > attest.MaxSignatures {
			return nil, fmt.Errorf("%w: %d signatures, at most %d accepted", attest.ErrMalformedEnvelope, len(e.Signatures)+len(keys), attest.MaxSignatures)
		}
		env = e
	}
	if err := validate(payload); err != nil {
		return nil, err
	}
	for _, k := range keys {
		e, err := attest.Sign(ctx, payloadType, payload, k)
		if err != nil {
			return nil, err
		}
		if env.Payload == "" {
			env.Payload = e.Payload
		} else if got, err := attest.DecodePayload(env); err != nil || !bytes.Equal(got, payload) {
			return nil, ErrPayloadChanged
		}
		env.Signatures = append(env.Signatures, e.Signatures...)
	}
	return attest.MarshalEnvelope(env)
}
