package trustmap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/hallmark-build/hallmark/internal/canonical"
	"github.com/hallmark-build/hallmark/internal/safetext"
)

// TOFUSchema identifies the trust-on-first-use store format written today
// (v2: approvals are signed and recorded by signer fingerprint).
const TOFUSchema = "https://hallmark.build/tofu/v2"

// TOFUSchemaV1 is the first store format, still read: its approvedBy is
// free text nobody verified, and is kept as it is.
const TOFUSchemaV1 = "https://hallmark.build/tofu/v1"

// TOFUStore keeps trust-on-first-use pins for many verifiers at once (a
// file with an OS lock, a database). UpdatePackage runs fn with the current
// pin of pkg (nil when there is none) and stores what fn returns (nil: no
// change), with no other UpdatePackage for pkg in between: a first pin
// recorded by one verifier is never lost to another's, and a verifier that
// read the pin before an approval cannot write the old one back.
type TOFUStore interface {
	UpdatePackage(ctx context.Context, pkg string, fn func(cur *TOFUEntry) (*TOFUEntry, error)) error
}

// VaryingParameterNames are parameter names expected to change between
// releases. TOFU records that they exist but not their values; a policy's
// ignoreParameters and pattern matchers are treated the same way.
var varyingParameterNames = []string{"ref", "tag", "version", "sha", "commit", "digest"}

// TOFU records, per package, what its first passing provenance showed:
// builder.id, buildType and external parameters. Later provenance that
// differs fails until the change is approved.
type TOFU struct {
	Schema   string               `json:"schema"`
	Packages map[string]TOFUEntry `json:"packages"`

	changed bool
}

// TOFUEntry is what is pinned for one package.
type TOFUEntry struct {
	BuilderID string `json:"builderId"`
	BuildType string `json:"buildType"`
	// Parameters maps each external parameter (JSON Pointer) to its pinned
	// JSON value, or to null for parameters allowed to vary.
	Parameters map[string]json.RawMessage `json:"parameters"`
	FirstSeen  time.Time                  `json:"firstSeen"`
	// Approval, when the pin was set by an approved change, records who
	// signed the approval.
	Approval *ApprovalRecord `json:"approval,omitempty"`
	// ApprovedBy is the unverified free text of v1 stores, kept when read;
	// this version never writes it.
	ApprovedBy string `json:"approvedBy,omitempty"`
}

// ApprovalRecord is what the store keeps of an applied approval.
type ApprovalRecord struct {
	// Signers are the fingerprints of the approvers' keys whose signatures
	// verified, sorted.
	Signers []string `json:"signers"`
	// Digest is the sha256 of the approval's DSSE payload.
	Digest string `json:"digest"`
	// IssuedAt is the approval's issue time: an approval not newer than
	// the pin it replaces is refused (replay).
	IssuedAt time.Time `json:"issuedAt"`
}

// since is the time the pin was set.
func (e *TOFUEntry) since() time.Time {
	if e.Approval != nil && e.Approval.IssuedAt.After(e.FirstSeen) {
		return e.Approval.IssuedAt
	}
	return e.FirstSeen
}

// NewTOFU returns an empty store.
func NewTOFU() *TOFU { return &TOFU{Schema: TOFUSchema, Packages: map[string]TOFUEntry{}} }

// ParseTOFU decodes a store (v2, or v1 which it upgrades to v2 in memory).
func ParseTOFU(b []byte) (*TOFU, error) {
	var t TOFU
	schema := TOFUSchema
	if probeSchema(b) == TOFUSchemaV1 {
		schema = TOFUSchemaV1
	}
	if err := decodeDocument(b, &t, schema, MaxTOFUBytes, ErrMalformedTOFU); err != nil {
		return nil, err
	}
	for name, e := range t.Packages {
		switch {
		case schema == TOFUSchemaV1 && e.Approval != nil:
			return nil, fmt.Errorf("%w: package %q: approval is a v2 field", ErrMalformedTOFU, safetext.Term(name))
		case schema == TOFUSchema && e.ApprovedBy != "":
			return nil, fmt.Errorf("%w: package %q: approvedBy is a v1 field (v2 records signed approvals)", ErrMalformedTOFU, safetext.Term(name))
		}
	}
	t.Schema = TOFUSchema
	if t.Packages == nil {
		t.Packages = map[string]TOFUEntry{}
	}
	// Parameters are pinned by JSON Pointer; stores written before used
	// dotted paths, read as nested members.
	for name, e := range t.Packages {
		params := make(map[string]json.RawMessage, len(e.Parameters))
		for k, v := range e.Parameters {
			ptr, err := parsePath(k)
			if err != nil {
				return nil, fmt.Errorf("%w: package %q: %v", ErrMalformedTOFU, name, err)
			}
			if _, dup := params[ptr]; dup {
				return nil, fmt.Errorf("%w: package %q: parameter %s given twice", ErrMalformedTOFU, name, ptr)
			}
			params[ptr] = v
		}
		e.Parameters = params
		t.Packages[name] = e
	}
	return &t, nil
}

// TOFUFor returns a one-package store holding cur (nil: no pin yet), for
// Verify inside TOFUStore.UpdatePackage; Pin returns what to store back.
func TOFUFor(pkg string, cur *TOFUEntry) *TOFU {
	t := NewTOFU()
	if cur != nil {
		t.Packages[pkg] = *cur
	}
	return t
}

// Pin returns the pin of pkg when this store gained or changed it, or nil.
func (t *TOFU) Pin(pkg string) *TOFUEntry {
	e, ok := t.Packages[pkg]
	if !t.changed || !ok {
		return nil
	}
	return &e
}

// Changed reports whether the store gained or changed an entry.
func (t *TOFU) Changed() bool { return t.changed }

// Marshal encodes the store reproducibly.
func (t *TOFU) Marshal() ([]byte, error) { return canonical.JSON(t) }

func pin(prov *Provenance, pkg *PackagePolicy, at time.Time) TOFUEntry {
	flat := map[string]any{}
	ext, _, _ := prov.Parameters() // verification already decoded them, or failed
	leaves("", any(ext), flat)
	var vary []string
	if pkg != nil {
		vary = append(vary, pkg.IgnoreParameters...)
		for k, m := range pkg.ExternalParameters {
			if m.Pattern != "" || m.OneOf != nil {
				vary = append(vary, k)
			}
		}
	}
	params := map[string]json.RawMessage{}
	for p, v := range flat {
		if coveredBy(p, vary) || contains(varyingParameterNames, lastToken(p)) {
			params[p] = json.RawMessage("null")
			continue
		}
		b, _ := json.Marshal(v)
		params[p] = b
	}
	return TOFUEntry{BuilderID: prov.BuilderID, BuildType: prov.BuildType, Parameters: params, FirstSeen: at.UTC()}
}

func (t *TOFU) check(pkgName string, prov *Provenance, pkg *PackagePolicy, at time.Time) Check {
	if pkgName == "" {
		return failed("tofu", "a package name", "none", fmt.Errorf("%w: trust on first use needs a package name", ErrUnknownPackage))
	}
	now := pin(prov, pkg, at)
	old, ok := t.Packages[pkgName]
	if !ok {
		t.Packages[pkgName] = now
		t.changed = true
		return pass("tofu", "first use", "recorded builder.id, buildType and parameters")
	}
	diff := func(what, want, got string) Check {
		return failed("tofu", want, got, fmt.Errorf("%w: %s: first seen %s, now %s (to accept the change: trustmap expectations propose, sign and approve)", ErrTOFUMismatch, what, want, got))
	}
	if old.BuilderID != now.BuilderID {
		return diff("builder.id", old.BuilderID, now.BuilderID)
	}
	if old.BuildType != now.BuildType {
		return diff("buildType", old.BuildType, now.BuildType)
	}
	for _, k := range sortedKeys(old.Parameters) {
		got, ok := now.Parameters[k]
		if !ok {
			return diff("parameter "+k, string(old.Parameters[k]), "absent")
		}
		if !jsonSame(old.Parameters[k], got) && string(old.Parameters[k]) != "null" {
			return diff("parameter "+k, string(old.Parameters[k]), string(got))
		}
	}
	for _, k := range sortedKeys(now.Parameters) {
		if _, ok := old.Parameters[k]; !ok {
			return diff("parameter "+k, "absent", string(now.Parameters[k]))
		}
	}
	return pass("tofu", "as first seen", "builder.id, buildType and parameters unchanged")
}

func jsonSame(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) { // the usual case: both written by json.Marshal
		return json.Valid(a)
	}
	va, err1 := decodeValue(a)
	vb, err2 := decodeValue(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(va, vb)
}

// Provenance returns the provenance of the passing document, for Approve.
func (r *Result) Provenance() *Provenance {
	if r.Passing < 0 {
		return nil
	}
	return r.Documents[r.Passing].provenance
}
