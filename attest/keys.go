package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/hallmark-build/hallmark/internal/keyid"
	"github.com/hallmark-build/hallmark/internal/limitio"
)

// Algorithm names a key type for GenerateKey.
type Algorithm string

const (
	ECDSAP256 Algorithm = "ecdsa-p256"
	Ed25519   Algorithm = "ed25519"
)

// ParseAlgorithm accepts the names of the --algorithm flag.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch strings.ToLower(s) {
	case "ecdsa-p256", "ecdsa", "p256", "p-256":
		return ECDSAP256, nil
	case "ed25519":
		return Ed25519, nil
	}
	return "", fmt.Errorf("%w: expected ecdsa-p256 or ed25519, got %q", ErrUnsupportedKey, s)
}

// MaxKeyFileBytes caps key files read from disk.
const MaxKeyFileBytes = 64 << 10

// PEM block types.
const (
	EncryptedKeyPEMType = string(cryptoutils.EncryptedSigstorePrivateKeyPEMType) // "ENCRYPTED SIGSTORE PRIVATE KEY", as cosign writes and reads
	publicKeyPEMType    = "PUBLIC KEY"
)

// PassFunc returns the password of an encrypted key. confirm asks for it to
// be entered twice (when a new key is written).
type PassFunc func(confirm bool) ([]byte, error)

// PrivateKey is a signing key. Its key material is unexported and never
// formatted: printing a PrivateKey shows its fingerprint only.
type PrivateKey struct {
	signer crypto.Signer
	fp     string
}

// PublicKey is a verification key with its fingerprint.
type PublicKey struct {
	Key         crypto.PublicKey
	Fingerprint string

	once sync.Once
	v    signature.Verifier
	hash crypto.Hash // the verifier's hash function; 0 when it signs the message itself (Ed25519)
	verr error
}

// String never includes key material.
func (k *PrivateKey) String() string { return "private key " + k.fp }

// GoString never includes key material.
func (k *PrivateKey) GoString() string { return k.String() }

// Public returns the matching public key.
func (k *PrivateKey) Public() *PublicKey {
	return &PublicKey{Key: k.signer.Public(), Fingerprint: k.fp}
}

// Fingerprint is the key's keyid, "SHA256:<base64>".
func (k *PrivateKey) Fingerprint() string { return k.fp }

func newPrivateKey(priv crypto.PrivateKey) (*PrivateKey, error) {
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, priv)
	}
	if err := checkKeyType(s.Public()); err != nil {
		return nil, err
	}
	fp, err := keyid.Of(s.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return &PrivateKey{signer: s, fp: fp}, nil
}

func checkKeyType(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("%w: ECDSA curve %s (expected P-256 or P-384)", ErrUnsupportedKey, k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("%w: RSA key of %d bits (expected at least 2048)", ErrUnsupportedKey, k.N.BitLen())
		}
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
	return nil
}

// GenerateKey makes a new key of the given algorithm from rand.
func GenerateKey(alg Algorithm, rand io.Reader) (*PrivateKey, error) {
	switch alg {
	case ECDSAP256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand)
		if err != nil {
			return nil, err
		}
		return newPrivateKey(k)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, err
		}
		return newPrivateKey(k)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedKey, alg)
}

// MarshalEncrypted encodes the key as an "ENCRYPTED SIGSTORE PRIVATE KEY"
// PEM block (scrypt + secretbox), the format cosign reads. The password must
// not be empty.
func (k *PrivateKey) MarshalEncrypted(password []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, ErrEmptyPassword
	}
	der, err := cryptoutils.MarshalPrivateKeyToEncryptedDER(k.signer, func(bool) ([]byte, error) { return password, nil })
	if err != nil {
		return nil, fmt.Errorf("encrypt private key: %w", err)
	}
	return cryptoutils.PEMEncode(cryptoutils.EncryptedSigstorePrivateKeyPEMType, der), nil
}

// MarshalUnencrypted encodes the key as a plain PKCS#8 PEM block. Only for
// keys protected by other means.
func (k *PrivateKey) MarshalUnencrypted() ([]byte, error) {
	return cryptoutils.MarshalPrivateKeyToPEM(k.signer)
}

// MarshalPEM encodes the public key as a PKIX "PUBLIC KEY" PEM block.
func (p *PublicKey) MarshalPEM() ([]byte, error) {
	return cryptoutils.MarshalPublicKeyToPEM(p.Key)
}

// ParsePrivateKey reads a PEM private key: encrypted (Sigstore/cosign format,
// or PKCS#8 "ENCRYPTED PRIVATE KEY") or plain PKCS#8, SEC1 or PKCS#1.
// pass is called only for encrypted keys.
func ParsePrivateKey(b []byte, pass PassFunc) (*PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrMalformedKey)
	}
	switch blk.Type {
	case publicKeyPEMType, "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w: found a %s", ErrPublicKeyGiven, strings.ToLower(blk.Type))
	case EncryptedKeyPEMType, "ENCRYPTED COSIGN PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		if pass == nil {
			return nil, ErrPasswordRequired
		}
		pw, err := pass(false)
		if err != nil {
			return nil, err
		}
		if len(pw) == 0 {
			return nil, ErrEmptyPassword
		}
		priv, err := cryptoutils.UnmarshalPEMToPrivateKey(b, func(bool) ([]byte, error) { return pw, nil })
		if err != nil {
			// The library's messages never contain the password; ours says
			// what the user can do about it.
			return nil, ErrWrongPassword
		}
		return newPrivateKey(priv)
	case "PRIVATE KEY":
		priv, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
		return newPrivateKey(priv)
	case "EC PRIVATE KEY":
		priv, err := x509.ParseECPrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
		return newPrivateKey(priv)
	case "RSA PRIVATE KEY":
		priv, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
		return newPrivateKey(priv)
	}
	return nil, fmt.Errorf("%w: unknown PEM block type %q", ErrMalformedKey, blk.Type)
}

// LoadPrivateKeyFile reads a private key file. A file that group or others
// can read is refused before it is parsed, as ssh does.
func LoadPrivateKeyFile(path string, pass PassFunc) (*PrivateKey, error) {
	f, err := limitio.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b, err := limitio.ReadAll(f, MaxKeyFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedKey, path, err)
	}
	if blk, _ := pem.Decode(b); blk != nil && !strings.Contains(blk.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("%s: %w: found a %s", path, ErrPublicKeyGiven, strings.ToLower(blk.Type))
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, expected 0600 or stricter (chmod 600 %s)", ErrKeyFilePermissions, path, perm, path)
	}
	k, err := ParsePrivateKey(b, pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrMalformedKey)
	}
	if strings.Contains(blk.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("%w: found a private key where a public key belongs; give the .pub file", ErrMalformedKey)
	}
	if blk.Type != publicKeyPEMType {
		return nil, fmt.Errorf("%w: expected a PUBLIC KEY PEM block, got %q", ErrMalformedKey, blk.Type)
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("%w: trailing data after the PEM block", ErrMalformedKey)
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	if err := checkKeyType(pub); err != nil {
		return nil, err
	}
	fp, err := keyid.Of(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	return &PublicKey{Key: pub, Fingerprint: fp}, nil
}

// LoadPublicKeyFile reads a PEM public key file.
func LoadPublicKeyFile(path string) (*PublicKey, error) {
	b, err := limitio.ReadFile(path, MaxKeyFileBytes)
	if err != nil {
		return nil, err
	}
	k, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// sigSigner returns a sigstore signer with the algorithm's default hash.
func (k *PrivateKey) sigSigner() (signature.Signer, error) {
	return signature.LoadDefaultSigner(k.signer)
}

// verifier is loaded once per key and shared: verification is read-only.
// It returns the hash function the verifier hashes messages with (the
// algorithm's default, as signature.LoadDefaultVerifier chooses it), or 0
// for a verifier that needs the message itself (Ed25519).
func (p *PublicKey) verifier() (signature.Verifier, crypto.Hash, error) {
	p.once.Do(func() {
		p.v, p.verr = signature.LoadDefaultVerifier(p.Key)
		if p.verr == nil {
			var d signature.AlgorithmDetails
			if d, p.verr = signature.GetDefaultAlgorithmDetails(p.Key); p.verr == nil {
				p.hash = d.GetHashType()
			}
		}
		if p.verr != nil {
			p.verr = errors.Join(ErrUnsupportedKey, p.verr)
		}
	})
	return p.v, p.hash, p.verr
}

// DistinctKeys refuses a set of keys in which one key appears twice (by
// fingerprint: also when two PEM files wrap it differently). Everywhere a
// set of keys is accepted, a key given twice is reported, so that N keys
// always mean N signers.
func DistinctKeys(keys []*PublicKey) error {
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Fingerprint] {
			return fmt.Errorf("%w: %s is given more than once", ErrDuplicateKey, k.Fingerprint)
		}
		seen[k.Fingerprint] = true
	}
	return nil
}
