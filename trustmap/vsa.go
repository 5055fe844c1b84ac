package trustmap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	vsa1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// VSAPredicateType is the SLSA Verification Summary Attestation v1.
const VSAPredicateType = "https://slsa.dev/verification_summary/v1"

// URIs of the expectations a VSA's policy names when there is no policy
// file: inline expectations (policy.digest is the sha256 of their JSON),
// or none (--insecure-no-expectations; such a VSA is never PASSED).
const (
	InlineExpectationsURI = "urn:hallmark:inline-expectations"
	NoExpectationsURI     = "urn:hallmark:no-expectations"
	// TOFUStoreURI names expectations pinned on first use in the upload
	// gate's store.
	TOFUStoreURI = "urn:hallmark:tofu-store"
)

// VSAVersionComponent is the name trustmap writes its version under in
// verifier.version.
const VSAVersionComponent = "trustmap"

// VSA is a SLSA Verification Summary predicate (v1.0 and v1.1 fields), as
// read back in tests and tools.
type VSA struct {
	Verifier           VSAVerifier       `json:"verifier"`
	TimeVerified       time.Time         `json:"timeVerified"`
	ResourceURI        string            `json:"resourceUri"`
	Policy             VSARef            `json:"policy"`
	InputAttestations  []VSARef          `json:"inputAttestations"`
	VerificationResult string            `json:"verificationResult"`
	VerifiedLevels     []string          `json:"verifiedLevels"`
	DependencyLevels   map[string]uint64 `json:"dependencyLevels,omitempty"`
	SLSAVersion        string            `json:"slsaVersion"`
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
	VerifierID string
	// VerifierVersion is trustmap's version, written as verifier.version
	// {"trustmap": …}; "devel" when empty.
	VerifierVersion string
	// ResourceURI is the verified resource: a purl, an OCI reference with
	// digest, an https URL. Required; it must be a URI (with a scheme).
	ResourceURI string
	// Artifact digests (sha256) become the statement subject.
	Subjects map[string]string // name -> sha256
	// PolicyURI names what the provenance was checked against (a policy
	// file's file: or https: URI, a trust-on-first-use store, or the
	// inline expectations' URN); required. PolicyData is its content, whose
	// sha256 is recorded as policy.digest.
	PolicyURI  string
	PolicyData []byte
	// InputAttestations are the files the verdict relied on (provenance,
	// VSAs, the roots map that holds the capability attestations), each
	// with the sha256 of the file at its URI.
	InputAttestations []VSARef
	At                time.Time
}

// insecureProperty names a loosening option as a verifiedLevels property
// (an organisation-defined value next to the level), so that a consumer
// sees the verdict was reached with a loosened check:
// "insecure-allow-legacy-predicate" is HALLMARK_INSECURE_ALLOW_LEGACY_PREDICATE.
func insecureProperty(opt string) string {
	return "HALLMARK_" + strings.ToUpper(strings.ReplaceAll(opt, "-", "_"))
}

// NewVSA builds the VSA statement for a verification result with the
// in-toto attestation library's types, validated with its validators:
// PASSED with the level reached, or FAILED (verifiedLevels ["FAILED"]). A
// verification that checked no expectations (VerifyOptions.NoExpectationsUnsafe)
// is never PASSED.
func NewVSA(res *Result, o VSAOptions) ([]byte, error) {
	if o.VerifierID == "" {
		return nil, errors.New("a VSA needs a verifier id")
	}
	if len(o.Subjects) == 0 {
		return nil, errors.New("a VSA needs at least one subject")
	}
	if err := checkURI("resourceUri", o.ResourceURI); err != nil {
		return nil, err
	}
	if err := checkURI("policy.uri", o.PolicyURI); err != nil {
		return nil, err
	}
	version := o.VerifierVersion
	if version == "" {
		version = "devel"
	}
	p := &vsa1.VerificationSummary{
		Verifier:           &vsa1.VerificationSummary_Verifier{Id: o.VerifierID},
		TimeVerified:       timestamppb.New(o.At.UTC().Truncate(time.Second)),
		ResourceUri:        o.ResourceURI,
		Policy:             &vsa1.VerificationSummary_Policy{Uri: o.PolicyURI},
		VerificationResult: "FAILED",
		VerifiedLevels:     []string{"FAILED"},
		SlsaVersion:        "1.0",
	}
	if o.PolicyData != nil {
		sum := sha256.Sum256(o.PolicyData)
		p.Policy.Digest = map[string]string{"sha256": hex.EncodeToString(sum[:])}
	}
	for _, in := range o.InputAttestations {
		rd := &ita1.ResourceDescriptor{Uri: in.URI, Digest: in.Digest}
		if err := rd.Validate(); err != nil {
			return nil, fmt.Errorf("inputAttestations %s: %w", in.URI, err)
		}
		p.InputAttestations = append(p.InputAttestations, &vsa1.VerificationSummary_InputAttestation{Uri: in.URI, Digest: in.Digest})
	}
	if res.Passed && !res.NoExpectations() {
		p.VerificationResult = "PASSED"
		p.VerifiedLevels = []string{buildLevelName(res.Level)}
		for _, opt := range res.Insecure {
			p.VerifiedLevels = append(p.VerifiedLevels, insecureProperty(opt))
		}
		if len(res.DependencyLevels) > 0 {
			p.DependencyLevels = res.DependencyLevels
		}
	}
	if err := (&ita1.ResourceDescriptor{Uri: p.Policy.Uri, Digest: p.Policy.Digest}).Validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	pj, err := protojson.Marshal(p)
	if err != nil {
		return nil, err
	}
	var pm map[string]any
	if err := json.Unmarshal(pj, &pm); err != nil {
		return nil, err
	}
	// protojson writes uint64 as strings; the VSA format has numbers.
	if len(p.DependencyLevels) > 0 {
		dl := map[string]any{}
		for k, n := range p.DependencyLevels {
			dl[k] = float64(n)
		}
		pm["dependencyLevels"] = dl
	}
	// verifier.version (VSA v1.1) is not in the library's v1 message yet.
	pm["verifier"] = map[string]any{"id": o.VerifierID, "version": map[string]any{VSAVersionComponent: version}}
	ps, err := structpb.NewStruct(pm)
	if err != nil {
		return nil, err
	}
	st := &ita1.Statement{Type: ita1.StatementTypeUri, PredicateType: VSAPredicateType, Predicate: ps}
	for _, name := range sortedKeys(o.Subjects) {
		st.Subject = append(st.Subject, &ita1.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": o.Subjects[name]}})
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: VSA statement: %v", ErrInTotoRejected, err)
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose: one compact encoding,
	// members sorted.
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// checkURI requires an absolute URI: a scheme and something after it.
func checkURI(field, s string) error {
	u, err := url.Parse(s)
	if s == "" || err != nil || u.Scheme == "" || (u.Opaque == "" && u.Host == "" && u.Path == "") {
		return fmt.Errorf("a VSA needs %s as a URI with a scheme (pkg:…, oci://…, https://…, file:…), got %q", field, s)
	}
	return nil
}

// ResourceURIFor is the default resourceUri for a verification without
// --resource-uri: a generic package URL of the package (or artifact) name,
// with the artifact's sha256 as its checksum.
func ResourceURIFor(name, sha256hex string) string {
	u := "pkg:generic/" + url.PathEscape(name)
	if sha256hex != "" {
		u += "?checksum=sha256:" + sha256hex
	}
	return u
}

// FileURI is the file: URI of a local path.
func FileURI(abs string) string {
	return (&url.URL{Scheme: "file", Path: abs}).String()
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
