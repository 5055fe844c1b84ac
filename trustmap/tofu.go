package trustmap

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/hallmark-build/hallmark/internal/canonical"
)

// TOFUSchema identifies the trust-on-first-use store format.
const TOFUSchema = "https://hallmark.build/tofu/v1"

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
	ApprovedBy string                     `json:"approvedBy,omitempty"`
}

// NewTOFU returns an empty store.
func NewTOFU() *TOFU { return &TOFU{Schema: TOFUSchema, Packages: map[string]TOFUEntry{}} }

// ParseTOFU decodes a store.
func ParseTOFU(b []byte) (*TOFU, error) {
	var t TOFU
	if err := decodeDocument(b, &t, TOFUSchema, MaxTOFUBytes, ErrMalformedTOFU); err != nil {
		return nil, err
	}
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
		return failed("tofu", want, got, fmt.Errorf("%w: %s: first seen %s, now %s (approve the change with: trustmap expectations approve)", ErrTOFUMismatch, what, want, got))
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
	va, err1 := decodeValue(a)
	vb, err2 := decodeValue(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(va, vb)
}

// Approve records prov as the new expectation for a package, noting who
// approved the change.
func (t *TOFU) Approve(pkgName string, prov *Provenance, pkg *PackagePolicy, approvedBy string, at time.Time) {
	e := pin(prov, pkg, at)
	e.ApprovedBy = approvedBy
	t.Packages[pkgName] = e
	t.changed = true
}

// Provenance returns the provenance of the passing document, for Approve.
func (r *Result) Provenance() *Provenance {
	if r.Passing < 0 {
		return nil
	}
	return r.Documents[r.Passing].provenance
}
