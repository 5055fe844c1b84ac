package attest

import (
	"errors"

	"github.com/hallmark-build/hallmark/assess"
)

// Key errors.
var (
	ErrUnsupportedKey     = errors.New("unsupported key")
	ErrMalformedKey       = errors.New("malformed key")
	ErrPublicKeyGiven     = errors.New("a public key was given where a private key is needed")
	ErrPasswordRequired   = errors.New("the private key is encrypted and no password was given")
	ErrEmptyPassword      = errors.New("empty password")
	ErrWrongPassword      = errors.New("wrong password for the private key (or the key file is corrupted)")
	ErrKeyFilePermissions = errors.New("private key file is readable by others")
	ErrDuplicateKey       = errors.New("the same key given twice")
)

// Attestation errors: issuing.
var (
	ErrLevelNotSupported = assess.ErrLevelNotSupported
	ErrValidity          = errors.New("invalid validity period")
	ErrNoBuilder         = errors.New("no builder to attest")
)

// Verification errors. Each failure wraps exactly one of these.
var (
	ErrMalformedEnvelope      = errors.New("malformed envelope")
	ErrNoSignatures           = errors.New("envelope has no signatures")
	ErrBadSignature           = errors.New("no signature verifies with the given keys")
	ErrWrongPayloadType       = errors.New("wrong payload type")
	ErrMalformedStatement     = errors.New("malformed statement")
	ErrWrongStatementType     = errors.New("wrong statement type")
	ErrWrongPredicateType     = errors.New("wrong predicate type")
	ErrNotYetValid            = errors.New("attestation not yet valid")
	ErrExpired                = errors.New("attestation expired")
	ErrAnswersDigestMismatch  = errors.New("answers digest mismatch")
	ErrNoKeys                 = errors.New("no verification keys given")
	ErrTooManySignatureChecks = errors.New("too many signature checks")
)
