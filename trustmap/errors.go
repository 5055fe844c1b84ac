package trustmap

import (
	"errors"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/limitio"
)

// Verification failures. Every failed check wraps exactly one of these, so
// callers can test them with errors.Is.
var (
	ErrNoProvenance             = errors.New("no provenance")
	ErrNoArtifacts              = errors.New("no artifacts to verify")
	ErrMalformedManifest        = errors.New("malformed batch manifest line")
	ErrNotRegularFile           = limitio.ErrNotRegular       // a FIFO, device or directory given as input
	ErrMalformedEnvelope        = attest.ErrMalformedEnvelope // one sentinel for every DSSE parse
	ErrWrongPayloadType         = errors.New("unsupported payload type")
	ErrUnknownSigner            = errors.New("signature by no key in the roots of trust")
	ErrBadSignature             = errors.New("signature does not verify")
	ErrTooManySignatureChecks   = attest.ErrTooManySignatureChecks // per provenance file
	ErrMalformedStatement       = errors.New("malformed statement")
	ErrUnknownStatementType     = errors.New("unknown statement type")
	ErrWrongPredicateType       = errors.New("wrong predicate type")
	ErrNoSubject                = errors.New("statement has no subject")
	ErrSubjectWithoutDigest     = errors.New("subject without digest")
	ErrNoSupportedDigest        = errors.New("no supported digest algorithm")
	ErrSubjectMismatch          = errors.New("artifact digest matches no subject")
	ErrInTotoRejected           = errors.New("statement rejected by the in-toto attestation library")
	ErrMalformedProvenance      = errors.New("malformed provenance")
	ErrSignerNotPaired          = errors.New("signer not paired with the builder.id")
	ErrUntrustedBuilder         = errors.New("builder.id not in the roots of trust")
	ErrLevelTooLow              = errors.New("builder level below the required level")
	ErrNoBuildTime              = errors.New("provenance has no build time")
	ErrOutsideCertifiedWindow   = errors.New("build time outside the builder's certified window")
	ErrCertificationExpired     = errors.New("builder certification not valid at verification time")
	ErrSigningTimeOutsideWindow = errors.New("verified signing time outside the builder's certified window")
	ErrImplausibleBuildTime     = errors.New("build times out of order")
	ErrUnknownPackage           = errors.New("package not in the policy")
	ErrNoExpectations           = errors.New("no expectations to verify the provenance against")
	ErrSourceMismatch           = errors.New("source repository differs from the expected one")
	ErrBuilderNotAllowed        = errors.New("builder.id not allowed by the policy")
	ErrBuildTypeMismatch        = errors.New("unexpected buildType")
	ErrUnexpectedParameter      = errors.New("unexpected external parameter")
	ErrMissingParameter         = errors.New("missing external parameter")
	ErrParameterMismatch        = errors.New("external parameter differs from the expected value")
	ErrRefNotAllowed            = errors.New("external parameter outside the allowed pattern")
	ErrInternalParameter        = errors.New("internal parameter differs from the expected value")
	ErrTOFUMismatch             = errors.New("provenance differs from what was first seen")
	ErrMalformedRoots           = errors.New("malformed roots of trust")
	ErrRootsUnsigned            = errors.New("roots of trust not signed by the expected key")
	ErrMalformedPolicy          = errors.New("malformed policy")
	ErrPolicyUnsigned           = errors.New("policy not signed by enough of the expected keys")
	ErrMalformedCertifiers      = errors.New("malformed certifiers file")
	ErrMalformedRevocations     = errors.New("malformed revocations file")
	ErrMalformedTOFU            = errors.New("malformed trust-on-first-use store")
)

// Compile rejections (an attestation that does not become a roots entry).
var (
	ErrUntrustedCertifier         = errors.New("attestation signed by no trusted certifier")
	ErrSelfAttestationNotAccepted = errors.New("self-attestation not accepted from this certifier")
	ErrThirdPartyRequired         = errors.New("level requires a third-party assessment")
	ErrWaiversNotAccepted         = errors.New("best-practice waivers not accepted from this certifier")
	ErrRevoked                    = errors.New("attestation revoked")
	ErrDenied                     = errors.New("builder denied by local policy")
)

// Trust administration: keys, thresholds, freshness of signed documents,
// roots entries and attestation validity.
var (
	ErrDuplicateKey         = attest.ErrDuplicateKey // one sentinel wherever keys are given
	ErrThresholdNotMet      = errors.New("not enough distinct signers")
	ErrNoSerial             = errors.New("signed document has no serial")
	ErrRootsExpired         = errors.New("roots of trust expired")
	ErrRootsRollback        = errors.New("roots of trust older than the last accepted")
	ErrPolicyExpired        = errors.New("policy expired")
	ErrPolicyRollback       = errors.New("policy older than the last accepted")
	ErrInvalidRootsEntry    = errors.New("invalid roots entry")
	ErrInvalidAttestation   = errors.New("invalid capability attestation")
	ErrAssessmentKind       = errors.New("invalid assessment kind")
	ErrThirdPartySelfSigned = errors.New("third-party attestation signed by a self-attesting certifier")
	ErrPayloadChanged       = errors.New("co-signing would change the signed payload")
	ErrMalformedApproval    = errors.New("malformed expectations approval")
	ErrApprovalUnsigned     = errors.New("approval not signed by enough approvers")
	ErrApprovalMismatch     = errors.New("approval does not match the provenance")
	ErrApprovalStale        = errors.New("approval older than the current expectation")
	ErrMalformedSerialState = errors.New("malformed serial state file")
	ErrInvalidVerifier      = errors.New("invalid trusted verifier")
)

// VSA verification failures (verify-vsa, and the source and dependency
// checks of verify).
var (
	ErrNoVSA                 = errors.New("no VSA")
	ErrMalformedVSA          = errors.New("malformed VSA")
	ErrVSAUntrustedVerifier  = errors.New("VSA signed by no trusted verifier")
	ErrVSAVerifierMismatch   = errors.New("VSA signer does not match its verifier.id")
	ErrVSAResourceMismatch   = errors.New("VSA resourceUri differs from the expected one")
	ErrVSAResourceNotTrusted = errors.New("verifier not trusted for this resource URI")
	ErrVSAFailed             = errors.New("VSA verificationResult is not PASSED")
	ErrVSALevelTooLow        = errors.New("VSA does not verify the required level")
	ErrVSAUntrustedTrack     = errors.New("verifier not trusted for this track and level")
	ErrVSAStale              = errors.New("VSA timeVerified too old or in the future")
	ErrVSALoosened           = errors.New("VSA reached with a loosened check")
	ErrSourceNotFound        = errors.New("no source revision in the provenance")
	ErrSourceNotVerified     = errors.New("source revision not covered by a VSA at the required level")
	ErrDependencyNotVerified = errors.New("dependency not covered by a VSA at the required level")
)
