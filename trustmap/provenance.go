package trustmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// Statement and predicate types.
const (
	StatementV1       = "https://in-toto.io/Statement/v1"
	StatementV01      = "https://in-toto.io/Statement/v0.1"
	ProvenanceV1      = "https://slsa.dev/provenance/v1"
	ProvenanceV02     = "https://slsa.dev/provenance/v0.2"
	InTotoPayloadType = "application/vnd.in-toto+json"
)

// statementV1 decodes a statement and a provenance v1 predicate in one pass,
// the common case; anything else falls back to statement.
type statementV1 struct {
	Type          string       `json:"_type"`
	Subject       []subject    `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     provenanceV1 `json:"predicate"`
}

// The statement types are attest's: an in-toto Statement and its subjects.
type (
	statement = attest.Statement
	subject   = attest.Subject
)

// Provenance is the part of SLSA provenance verification looks at.
type Provenance struct {
	PredicateType string
	BuilderID     string
	BuildType     string
	StartedOn     time.Time
	FinishedOn    time.Time

	// firstDependency is resolvedDependencies[0].uri (often the source).
	firstDependency string
	// Dependencies are the resolvedDependencies entries (v1 only).
	Dependencies []ResolvedDependency
	// zeroTime names a time given explicitly as the zero time.
	zeroTime string

	// Parameters are decoded on first use: verification without
	// expectations never needs them.
	extRaw, intRaw json.RawMessage
	ext, internal  map[string]any
	decoded        bool
	decodeErr      error
	// sourceMembers are externalParameters' source members, when the
	// one-pass reading read them (sourcesRead).
	sourceMembers sourceParams
	sourcesRead   bool
}

// Parameters returns externalParameters and internalParameters (numbers as
// json.Number).
func (p *Provenance) Parameters() (external, internal map[string]any, err error) {
	if !p.decoded {
		p.decoded = true
		if len(p.extRaw) > 0 {
			p.decodeErr = decodeUseNumber(p.extRaw, &p.ext)
		}
		if p.decodeErr == nil && len(p.intRaw) > 0 {
			p.decodeErr = decodeUseNumber(p.intRaw, &p.internal)
		}
		if p.decodeErr != nil {
			p.decodeErr = fmt.Errorf("%w: parameters: %v", ErrMalformedProvenance, p.decodeErr)
		}
		if p.ext == nil {
			p.ext = map[string]any{}
		}
	}
	return p.ext, p.internal, p.decodeErr
}

// checkTimes refuses build times that cannot be true: a zero time given
// explicitly, finishedOn before startedOn, a build that finished after its
// verified signing time (keyless) or after the verification time.
func checkTimes(p *Provenance, signedAt, at time.Time) error {
	if p.zeroTime != "" {
		return fmt.Errorf("%w: %s is the zero time", ErrImplausibleBuildTime, p.zeroTime)
	}
	if !p.StartedOn.IsZero() && !p.FinishedOn.IsZero() && p.FinishedOn.Before(p.StartedOn) {
		return fmt.Errorf("%w: expected finishedOn after startedOn, got finishedOn %s before startedOn %s", ErrImplausibleBuildTime,
			p.FinishedOn.UTC().Format(time.RFC3339), p.StartedOn.UTC().Format(time.RFC3339))
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"startedOn", p.StartedOn}, {"finishedOn", p.FinishedOn}} {
		if t.t.IsZero() {
			continue
		}
		if t.t.After(at) {
			return fmt.Errorf("%w: expected %s before the verification time %s, got %s", ErrImplausibleBuildTime, t.name, at.UTC().Format(time.RFC3339), t.t.UTC().Format(time.RFC3339))
		}
		if !signedAt.IsZero() && t.t.After(signedAt) {
			return fmt.Errorf("%w: expected %s before the verified signing time %s, got %s", ErrImplausibleBuildTime, t.name, signedAt.UTC().Format(time.RFC3339), t.t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// BuildTime is finishedOn, or startedOn when finishedOn is absent.
func (p *Provenance) BuildTime() time.Time {
	if !p.FinishedOn.IsZero() {
		return p.FinishedOn
	}
	return p.StartedOn
}

// ResolvedDependency is one resolvedDependencies entry: an artifact the
// build read (the source revision, a base image, a library), named by URI
// or name and identified by its digests.
type ResolvedDependency struct {
	URI    string            `json:"uri"`
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type provenanceV1 struct {
	BuildDefinition struct {
		BuildType            string               `json:"buildType"`
		ExternalParameters   json.RawMessage      `json:"externalParameters"`
		InternalParameters   json.RawMessage      `json:"internalParameters"`
		ResolvedDependencies []ResolvedDependency `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata struct {
			StartedOn  *time.Time `json:"startedOn"`
			FinishedOn *time.Time `json:"finishedOn"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

type provenanceV02 struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	BuildType  string `json:"buildType"`
	Invocation struct {
		ConfigSource json.RawMessage `json:"configSource"`
		Parameters   json.RawMessage `json:"parameters"`
		Environment  json.RawMessage `json:"environment"`
	} `json:"invocation"`
	Metadata struct {
		BuildStartedOn  *time.Time `json:"buildStartedOn"`
		BuildFinishedOn *time.Time `json:"buildFinishedOn"`
	} `json:"metadata"`
	// Materials are v0.2's resolved dependencies.
	Materials []ResolvedDependency `json:"materials"`
}

// decodeUseNumber decodes a free-form value (parameters) that the strict
// decoder already read as part of its statement, as encoding/json decodes
// it into an interface value with UseNumber: objects as map[string]any,
// arrays as []any, numbers as json.Number (their text), strings, booleans
// and null. v is a *any or a *map[string]any (null leaves it unchanged).
// Every caller passes such a part (a json.RawMessage the strict decoder
// filled, or the text the fast reading checked): its names were checked
// with the whole statement, so they are not checked for case here; a name
// given twice and invalid UTF-8 are still errors.
func decodeUseNumber(b []byte, v any) error {
	d, done := strictjson.Decoder(b)
	defer done()
	x, err := readAny(d)
	if err != nil {
		return err
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return fmt.Errorf("more than one JSON value")
	}
	switch v := v.(type) {
	case *any:
		*v = x
	case *map[string]any:
		switch m := x.(type) {
		case map[string]any:
			*v = m
		case nil:
		default:
			return fmt.Errorf("expected a JSON object, got %T", x)
		}
	default:
		return fmt.Errorf("decodeUseNumber: unsupported target %T", v)
	}
	return nil
}

func readAny(d *jsontext.Decoder) (any, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for d.PeekKind() != '}' {
			name, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			k := name.String()
			if m[k], err = readAny(d); err != nil {
				return nil, err
			}
		}
		_, err := d.ReadToken()
		return m, err
	case '[':
		l := []any{}
		for d.PeekKind() != ']' {
			x, err := readAny(d)
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		_, err := d.ReadToken()
		return l, err
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't', 'f':
		return tok.Bool(), nil
	case 'n':
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok.Kind())
}

// parseProvenance reads a v1 predicate, or a legacy v0.2 predicate mapped
// onto the same fields (externalParameters = configSource and parameters).
func parseProvenance(predicateType string, raw json.RawMessage) (*Provenance, error) {
	p := &Provenance{PredicateType: predicateType}
	if predicateType == ProvenanceV02 {
		var v provenanceV02
		if err := strictjson.UnmarshalOpen(raw, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedProvenance, err)
		}
		p.BuilderID, p.BuildType = v.Builder.ID, v.BuildType
		p.ext, p.decoded = map[string]any{}, true
		for name, raw := range map[string]json.RawMessage{"configSource": v.Invocation.ConfigSource, "parameters": v.Invocation.Parameters} {
			if len(raw) == 0 || string(raw) == "null" {
				continue
			}
			var x any
			if err := decodeUseNumber(raw, &x); err != nil {
				return nil, fmt.Errorf("%w: invocation.%s: %w", ErrMalformedProvenance, name, err)
			}
			p.ext[name] = x
		}
		if len(v.Invocation.Environment) > 0 {
			if err := decodeUseNumber(v.Invocation.Environment, &p.internal); err != nil {
				return nil, fmt.Errorf("%w: invocation.environment: %w", ErrMalformedProvenance, err)
			}
		}
		p.setTimes("buildStartedOn", v.Metadata.BuildStartedOn, "buildFinishedOn", v.Metadata.BuildFinishedOn)
		p.Dependencies = v.Materials
	} else {
		var v provenanceV1
		if err := strictjson.UnmarshalOpen(raw, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedProvenance, err)
		}
		return v.provenance(predicateType)
	}
	return p.check()
}

// provenance maps a decoded v1 predicate onto Provenance.
func (v *provenanceV1) provenance(predicateType string) (*Provenance, error) {
	p := &Provenance{PredicateType: predicateType}
	p.BuilderID, p.BuildType = v.RunDetails.Builder.ID, v.BuildDefinition.BuildType
	p.extRaw, p.intRaw = v.BuildDefinition.ExternalParameters, v.BuildDefinition.InternalParameters
	if deps := v.BuildDefinition.ResolvedDependencies; len(deps) > 0 {
		p.firstDependency = deps[0].URI
		p.Dependencies = deps
	}
	for _, raw := range []json.RawMessage{p.extRaw, p.intRaw} {
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '{' && string(t) != "null" {
			return nil, fmt.Errorf("%w: parameters must be JSON objects", ErrMalformedProvenance)
		}
	}
	p.setTimes("startedOn", v.RunDetails.Metadata.StartedOn, "finishedOn", v.RunDetails.Metadata.FinishedOn)
	return p.check()
}

// setTimes records the build times; a time given as the zero time (year 1
// or the Unix epoch) is remembered so that it fails rather than counting as
// absent.
func (p *Provenance) setTimes(startName string, start *time.Time, finishName string, finish *time.Time) {
	zero := func(t time.Time) bool { return t.IsZero() || t.Unix() == 0 }
	if start != nil {
		if zero(*start) {
			p.zeroTime = startName
		} else {
			p.StartedOn = *start
		}
	}
	if finish != nil {
		if zero(*finish) {
			p.zeroTime = finishName
		} else {
			p.FinishedOn = *finish
		}
	}
}

func (p *Provenance) check() (*Provenance, error) {
	if p.BuilderID == "" {
		return nil, fmt.Errorf("%w: no builder.id", ErrMalformedProvenance)
	}
	if p.BuildType == "" {
		return nil, fmt.Errorf("%w: no buildType", ErrMalformedProvenance)
	}
	return p, nil
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// splitDocuments splits a provenance file into JSON documents: JSON Lines
// (one envelope per line), or one JSON value spread over several lines.
// Blank lines are skipped; the documents are parsed later.
func splitDocuments(b []byte) ([][]byte, error) {
	if len(b) > MaxProvenanceBytes {
		return nil, fmt.Errorf("%w: provenance file larger than %d bytes", ErrMalformedEnvelope, MaxProvenanceBytes)
	}
	var docs [][]byte
	jsonl := true
	for line := range bytes.Lines(b) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] != '{' || line[len(line)-1] != '}' {
			jsonl = false
			break
		}
		docs = append(docs, line)
		if len(docs) > MaxEnvelopesPerFile {
			return nil, fmt.Errorf("%w: more than %d documents in one file", ErrMalformedEnvelope, MaxEnvelopesPerFile)
		}
	}
	if !jsonl {
		// Not JSON Lines: the whole file is one document (for example an
		// indented envelope), or malformed, which parsing will report.
		docs = [][]byte{bytes.TrimSpace(b)}
	}
	if len(docs) == 0 || len(docs[0]) == 0 {
		return nil, ErrNoProvenance
	}
	return docs, nil
}
