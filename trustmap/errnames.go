package trustmap

import (
	"errors"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// namedErrors lists every verification sentinel under its Go name, in
// declaration order. Services report these names so that clients test one
// stable code, the same as errors.Is in Go.
var namedErrors = []struct {
	name string
	err  error
}{
	{"ErrNoProvenance", ErrNoProvenance},
	{"ErrNoArtifacts", ErrNoArtifacts},
	{"ErrMalformedManifest", ErrMalformedManifest},
	{"ErrNotRegularFile", ErrNotRegularFile},
	{"ErrMalformedEnvelope", ErrMalformedEnvelope},
	{"ErrWrongPayloadType", ErrWrongPayloadType},
	{"ErrUnknownSigner", ErrUnknownSigner},
	{"ErrBadSignature", ErrBadSignature},
	{"ErrTooManySignatureChecks", ErrTooManySignatureChecks},
	{"ErrMalformedStatement", ErrMalformedStatement},
	{"ErrUnknownStatementType", ErrUnknownStatementType},
	{"ErrWrongPredicateType", ErrWrongPredicateType},
	{"ErrNoSubject", ErrNoSubject},
	{"ErrSubjectWithoutDigest", ErrSubjectWithoutDigest},
	{"ErrNoSupportedDigest", ErrNoSupportedDigest},
	{"ErrSubjectMismatch", ErrSubjectMismatch},
	{"ErrInTotoRejected", ErrInTotoRejected},
	{"ErrMalformedProvenance", ErrMalformedProvenance},
	{"ErrSignerNotPaired", ErrSignerNotPaired},
	{"ErrUntrustedBuilder", ErrUntrustedBuilder},
	{"ErrLevelTooLow", ErrLevelTooLow},
	{"ErrNoBuildTime", ErrNoBuildTime},
	{"ErrOutsideCertifiedWindow", ErrOutsideCertifiedWindow},
	{"ErrCertificationExpired", ErrCertificationExpired},
	{"ErrSigningTimeOutsideWindow", ErrSigningTimeOutsideWindow},
	{"ErrImplausibleBuildTime", ErrImplausibleBuildTime},
	{"ErrUnknownPackage", ErrUnknownPackage},
	{"ErrNoExpectations", ErrNoExpectations},
	{"ErrSourceMismatch", ErrSourceMismatch},
	{"ErrBuilderNotAllowed", ErrBuilderNotAllowed},
	{"ErrBuildTypeMismatch", ErrBuildTypeMismatch},
	{"ErrUnexpectedParameter", ErrUnexpectedParameter},
	{"ErrMissingParameter", ErrMissingParameter},
	{"ErrParameterMismatch", ErrParameterMismatch},
	{"ErrRefNotAllowed", ErrRefNotAllowed},
	{"ErrInternalParameter", ErrInternalParameter},
	{"ErrTOFUMismatch", ErrTOFUMismatch},
	{"ErrMalformedRoots", ErrMalformedRoots},
	{"ErrRootsUnsigned", ErrRootsUnsigned},
	{"ErrMalformedPolicy", ErrMalformedPolicy},
	{"ErrPolicyUnsigned", ErrPolicyUnsigned},
	{"ErrMalformedCertifiers", ErrMalformedCertifiers},
	{"ErrMalformedRevocations", ErrMalformedRevocations},
	{"ErrMalformedTOFU", ErrMalformedTOFU},
	{"ErrUntrustedCertifier", ErrUntrustedCertifier},
	{"ErrSelfAttestationNotAccepted", ErrSelfAttestationNotAccepted},
	{"ErrThirdPartyRequired", ErrThirdPartyRequired},
	{"ErrWaiversNotAccepted", ErrWaiversNotAccepted},
	{"ErrRevoked", ErrRevoked},
	{"ErrDenied", ErrDenied},
	{"ErrDuplicateKey", ErrDuplicateKey},
	{"ErrThresholdNotMet", ErrThresholdNotMet},
	{"ErrNoSerial", ErrNoSerial},
	{"ErrRootsExpired", ErrRootsExpired},
	{"ErrRootsRollback", ErrRootsRollback},
	{"ErrPolicyExpired", ErrPolicyExpired},
	{"ErrPolicyRollback", ErrPolicyRollback},
	{"ErrInvalidRootsEntry", ErrInvalidRootsEntry},
	{"ErrInvalidAttestation", ErrInvalidAttestation},
	{"ErrAssessmentKind", ErrAssessmentKind},
	{"ErrThirdPartySelfSigned", ErrThirdPartySelfSigned},
	{"ErrPayloadChanged", ErrPayloadChanged},
	{"ErrMalformedApproval", ErrMalformedApproval},
	{"ErrApprovalUnsigned", ErrApprovalUnsigned},
	{"ErrApprovalMismatch", ErrApprovalMismatch},
	{"ErrApprovalStale", ErrApprovalStale},
	{"ErrMalformedSerialState", ErrMalformedSerialState},
	{"ErrInvalidVerifier", ErrInvalidVerifier},
	{"ErrNoVSA", ErrNoVSA},
	{"ErrMalformedVSA", ErrMalformedVSA},
	{"ErrVSAUntrustedVerifier", ErrVSAUntrustedVerifier},
	{"ErrVSAVerifierMismatch", ErrVSAVerifierMismatch},
	{"ErrVSAResourceMismatch", ErrVSAResourceMismatch},
	{"ErrVSAResourceNotTrusted", ErrVSAResourceNotTrusted},
	{"ErrVSAFailed", ErrVSAFailed},
	{"ErrVSALevelTooLow", ErrVSALevelTooLow},
	{"ErrVSAUntrustedTrack", ErrVSAUntrustedTrack},
	{"ErrVSAStale", ErrVSAStale},
	{"ErrVSALoosened", ErrVSALoosened},
	{"ErrSourceNotFound", ErrSourceNotFound},
	{"ErrSourceNotVerified", ErrSourceNotVerified},
	{"ErrDependencyNotVerified", ErrDependencyNotVerified},
	{"ErrMalformedBundle", ErrMalformedBundle},
	{"ErrNoVerifiedTimestamp", ErrNoVerifiedTimestamp},
	{"ErrTransparencyLog", ErrTransparencyLog},
	{"ErrCertificateNotValid", ErrCertificateNotValid},
	{"ErrSigstoreVerification", ErrSigstoreVerification},
	{"ErrMalformedTrustedRoot", ErrMalformedTrustedRoot},
	{"ErrDuplicateName", strictjson.ErrDuplicateName},
	{"ErrCaseVariant", strictjson.ErrCaseVariant},
	{"ErrUnknownMember", strictjson.ErrUnknownMember},
}

// ErrorNames returns the names of the sentinels err wraps ("ErrSubjectMismatch"),
// each once, in declaration order: the codes a service reports for a failed
// verification (and the strict decoder's, for documents that are not one
// unambiguous JSON reading). When several provenance documents failed, each one's
// sentinel is listed.
func ErrorNames(err error) []string {
	var out []string
	for _, n := range namedErrors {
		if errors.Is(err, n.err) {
			out = append(out, n.name)
		}
	}
	return out
}
