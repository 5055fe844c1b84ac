package trustmap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// PolicySchema identifies the expectations policy format written today
// (v2: v1 plus serial and expires, required when the policy is signed).
const PolicySchema = "https://hallmark.build/policy/v2"

// PolicySchemaV3 is v2 plus the source and dependency requirements of a
// package (source.minLevel, dependencies.minLevel): a policy that has them
// says v3, so that a trustmap that knows only v2 refuses it rather than
// passing what it cannot check.
const PolicySchemaV3 = "https://hallmark.build/policy/v3"

// PolicySchemaV1 is the first policy format (no serial, no expiry): still
// read when unsigned; signed, it is refused, since it could be an older
// policy with fewer restrictions replayed.
const PolicySchemaV1 = "https://hallmark.build/policy/v1"

// MaxPolicyValidity is the longest a signed policy may be valid.
const MaxPolicyValidity = 366 * 24 * time.Hour

// PolicyPayloadType is the DSSE payload type of a signed policy.
const PolicyPayloadType = "application/vnd.hallmark.policy+json"

// Policy holds a producer's expectations per package name.
type Policy struct {
	Schema string `json:"schema"`
	// Serial numbers the versions of a signed policy: each new version has
	// a larger one, and verify refuses one below the last it accepted.
	Serial uint64 `json:"serial,omitempty"`
	// Expires is when a signed policy stops being valid.
	Expires  time.Time                `json:"expires,omitzero"`
	Packages map[string]PackagePolicy `json:"packages"`
}

// PackagePolicy is what provenance for one package must show.
type PackagePolicy struct {
	MinLevel           *questionnaire.Level `json:"minLevel,omitempty"`
	BuilderIDs         []string             `json:"builderIds,omitempty"`
	BuildTypes         []string             `json:"buildTypes,omitempty"`
	ExternalParameters map[string]Matcher   `json:"externalParameters,omitempty"`
	IgnoreParameters   []string             `json:"ignoreParameters,omitempty"`
	InternalParameters map[string]Matcher   `json:"internalParameters,omitempty"`
	// Source and Dependencies (policy v3) require VSAs (or provenance) for
	// the source revision and the resolved dependencies.
	Source       *SourcePolicy     `json:"source,omitempty"`
	Dependencies *DependencyPolicy `json:"dependencies,omitempty"`
}

// Matcher is an expectation on one parameter (addressed by a JSON Pointer,
// or a legacy dotted path):
// an exact JSON value, a set of allowed values, or a glob pattern on a
// string (path.Match syntax: "refs/tags/v*"; '*' does not cross '/').
type Matcher struct {
	Equals  json.RawMessage   `json:"equals,omitempty"`
	OneOf   []json.RawMessage `json:"oneOf,omitempty"`
	Pattern string            `json:"pattern,omitempty"`
}

func (m Matcher) validate() error {
	n := 0
	if m.Equals != nil {
		n++
	}
	if m.OneOf != nil {
		n++
		if len(m.OneOf) == 0 {
			return fmt.Errorf("oneOf is empty")
		}
	}
	if m.Pattern != "" {
		n++
		if _, err := path.Match(m.Pattern, ""); err != nil {
			return fmt.Errorf("pattern %q: %v", m.Pattern, err)
		}
	}
	if n != 1 {
		return fmt.Errorf("give exactly one of equals, oneOf, pattern")
	}
	return nil
}

// describe renders the expectation for messages.
func (m Matcher) describe() string {
	switch {
	case m.Equals != nil:
		return string(m.Equals)
	case m.OneOf != nil:
		parts := make([]string, len(m.OneOf))
		for i, v := range m.OneOf {
			parts[i] = string(v)
		}
		return "one of " + strings.Join(parts, ", ")
	}
	return "matching " + m.Pattern
}

// plainJSON returns the text of a JSON string value, so that a check's
// expected and found fields hold https://… rather than "\"https://…\"" in
// JSON output; any other text (numbers, objects, descriptions) is returned
// as it is. Messages keep the quoted form.
func plainJSON(s string) string {
	var v string
	if strings.HasPrefix(s, `"`) && json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return s
}

// match compares a found value (decoded with UseNumber) with the matcher.
func (m Matcher) match(found any) (bool, error) {
	switch {
	case m.Equals != nil:
		return jsonEqual(m.Equals, found), nil
	case m.OneOf != nil:
		for _, v := range m.OneOf {
			if jsonEqual(v, found) {
				return true, nil
			}
		}
		return false, nil
	}
	s, ok := found.(string)
	if !ok {
		return false, nil
	}
	return path.Match(m.Pattern, s)
}

func jsonEqual(raw json.RawMessage, found any) bool {
	want, err := decodeValue(raw)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(want, found)
}

func decodeValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// ParsePolicy decodes an unsigned policy.
func ParsePolicy(b []byte) (*Policy, error) {
	var p Policy
	schema := PolicySchema
	if s := probeSchema(b); s == PolicySchemaV1 || s == PolicySchemaV3 {
		schema = s
	}
	if err := decodeDocument(b, &p, schema, MaxPolicyBytes, ErrMalformedPolicy); err != nil {
		return nil, err
	}
	if len(p.Packages) == 0 {
		return nil, fmt.Errorf("%w: expected at least one package, got none", ErrMalformedPolicy)
	}
	if schema == PolicySchemaV1 && (p.Serial != 0 || !p.Expires.IsZero()) {
		return nil, fmt.Errorf("%w: serial and expires are policy v2 fields (schema %q)", ErrMalformedPolicy, PolicySchema)
	}
	for name, pp := range p.Packages {
		// A policy that does not name the builder and the buildType accepts
		// any: SLSA requires both to match expectations.
		if len(pp.BuilderIDs) == 0 {
			return nil, fmt.Errorf("%w: package %q: expected builderIds (the builders allowed to build it), got none", ErrMalformedPolicy, name)
		}
		if len(pp.BuildTypes) == 0 {
			return nil, fmt.Errorf("%w: package %q: expected buildTypes (how it is built), got none", ErrMalformedPolicy, name)
		}
		for _, list := range [][]string{pp.BuilderIDs, pp.BuildTypes} {
			if slices.Contains(list, "") {
				return nil, fmt.Errorf("%w: package %q: empty builderId or buildType", ErrMalformedPolicy, name)
			}
		}
		if (pp.Source != nil || pp.Dependencies != nil) && schema != PolicySchemaV3 {
			return nil, fmt.Errorf("%w: package %q: source and dependencies are policy v3 fields: expected schema %q, got %s", ErrMalformedPolicy, name, PolicySchemaV3, schema)
		}
		if pp.Source != nil {
			if err := pp.Source.validate(); err != nil {
				return nil, fmt.Errorf("%w: package %q: %v", ErrMalformedPolicy, name, err)
			}
		}
		if pp.Dependencies != nil {
			if err := pp.Dependencies.validate(); err != nil {
				return nil, fmt.Errorf("%w: package %q: %v", ErrMalformedPolicy, name, err)
			}
		}
		if pp.MinLevel != nil && *pp.MinLevel < 1 {
			return nil, fmt.Errorf("%w: package %q: minLevel must be 1-3", ErrMalformedPolicy, name)
		}
		for _, set := range []*map[string]Matcher{&pp.ExternalParameters, &pp.InternalParameters} {
			norm := make(map[string]Matcher, len(*set))
			for k, m := range *set {
				ptr, err := parsePath(k)
				if err != nil {
					return nil, fmt.Errorf("%w: package %q: %v", ErrMalformedPolicy, name, err)
				}
				if _, dup := norm[ptr]; dup {
					return nil, fmt.Errorf("%w: package %q: parameter %s given twice", ErrMalformedPolicy, name, ptr)
				}
				if err := m.validate(); err != nil {
					return nil, fmt.Errorf("%w: package %q parameter %q: %v", ErrMalformedPolicy, name, k, err)
				}
				norm[ptr] = m
			}
			if *set != nil {
				*set = norm
			}
		}
		for i, k := range pp.IgnoreParameters {
			ptr, err := parsePath(k)
			if err != nil {
				return nil, fmt.Errorf("%w: package %q: ignoreParameters: %v", ErrMalformedPolicy, name, err)
			}
			pp.IgnoreParameters[i] = ptr
		}
		p.Packages[name] = pp
	}
	return &p, nil
}

// LoadPolicy reads a policy file: plain, or a DSSE envelope around one. With
// keys, it must be signed by at least threshold distinct keys among them
// (two-party authorised changes), carry a serial not below opts.MinSerial
// and not have expired at opts.At; a signed policy without keys is refused.
func LoadPolicy(ctx context.Context, b []byte, keys []*attest.PublicKey, threshold int, opts LoadOptions) (*Policy, error) {
	if opts.At.IsZero() {
		return nil, errors.New("load policy: no verification time")
	}
	if err := DistinctKeys(keys); err != nil {
		return nil, fmt.Errorf("--policy-key: %w", err)
	}
	signed := isEnvelope(b)
	switch {
	case !signed && len(keys) > 0:
		return nil, fmt.Errorf("%w: expected a DSSE envelope signed by %d of %s, got an unsigned policy", ErrPolicyUnsigned, threshold, fingerprints(keys))
	case !signed:
		p, err := ParsePolicy(b)
		if err != nil {
			return nil, err
		}
		if err := checkFresh("policy", p.Serial, p.Expires, opts, ErrPolicyExpired, ErrPolicyRollback); err != nil {
			return nil, err
		}
		return p, nil
	case len(keys) == 0:
		return nil, fmt.Errorf("%w: the policy is signed; give the signers' keys (--policy-key) to check it", ErrPolicyUnsigned)
	}
	if threshold < 1 || threshold > len(keys) {
		return nil, fmt.Errorf("%w: threshold %d with %d keys", ErrMalformedPolicy, threshold, len(keys))
	}
	env, err := attest.ParseEnvelope(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedPolicy, err)
	}
	payload, _, err := VerifyThreshold(ctx, env, PolicyPayloadType, keys, threshold)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPolicyUnsigned, err)
	}
	p, err := ParsePolicy(payload)
	if err != nil {
		return nil, err
	}
	if err := p.checkSignable(); err != nil {
		return nil, err
	}
	if err := checkFresh("policy", p.Serial, p.Expires, opts, ErrPolicyExpired, ErrPolicyRollback); err != nil {
		return nil, err
	}
	if p.Expires.Sub(opts.At) > MaxPolicyValidity {
		// sign-policy never signs one valid this long: it would outlive
		// every stricter version signed after it.
		return nil, fmt.Errorf("%w: expected expires at most %s after the verification time %s, got %s (signed for longer than sign-policy allows, or verified at a time before it was signed)", ErrMalformedPolicy, MaxPolicyValidity, opts.At.UTC().Format(time.RFC3339), p.Expires.Format(time.RFC3339))
	}
	return p, nil
}

// checkSignable requires what a signed policy needs: a serial and an expiry
// within MaxPolicyValidity.
func (p *Policy) checkSignable() error {
	if p.Serial == 0 || p.Expires.IsZero() {
		return fmt.Errorf("%w: a signed policy needs \"serial\" (1 or more, larger than the previous version's) and \"expires\" (schema %s), so that an older version cannot be replayed; got serial %d, expires %q", ErrNoSerial, PolicySchema, p.Serial, p.Expires.Format(time.RFC3339))
	}
	return nil
}

// SignPolicy signs a policy, or adds signatures to a signed one (see
// CoSign). A policy must have a serial and an expiry at most
// MaxPolicyValidity after at.
func SignPolicy(ctx context.Context, policy []byte, keys []*attest.PrivateKey, at time.Time) ([]byte, error) {
	return CoSign(ctx, policy, PolicyPayloadType, keys, func(payload []byte) error {
		p, err := ParsePolicy(payload)
		if err != nil {
			return err
		}
		if err := p.checkSignable(); err != nil {
			return err
		}
		if !at.Before(p.Expires) {
			return fmt.Errorf("%w: the policy expired at %s", ErrPolicyExpired, p.Expires.Format(time.RFC3339))
		}
		if p.Expires.Sub(at) > MaxPolicyValidity {
			return fmt.Errorf("%w: expires %s is more than %s after now", ErrMalformedPolicy, p.Expires.Format(time.RFC3339), MaxPolicyValidity)
		}
		return nil
	})
}

// Parameter paths are JSON Pointers (RFC 6901): "/workflow/repository"
// names the member repository of the member workflow, and the literal key
// "workflow.repository" is "/workflow.repository", so a key containing a
// separator can never pose as a nested path. Policies may also give the
// legacy dotted form ("workflow.repository"), read as nested members.

// parsePath reads a policy or TOFU key as a JSON Pointer.
func parsePath(k string) (string, error) {
	if k == "" {
		return "", fmt.Errorf("empty parameter path")
	}
	if !strings.HasPrefix(k, "/") {
		// Legacy dotted form: every '.' separates members.
		parts := strings.Split(k, ".")
		for i, p := range parts {
			if p == "" {
				return "", fmt.Errorf("parameter path %q has an empty member name", k)
			}
			parts[i] = escapeToken(p)
		}
		return "/" + strings.Join(parts, "/"), nil
	}
	for _, tok := range strings.Split(k[1:], "/") {
		if _, err := unescapeToken(tok); err != nil {
			return "", fmt.Errorf("parameter path %q: %v", k, err)
		}
	}
	return k, nil
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapeToken(s string) (string, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 == len(s) || (s[i+1] != '0' && s[i+1] != '1')) {
			return "", fmt.Errorf("'~' must be followed by 0 or 1")
		}
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~"), nil
}

// leaves flattens nested objects into JSON Pointers. Scalars, arrays (empty
// ones included) and empty objects are leaves: each is a parameter that must
// be expected or ignored.
func leaves(prefix string, v any, out map[string]any) {
	obj, ok := v.(map[string]any)
	if !ok || (len(obj) == 0 && prefix != "") {
		out[prefix] = v
		return
	}
	for k, x := range obj {
		leaves(prefix+"/"+escapeToken(k), x, out)
	}
}

// lookupPointer finds a JSON Pointer in nested objects.
func lookupPointer(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for tok := range strings.SplitSeq(ptr[1:], "/") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		name, err := unescapeToken(tok)
		if err != nil {
			return nil, false
		}
		if v, ok = obj[name]; !ok {
			return nil, false
		}
	}
	return v, true
}

// coveredBy reports whether pointer p is one of keys or inside one.
func coveredBy(p string, keys []string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return p == k || strings.HasPrefix(p, k+"/") })
}

// lastToken is the member name a pointer ends with.
func lastToken(p string) string {
	t, _ := unescapeToken(p[strings.LastIndex(p, "/")+1:])
	return t
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
