// Package doctype tells which of the documents Hallmark and trustmap read a
// file is, without verifying or fully parsing it, so that a command given the
// wrong file can say what the file is and which command reads it, and the
// inspect commands can show any of them.
//
// Nothing here is a security decision: identification only picks the parser
// and the message. Every reader still parses and verifies strictly.
package doctype

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/internal/strictjson"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// Identifiers of the trustmap formats. They are repeated here because the
// hallmark binary must not link the trustmap package; a test in cmd/trustmap
// keeps them equal to trustmap's constants.
const (
	RootsSchema              = "https://hallmark.build/roots/v2"
	RootsSchemaV1            = "https://hallmark.build/roots/v1"
	RootsSchemaV3            = "https://hallmark.build/roots/v3"
	VerifierTrustSchema      = "https://hallmark.build/verifier-trust/v1"
	VerifierTrustPayloadType = "application/vnd.hallmark.verifier-trust+json"
	RootsPayloadType         = "application/vnd.hallmark.roots+json"
	PolicySchema             = "https://hallmark.build/policy/v2"
	PolicySchemaV1           = "https://hallmark.build/policy/v1"
	PolicySchemaV3           = "https://hallmark.build/policy/v3"
	PolicyPayloadType        = "application/vnd.hallmark.policy+json"
	CertifiersSchema         = "https://hallmark.build/certifiers/v1"
	RevocationsSchema        = "https://hallmark.build/revocations/v1"
	TOFUSchema               = "https://hallmark.build/tofu/v2"
	TOFUSchemaV1             = "https://hallmark.build/tofu/v1"
	ApprovalSchema           = "https://hallmark.build/tofu-approval/v1"
	ApprovalPayloadType      = "application/vnd.hallmark.tofu-approval+json"
	VSAPredicateType         = "https://slsa.dev/verification_summary/v1"
	ProvenanceV1             = "https://slsa.dev/provenance/v1"
	ProvenanceV02            = "https://slsa.dev/provenance/v0.2"
	BundleMediaTypePfx       = "application/vnd.dev.sigstore.bundle"
	SerialStateSchema        = "https://hallmark.build/trust-state/v1"
)

// Kind is what a document is.
type Kind int

const (
	Unknown Kind = iota
	Answers
	Review
	Capability // DSSE envelope of a builder capability attestation
	Roots
	SignedRoots
	Policy
	SignedPolicy
	Certifiers
	Revocations
	TOFU
	Approval            // trust-on-first-use approval (unsigned)
	SignedApproval      // DSSE envelope of an approval
	VSA                 // DSSE envelope of a SLSA VSA
	Provenance          // DSSE envelope of SLSA provenance
	InTotoEnvelope      // DSSE envelope of another in-toto statement
	Envelope            // DSSE envelope of an unknown payload type
	Bundle              // Sigstore bundle
	ProvenanceLines     // JSON Lines of provenance envelopes or bundles
	Statement           // an unsigned in-toto statement
	PublicKey           // PEM public key
	PrivateKey          // PEM private key
	NotJSON             // neither JSON nor PEM
	UnknownJSONSchema   // JSON with a schema this tool does not know
	VerifierTrust       // a certifier's list of trusted verifiers (unsigned)
	SignedVerifierTrust // DSSE envelope of a verifier-trust document
	SerialState         // the serials a verifier accepted (--trust-state)
)

var names = map[Kind]string{
	Unknown: "unknown document", Answers: "answers document", Review: "review document",
	Capability: "builder capability attestation", Roots: "roots-of-trust file", SignedRoots: "signed roots-of-trust file",
	Policy: "expectations policy", SignedPolicy: "signed expectations policy", Certifiers: "certifiers file",
	Revocations: "revocations file", TOFU: "trust-on-first-use store",
	Approval: "trust-on-first-use approval", SignedApproval: "signed trust-on-first-use approval", VSA: "SLSA verification summary (VSA)",
	Provenance: "SLSA provenance (DSSE envelope)", InTotoEnvelope: "in-toto attestation (DSSE envelope)",
	Envelope: "DSSE envelope", Bundle: "Sigstore bundle", ProvenanceLines: "provenance (JSON Lines)",
	Statement: "unsigned in-toto statement", PublicKey: "public key", PrivateKey: "private key",
	NotJSON: "file that is neither JSON nor PEM", UnknownJSONSchema: "JSON document of an unknown kind",
	VerifierTrust: "verifier-trust document", SignedVerifierTrust: "signed verifier-trust document",
	SerialState: "serial state file",
}

func (k Kind) String() string { return names[k] }

var ids = map[Kind]string{
	Unknown: "unknown", Answers: "answers", Review: "review", Capability: "capability-attestation",
	Roots: "roots", SignedRoots: "signed-roots", Policy: "policy", SignedPolicy: "signed-policy",
	Certifiers: "certifiers", Revocations: "revocations", TOFU: "tofu-store",
	Approval: "tofu-approval", SignedApproval: "signed-tofu-approval", VSA: "vsa",
	Provenance: "provenance", InTotoEnvelope: "in-toto-envelope", Envelope: "dsse-envelope",
	Bundle: "sigstore-bundle", ProvenanceLines: "json-lines", Statement: "in-toto-statement",
	PublicKey: "public-key", PrivateKey: "private-key", NotJSON: "not-json", UnknownJSONSchema: "unknown-json",
	VerifierTrust: "verifier-trust", SignedVerifierTrust: "signed-verifier-trust", SerialState: "trust-state",
}

// ID is the kind's stable name in JSON output ("roots", "vsa"...).
func (k Kind) ID() string { return ids[k] }

// ReadBy says which commands read this kind of document.
func (k Kind) ReadBy() string {
	switch k {
	case Answers:
		return "hallmark check, assess, attest and report"
	case Review:
		return "hallmark check --review and attest --review"
	case Capability:
		return "hallmark verify-attestation and trustmap compile"
	case Roots, SignedRoots:
		return "trustmap verify --roots (trustmap inspect shows it)"
	case Policy, SignedPolicy:
		return "trustmap verify --policy and trustmap sign-policy (trustmap inspect shows it)"
	case Certifiers:
		return "trustmap compile --certifiers (trustmap inspect shows it)"
	case Revocations:
		return "trustmap compile --revoked (trustmap inspect shows it)"
	case TOFU:
		return "trustmap verify --tofu-store (trustmap inspect shows it)"
	case Approval, SignedApproval:
		return "trustmap expectations sign and approve --approval (trustmap inspect shows it)"
	case VSA:
		return "trustmap verify-vsa --vsa, and trustmap verify --vsa (trustmap inspect shows it)"
	case VerifierTrust:
		return "trustmap sign-verifiers (trustmap inspect shows it)"
	case SignedVerifierTrust:
		return "trustmap compile --verifiers (trustmap inspect shows it)"
	case SerialState:
		return "trustmap verify --trust-state (trustmap inspect shows it)"
	case Provenance, Bundle, ProvenanceLines:
		return "trustmap verify --provenance (trustmap inspect shows it)"
	case PublicKey:
		return "--key of hallmark verify-attestation and report, --roots-key and --policy-key of trustmap verify"
	case PrivateKey:
		return "--key of hallmark attest, --sign-key, --vsa-key and sign-policy --key of trustmap"
	}
	return ""
}

// Doc is an identified document.
type Doc struct {
	Kind Kind
	// Schema is the schema or predicate type found, for the unknown cases.
	Schema string
	// PayloadType, KeyIDs and Payload are set for DSSE envelopes (payload
	// decoded, not verified).
	PayloadType string
	KeyIDs      []string
	Payload     []byte
	// PredicateType is set for in-toto statements (enveloped or not).
	PredicateType string
	// Lines holds each line of a JSON Lines file.
	Lines []Doc
}

type probe struct {
	Schema        string `json:"schema"`
	PayloadType   string `json:"payloadType"`
	Payload       string `json:"payload"`
	MediaType     string `json:"mediaType"`
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Signatures    []struct {
		KeyID string `json:"keyid"`
	} `json:"signatures"`
	DSSEEnvelope *struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	} `json:"dsseEnvelope"`
}

// Identify tells what b is. It never fails: what it cannot tell is Unknown,
// NotJSON or UnknownJSONSchema.
func Identify(b []byte) Doc {
	t := bytes.TrimSpace(b)
	if bytes.HasPrefix(t, []byte("-----BEGIN ")) {
		line, _, _ := bytes.Cut(t, []byte("\n"))
		if bytes.Contains(line, []byte("PRIVATE KEY")) {
			return Doc{Kind: PrivateKey}
		}
		return Doc{Kind: PublicKey}
	}
	if len(t) == 0 || t[0] != '{' {
		return Doc{Kind: NotJSON}
	}
	if lines := bytes.Split(t, []byte("\n")); len(lines) > 1 {
		if d, ok := identifyLines(lines); ok {
			return d
		}
	}
	return identifyOne(t)
}

func identifyLines(lines [][]byte) (Doc, bool) {
	var out []Doc
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if strictjson.Check(l) != nil {
			return Doc{}, false // one multi-line JSON document, not JSON Lines
		}
		out = append(out, identifyOne(l))
	}
	return Doc{Kind: ProvenanceLines, Lines: out}, true
}

func identifyOne(b []byte) Doc {
	var p probe
	if err := strictjson.UnmarshalOpen(b, &p); err != nil {
		return Doc{Kind: NotJSON}
	}
	switch p.Schema {
	case questionnaire.AnswersSchema:
		return Doc{Kind: Answers}
	case questionnaire.ReviewSchema, questionnaire.ReviewSchemaV1:
		return Doc{Kind: Review}
	case RootsSchema, RootsSchemaV1, RootsSchemaV3:
		return Doc{Kind: Roots}
	case VerifierTrustSchema:
		return Doc{Kind: VerifierTrust}
	case PolicySchema, PolicySchemaV1, PolicySchemaV3:
		return Doc{Kind: Policy}
	case ApprovalSchema:
		return Doc{Kind: Approval}
	case CertifiersSchema:
		return Doc{Kind: Certifiers}
	case RevocationsSchema:
		return Doc{Kind: Revocations}
	case TOFUSchema, TOFUSchemaV1:
		return Doc{Kind: TOFU}
	case SerialStateSchema:
		return Doc{Kind: SerialState}
	}
	if strings.HasPrefix(p.MediaType, BundleMediaTypePfx) {
		d := Doc{Kind: Bundle, Schema: p.MediaType}
		if p.DSSEEnvelope != nil {
			d.PayloadType = p.DSSEEnvelope.PayloadType
			d.Payload, _ = decodeB64(p.DSSEEnvelope.Payload)
			var st probe
			if strictjson.UnmarshalOpen(d.Payload, &st) == nil {
				d.PredicateType = st.PredicateType
			}
		}
		return d
	}
	if p.PayloadType != "" {
		d := Doc{Kind: Envelope, PayloadType: p.PayloadType}
		for _, s := range p.Signatures {
			d.KeyIDs = append(d.KeyIDs, s.KeyID)
		}
		d.Payload, _ = decodeB64(p.Payload)
		switch p.PayloadType {
		case RootsPayloadType:
			d.Kind = SignedRoots
		case PolicyPayloadType:
			d.Kind = SignedPolicy
		case VerifierTrustPayloadType:
			d.Kind = SignedVerifierTrust
		case ApprovalPayloadType:
			d.Kind = SignedApproval
		case attest.PayloadType:
			var st probe
			if strictjson.UnmarshalOpen(d.Payload, &st) == nil {
				d.PredicateType = st.PredicateType
			}
			d.Kind = statementKind(d.PredicateType)
		}
		return d
	}
	if p.Type != "" && p.PredicateType != "" {
		return Doc{Kind: Statement, PredicateType: p.PredicateType}
	}
	if p.Schema != "" {
		return Doc{Kind: UnknownJSONSchema, Schema: p.Schema}
	}
	return Doc{Kind: UnknownJSONSchema}
}

func statementKind(predicateType string) Kind {
	switch predicateType {
	case attest.PredicateType:
		return Capability
	case VSAPredicateType:
		return VSA
	case ProvenanceV1, ProvenanceV02:
		return Provenance
	}
	return InTotoEnvelope
}

func decodeB64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

// Describe is "a builder capability attestation, read by hallmark
// verify-attestation and trustmap compile": for messages that tell the user
// which command reads a file they gave to the wrong one.
func (d Doc) Describe() string {
	s := d.Kind.String()
	if d.Kind == UnknownJSONSchema && d.Schema != "" {
		s += " (schema " + safetext.Term(d.Schema) + ")"
	}
	if d.Kind == InTotoEnvelope && d.PredicateType != "" {
		s += " (predicateType " + safetext.Term(d.PredicateType) + ")"
	}
	if r := d.Kind.ReadBy(); r != "" {
		s += ", read by " + r
	}
	return article(s) + " " + s
}

func article(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "an"
	}
	return "a"
}
