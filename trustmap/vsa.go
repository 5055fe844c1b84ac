package trustmap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// VSAPredicateType is the SLSA Verification Summary Attestation v1.
const VSAPredicateType = "https://slsa.dev/verification_summary/v1"

// VSA is a SLSA Verification Summary predicate.
type VSA struct {
	Verifier           VSAVerifier    `json:"verifier"`
	TimeVerified       time.Time      `json:"timeVerified"`
	ResourceURI        string         `json:"resourceUri"`
	Policy             VSARef         `json:"policy"`
	InputAttestations  []VSARef       `json:"inputAttestations"`
	VerificationResult string         `json:"verificationResult"`
	VerifiedLevels     []string       `json:"verifiedLevels"`
	DependencyLevels   map[string]int `json:"dependencyLevels,omitempty"`
	SLSAVersion        string         `json:"slsaVersion"`
}

// VSAVerifier identifies the verifier.
type VSAVerifier struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// VSARef is a resource descriptor with a URI and digest.
type VSARef struct {
	URI    string            `json:"uri,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// VSAOptions describe the verification being summarised.
type VSAOptions struct {
	VerifierID      string
	VerifierVersion string
	ResourceURI     string
	// Artifact digests (sha256) become the statement subject.
	Subjects      map[string]string // name -> sha256
	PolicyURI     string
	PolicyData    []byte // the policy file as given (its sha256 is recorded)
	ProvenanceURI string
	At            time.Time
}

// NewVSA builds the VSA statement for a verification result: PASSED with the
// level reached (and the loosening options used, as HALLMARK_… properties),
// or FAILED with verifiedLevels ["FAILED"]. A verification that checked no
// expectations (VerifyOptions.NoExpectationsUnsafe) is never PASSED.
func NewVSA(res *Result, o VSAOptions) ([]byte, error) {
	if o.VerifierID == "" {
		return nil, fmt.Errorf("a VSA needs a verifier id")
	}
	if len(o.Subjects) == 0 {
		return nil, fmt.Errorf("a VSA needs at least one subject")
	}
	p := VSA{
		Verifier:           VSAVerifier{ID: o.VerifierID},
		TimeVerified:       o.At.UTC(),
		ResourceURI:        o.ResourceURI,
		VerificationResult: "FAILED",
		// SLSA VSA v1: verifiedLevels is "FAILED" if verification failed.
		VerifiedLevels: []string{"FAILED"},
		SLSAVersion:    "1.0",
	}
	if o.VerifierVersion != "" {
		p.Verifier.Version = map[string]string{"hallmark": o.VerifierVersion}
	}
	if o.PolicyData != nil {
		sum := sha256.Sum256(o.PolicyData)
		p.Policy = VSARef{URI: o.PolicyURI, Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
	}
	for _, d := range res.InputDigests {
		p.InputAttestations = append(p.InputAttestations, VSARef{URI: o.ProvenanceURI, Digest: map[string]string{"sha256": d}})
	}
	if res.Passed && !res.NoExpectations() {
		p.VerificationResult = "PASSED"
		p.VerifiedLevels = []string{buildLevelName(res.Level)}
		// The loosening options used are recorded as properties (custom
		// verifiedLevels values, which the specification allows outside
		// the SLSA_ prefix): the VSA says the result is weaker.
		for _, opt := range res.Insecure {
			p.VerifiedLevels = append(p.VerifiedLevels, insecureProperty(opt))
		}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	st := statement{Type: StatementV1, PredicateType: VSAPredicateType, Predicate: raw}
	for _, name := range sortedKeys(o.Subjects) {
		st.Subject = append(st.Subject, subject{Name: name, Digest: map[string]string{"sha256": o.Subjects[name]}})
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	// What Hallmark writes, other in-toto tools must read: the in-toto
	// attestation library parses and validates the statement and its VSA
	// predicate (a subject digest that is not 64 hex digits is refused
	// here, not by the consumer).
	if err := inTotoParseVSA(b); err != nil {
		return nil, fmt.Errorf("vsa: %w", err)
	}
	return b, nil
}

// insecureProperty names a loosening option as a verifiedLevels property:
// "insecure-allow-legacy-predicate" is HALLMARK_INSECURE_ALLOW_LEGACY_PREDICATE.
func insecureProperty(opt string) string {
	return "HALLMARK_" + strings.ToUpper(strings.ReplaceAll(opt, "-", "_"))
}

func buildLevelName(l questionnaire.Level) string { return fmt.Sprintf("SLSA_BUILD_LEVEL_%d", int(l)) }

// SignVSA wraps a VSA statement in a DSSE envelope that any in-toto tool can
// check.
func SignVSA(ctx context.Context, statement []byte, key *attest.PrivateKey) ([]byte, error) {
	env, err := attest.Sign(ctx, InTotoPayloadType, statement, key)
	if err != nil {
		return nil, err
	}
	return attest.MarshalEnvelope(env)
}
