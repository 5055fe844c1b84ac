package trustmap

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	slsa1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// inTotoParse reads a statement (and, for SLSA Provenance v1, its
// predicate) with the in-toto attestation library, the reference reading
// of these formats, and validates them with its Validate methods. Verify
// accepts only statements this reading accepts too, so that trustmap and
// other in-toto tools never disagree on what was signed: protojson also
// reads proto member names ("predicate_type" beside "predicateType"),
// checks digest encodings and requires externalParameters. Unknown members
// are ignored, as the in-toto specification requires.
func inTotoParse(payload []byte, provenanceV1 bool) (*ita1.Statement, *slsa1.Provenance, error) {
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	if provenanceV1 {
		if st, p, ok, err := inTotoParseSplit(payload, opts); ok {
			return st, p, err
		}
	}
	return inTotoParseFull(payload, provenanceV1)
}

// inTotoParseFull is inTotoParse reading the predicate as the statement's
// google.protobuf.Struct first.
func inTotoParseFull(payload []byte, provenanceV1 bool) (*ita1.Statement, *slsa1.Provenance, error) {
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	var st ita1.Statement
	if err := opts.Unmarshal(payload, &st); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	if err := st.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	if !provenanceV1 {
		return &st, nil, nil
	}
	// The predicate's own bytes (the statement was read from them just
	// above); re-encoding the decoded predicate is the fallback.
	raw, _, ok := topLevelMember(payload, predicateField)
	if !ok {
		var err error
		if raw, err = protojson.Marshal(st.GetPredicate()); err != nil {
			return nil, nil, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
		}
	}
	var p slsa1.Provenance
	if err := opts.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	if err := p.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	return &st, &p, nil
}

// protojson's messages vary on purpose between builds (a space or a
// non-breaking space, positions): keep what they say, not how.
var protoPosition = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s*\(line \d+:\d+\)`) }) // compiled on first use, not at every start

func stableProtoError(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\u00a0", " ")
	msg = protoPosition().ReplaceAllString(msg, "")
	msg = strings.TrimLeft(strings.TrimPrefix(msg, "proto:"), ": ")
	return strings.Join(strings.Fields(msg), " ")
}

// predicateField is the statement's predicate.
var predicateField = (&ita1.Statement{}).ProtoReflect().Descriptor().Fields().ByName("predicate")

// inTotoParseSplit is inTotoParse for SLSA Provenance v1 without decoding
// the predicate twice: once as the statement's google.protobuf.Struct (a
// map of every value, the costliest part of the reading) and once as
// provenance. The statement is read with an empty predicate object and the
// predicate as provenance; it applies only where the Struct reading is
// known to succeed (an object whose numbers are finite doubles, without
// duplicate names, nested less than maxSplitDepth), so the verdict is the
// full reading's. ok is false where it does not apply: then inTotoParse
// reads in full. The statement returned has an empty predicate.
func inTotoParseSplit(payload []byte, opts protojson.UnmarshalOptions) (_ *ita1.Statement, _ *slsa1.Provenance, ok bool, _ error) {
	raw, start, found := topLevelMember(payload, predicateField)
	if !found || len(raw) == 0 || raw[0] != '{' || !structReadable(raw) {
		return nil, nil, false, nil
	}
	stripped := make([]byte, 0, len(payload)-len(raw)+2)
	stripped = append(append(append(stripped, payload[:start]...), "{}"...), payload[start+len(raw):]...)
	var st ita1.Statement
	if err := opts.Unmarshal(stripped, &st); err != nil {
		return nil, nil, true, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	if err := st.Validate(); err != nil {
		return nil, nil, true, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	var p slsa1.Provenance
	if err := opts.Unmarshal(raw, &p); err != nil {
		return nil, nil, true, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	if err := p.Validate(); err != nil {
		return nil, nil, true, fmt.Errorf("%w: %s", ErrInTotoRejected, stableProtoError(err))
	}
	return &st, &p, true, nil
}

// maxSplitDepth is far below protojson's recursion limit (10,000 messages,
// two per level of a Struct).
const maxSplitDepth = 1000

// structReadable reports whether protojson certainly reads a JSON value as
// a google.protobuf.Value: well-formed UTF-8 JSON, no duplicate names,
// every number a finite double, nested less than maxSplitDepth.
func structReadable(b []byte) bool {
	d := jsontext.NewDecoder(bytes.NewBuffer(b))
	for {
		tok, err := d.ReadToken()
		if err == io.EOF {
			return true
		}
		if err != nil || d.StackDepth() > maxSplitDepth {
			return false
		}
		if tok.Kind() == '0' {
			if _, err := strconv.ParseFloat(tok.String(), 64); err != nil {
				return false
			}
		}
	}
}

// topLevelMember returns the value of the one member of a JSON object that
// protojson reads as field (by its JSON or its proto name) and where it
// starts, or false when there is not exactly one.
func topLevelMember(b []byte, field protoreflect.FieldDescriptor) ([]byte, int, bool) {
	if field == nil {
		return nil, 0, false
	}
	d := jsontext.NewDecoder(bytes.NewBuffer(b))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, 0, false
	}
	var found []byte
	start := 0
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, 0, false
		}
		if name := tok.String(); name != field.JSONName() && name != string(field.Name()) {
			if d.SkipValue() != nil {
				return nil, 0, false
			}
			continue
		}
		v, err := d.ReadValue()
		if err != nil || found != nil {
			return nil, 0, false
		}
		found = bytes.Clone(v) // v is valid until the next read
		start = int(d.InputOffset()) - len(v)
	}
	if found == nil || !bytes.Equal(b[start:start+len(found)], found) {
		return nil, 0, false
	}
	return found, start, true
}
