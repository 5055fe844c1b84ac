package trustmap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// PolicySchema identifies the expectations policy format.
const PolicySchema = "https://hallmark.build/policy/v1"

// PolicyPayloadType is the DSSE payload type of a signed policy.
const PolicyPayloadType = "application/vnd.hallmark.policy+json"

// Policy holds a producer's expectations per package name.
type Policy struct {
	Schema   string                   `json:"schema"`
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
	if err := decodeDocument(b, &p, PolicySchema, MaxPolicyBytes, ErrMalformedPolicy); err != nil {
		return nil, err
	}
	if len(p.Packages) == 0 {
		return nil, fmt.Errorf("%w: expected at least one package, got none", ErrMalformedPolicy)
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
// keys, it must be signed by at least threshold of them (two-party
// authorised changes); a signed policy without keys is refused.
func LoadPolicy(ctx context.Context, b []byte, keys []*attest.PublicKey, threshold int) (*Policy, error) {
	signed := isEnvelope(b)
	switch {
	case !signed && len(keys) > 0:
		return nil, fmt.Errorf("%w: expected a DSSE envelope signed by %d of %s, got an unsigned policy", ErrPolicyUnsigned, threshold, fingerprints(keys))
	case !signed:
		return ParsePolicy(b)
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
	var payload []byte
	var signers []string
	for _, k := range keys {
		p, _, err := attest.VerifyEnvelope(ctx, env, PolicyPayloadType, []*attest.PublicKey{k})
		if err != nil {
			continue
		}
		payload = p
		signers = append(signers, k.Fingerprint)
	}
	if len(signers) < threshold {
		return nil, fmt.Errorf("%w: expected %d valid signatures from %s, found %d", ErrPolicyUnsigned, threshold, fingerprints(keys), len(signers))
	}
	return ParsePolicy(payload)
}

// SignPolicy adds signatures to a policy: every key signs the same payload.
func SignPolicy(ctx context.Context, policy []byte, keys []*attest.PrivateKey) ([]byte, error) {
	if _, err := ParsePolicy(policy); err != nil {
		return nil, err
	}
	var env *attest.Envelope
	for _, k := range keys {
		e, err := attest.Sign(ctx, PolicyPayloadType, policy, k)
		if err != nil {
			return nil, err
		}
		if env == nil {
			env = e
		} else {
			env.Signatures = append(env.Signatures, e.Signatures...)
		}
	}
	return attest.MarshalEnvelope(env)
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
	for _, tok := range strings.Split(ptr[1:], "/") {
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
