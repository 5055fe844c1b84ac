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
	"github.com/hallmark-build/hallmark/internal/canonical"
	"github.com/hallmark-build/hallmark/internal/safetext"
)

// ApprovalSchema identifies the expectations approval format.
const ApprovalSchema = "https://hallmark.build/tofu-approval/v1"

// ApprovalPayloadType is the DSSE payload type of a signed approval.
const ApprovalPayloadType = "application/vnd.hallmark.tofu-approval+json"

// Approval validity: how long a proposed approval may be applied.
const (
	DefaultApprovalValidity = 7 * 24 * time.Hour
	MaxApprovalValidity     = 90 * 24 * time.Hour
)

// MaxApprovalBytes caps an approval document or envelope.
const MaxApprovalBytes = 4 << 20

// Approval is a deliberate change of what a package's trust-on-first-use pin
// expects: the new builder.id, buildType and parameters, exactly as the
// store will record them. Approvers sign it (N of M); `expectations
// approve` applies it only with enough valid signatures, and only when it
// is newer than the pin it replaces.
type Approval struct {
	Schema     string                     `json:"schema"`
	Package    string                     `json:"package"`
	BuilderID  string                     `json:"builderId"`
	BuildType  string                     `json:"buildType"`
	Parameters map[string]json.RawMessage `json:"parameters"`
	// ProvenanceDigest is the sha256 of the DSSE payload of the provenance
	// the pin was taken from (for the record).
	ProvenanceDigest string    `json:"provenanceDigest,omitempty"`
	IssuedAt         time.Time `json:"issuedAt"`
	Expires          time.Time `json:"expires"`
}

// NewApproval proposes the pin of a passing verification result as the new
// expectation of pkg.
func NewApproval(pkg string, res *Result, pp *PackagePolicy, at time.Time, validFor time.Duration) (*Approval, error) {
	prov := res.Provenance()
	if prov == nil || !res.Passed {
		return nil, fmt.Errorf("%w: only provenance that verifies can be approved", ErrMalformedApproval)
	}
	if pkg == "" {
		return nil, fmt.Errorf("%w: no package name", ErrMalformedApproval)
	}
	if validFor == 0 {
		validFor = DefaultApprovalValidity
	}
	if validFor < 0 || validFor > MaxApprovalValidity {
		return nil, fmt.Errorf("%w: validity: expected at most %s, got %s", ErrMalformedApproval, MaxApprovalValidity, validFor)
	}
	e := pin(prov, pp, at)
	now := at.UTC().Truncate(time.Second)
	a := &Approval{Schema: ApprovalSchema, Package: pkg, BuilderID: e.BuilderID, BuildType: e.BuildType,
		Parameters: e.Parameters, IssuedAt: now, Expires: now.Add(validFor)}
	if d := res.Documents[res.Passing].PayloadDigest; d != "" {
		a.ProvenanceDigest = d
	}
	return a, nil
}

// Marshal encodes the approval reproducibly: these bytes are what
// approvers sign.
func (a *Approval) Marshal() ([]byte, error) { return canonical.JSON(a) }

// ParseApproval decodes and checks an approval document.
func ParseApproval(b []byte) (*Approval, error) {
	var a Approval
	if err := decodeDocument(b, &a, ApprovalSchema, MaxApprovalBytes, ErrMalformedApproval); err != nil {
		return nil, err
	}
	switch {
	case a.Package == "":
		return nil, fmt.Errorf("%w: no package", ErrMalformedApproval)
	case a.BuilderID == "":
		return nil, fmt.Errorf("%w: no builderId", ErrMalformedApproval)
	case a.IssuedAt.IsZero() || !a.Expires.After(a.IssuedAt):
		return nil, fmt.Errorf("%w: expires must be after issuedAt", ErrMalformedApproval)
	case a.Expires.Sub(a.IssuedAt) > MaxApprovalValidity:
		return nil, fmt.Errorf("%w: valid for %s, at most %s", ErrMalformedApproval, a.Expires.Sub(a.IssuedAt), MaxApprovalValidity)
	}
	for k, v := range a.Parameters {
		if k == "" || !json.Valid(v) {
			return nil, fmt.Errorf("%w: parameter %q: not a JSON value", ErrMalformedApproval, safetext.Term(k))
		}
	}
	if a.Parameters == nil {
		a.Parameters = map[string]json.RawMessage{}
	}
	return &a, nil
}

// SignApproval signs an approval document, or adds signatures to a signed
// one (see CoSign), on each approver's machine in turn.
func SignApproval(ctx context.Context, doc []byte, keys []*attest.PrivateKey, at time.Time) ([]byte, error) {
	return CoSign(ctx, doc, ApprovalPayloadType, keys, func(payload []byte) error {
		a, err := ParseApproval(payload)
		if err != nil {
			return err
		}
		if !at.Before(a.Expires) {
			return fmt.Errorf("%w: the approval expired at %s", ErrApprovalStale, a.Expires.Format(time.RFC3339))
		}
		return nil
	})
}

// VerifiedApproval is an approval whose signatures met the threshold.
type VerifiedApproval struct {
	Approval *Approval
	Record   ApprovalRecord
}

// VerifyApproval checks a signed approval: at least threshold distinct keys
// of approvers signed it, and it has not expired at at.
func VerifyApproval(ctx context.Context, b []byte, approvers []*attest.PublicKey, threshold int, at time.Time) (*VerifiedApproval, error) {
	if len(approvers) == 0 {
		return nil, fmt.Errorf("%w: no approver keys configured", ErrApprovalUnsigned)
	}
	if !isEnvelope(b) {
		return nil, fmt.Errorf("%w: expected a DSSE envelope signed by %d of %s, got an unsigned approval (sign it with trustmap expectations sign)", ErrApprovalUnsigned, threshold, fingerprints(approvers))
	}
	env, err := attest.ParseEnvelope(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedApproval, err)
	}
	payload, signers, err := VerifyThreshold(ctx, env, ApprovalPayloadType, approvers, threshold)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrApprovalUnsigned, err)
	}
	a, err := ParseApproval(payload)
	if err != nil {
		return nil, err
	}
	if !at.Before(a.Expires) {
		return nil, fmt.Errorf("%w: the approval expired at %s, applied at %s", ErrApprovalStale, a.Expires.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	if at.Before(a.IssuedAt) {
		return nil, fmt.Errorf("%w: the approval is issued at %s, after now (%s)", ErrMalformedApproval, a.IssuedAt.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	sum := sha256.Sum256(payload)
	return &VerifiedApproval{Approval: a, Record: ApprovalRecord{Signers: signers, Digest: hex.EncodeToString(sum[:]), IssuedAt: a.IssuedAt}}, nil
}

// Apply returns the pin the approval sets in place of cur (nil: no pin
// yet). An approval not newer than cur is refused: an old approval cannot
// be replayed to bring back an expectation a later one replaced.
func (v *VerifiedApproval) Apply(pkg string, cur *TOFUEntry) (*TOFUEntry, error) {
	a := v.Approval
	if a.Package != pkg {
		return nil, fmt.Errorf("%w: the approval is for package %q, not %q", ErrApprovalMismatch, safetext.Term(a.Package), safetext.Term(pkg))
	}
	if cur != nil && !a.IssuedAt.After(cur.since()) {
		return nil, fmt.Errorf("%w: the approval was issued at %s, the current expectation of %s dates from %s", ErrApprovalStale, a.IssuedAt.Format(time.RFC3339), safetext.Term(pkg), cur.since().UTC().Format(time.RFC3339))
	}
	rec := v.Record
	return &TOFUEntry{BuilderID: a.BuilderID, BuildType: a.BuildType, Parameters: a.Parameters, FirstSeen: a.IssuedAt, Approval: &rec}, nil
}

// Describe summarises the approved expectation for a person about to sign.
func (a *Approval) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "package     %s\nbuilder.id  %s\nbuildType   %s\n", safetext.Term(a.Package), safetext.Term(a.BuilderID), safetext.Term(a.BuildType))
	for _, k := range sortedKeys(a.Parameters) {
		fmt.Fprintf(&b, "parameter   %s = %s\n", safetext.Term(k), safetext.Term(string(a.Parameters[k])))
	}
	fmt.Fprintf(&b, "valid       %s to %s\n", a.IssuedAt.Format(time.RFC3339), a.Expires.Format(time.RFC3339))
	return b.String()
}
