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
	"unicode/utf8"

	ita1 "github.com/in-toto/attestation/go/v1"
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

// NewVSA builds the VSA statement for a verification result, checked with
// the in-toto attestation library's validators: PASSED with the level
// reached, or FAILED (verifiedLevels ["FAILED"]). A verification that
// checked no expectations (VerifyOptions.NoExpectationsUnsafe) is never
// PASSED.
//
// The JSON is written directly, members sorted and compact: it is the
// encoding the library's protojson types give after normalisation
// (TestNewVSAMatchesInTotoTypes builds both), without the protojson and
// structpb round trips that cost the upload gate more than a signature.
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
	at := o.At.UTC().Truncate(time.Second)
	if err := timestamppb.New(at).CheckValid(); err != nil {
		return nil, fmt.Errorf("timeVerified: %w", err)
	}
	strs := []string{o.VerifierID, version, o.ResourceURI, o.PolicyURI}
	policy := map[string]any{"uri": o.PolicyURI}
	var policyDigest map[string]string
	if o.PolicyData != nil {
		sum := sha256.Sum256(o.PolicyData)
		policyDigest = map[string]string{"sha256": hex.EncodeToString(sum[:])}
		policy["digest"] = policyDigest
	}
	var inputs []any
	for _, in := range o.InputAttestations {
		rd := &ita1.ResourceDescriptor{Uri: in.URI, Digest: in.Digest}
		if err := rd.Validate(); err != nil {
			return nil, fmt.Errorf("inputAttestations %s: %w", in.URI, err)
		}
		m := map[string]any{}
		if in.URI != "" {
			m["uri"] = in.URI
		}
		if len(in.Digest) > 0 {
			m["digest"] = in.Digest
		}
		inputs = append(inputs, m)
		strs = append(strs, in.URI)
		strs = appendMap(strs, in.Digest)
	}
	p := map[string]any{
		"verifier":           map[string]any{"id": o.VerifierID, "version": map[string]any{VSAVersionComponent: version}},
		"timeVerified":       at.Format(time.RFC3339),
		"resourceUri":        o.ResourceURI,
		"policy":             policy,
		"verificationResult": "FAILED",
		"verifiedLevels":     []string{"FAILED"},
		"slsaVersion":        "1.0",
	}
	if len(inputs) > 0 {
		p["inputAttestations"] = inputs
	}
	if res.Passed && !res.NoExpectations() {
		p["verificationResult"] = "PASSED"
		levels := []string{buildLevelName(res.Level)}
		for _, opt := range res.Insecure {
			levels = append(levels, insecureProperty(opt))
		}
		strs = append(strs, levels...)
		p["verifiedLevels"] = levels
		if len(res.DependencyLevels) > 0 {
			dl := map[string]float64{}
			for k, n := range res.DependencyLevels {
				dl[k] = float64(n)
				strs = append(strs, k)
			}
			p["dependencyLevels"] = dl
		}
	}
	if err := (&ita1.ResourceDescriptor{Uri: o.PolicyURI, Digest: policyDigest}).Validate(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	st := &ita1.Statement{Type: ita1.StatementTypeUri, PredicateType: VSAPredicateType, Predicate: &structpb.Struct{}}
	var subjects []any
	for _, name := range sortedKeys(o.Subjects) {
		d := map[string]string{"sha256": o.Subjects[name]}
		st.Subject = append(st.Subject, &ita1.ResourceDescriptor{Name: name, Digest: d})
		m := map[string]any{"digest": d}
		if name != "" {
			m["name"] = name
		}
		subjects = append(subjects, m)
		strs = append(strs, name, o.Subjects[name])
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: VSA statement: %v", ErrInTotoRejected, err)
	}
	// Protocol buffers strings are UTF-8; the library's encoder refuses
	// anything else, and so does this one.
	for _, s := range strs {
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("%w: VSA statement: invalid UTF-8 in %q", ErrInTotoRejected, s)
		}
	}
	return json.Marshal(map[string]any{
		"_type":         ita1.StatementTypeUri,
		"subject":       subjects,
		"predicateType": VSAPredicateType,
		"predicate":     p,
	})
}

func appendMap(strs []string, m map[string]string) []string {
	for k, v := range m {
		strs = append(strs, k, v)
	}
	return strs
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
