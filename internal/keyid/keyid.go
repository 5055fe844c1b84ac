// Package keyid computes the key fingerprint Hallmark uses everywhere: as the
// DSSE keyid of signatures, in capability predicates and in roots of trust.
// It is the "SHA256:<base64>" SSH-style fingerprint that go-securesystemslib's
// DSSE verifier derives from a public key, so envelopes Hallmark writes verify
// with that library given nothing but the public key.
package keyid

import (
	"crypto"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Of returns the fingerprint of pub.
func Of(pub crypto.PublicKey) (string, error) { return dsse.SHA256KeyID(pub) }
