package trustmap

import (
	"bytes"
	"fmt"
	"regexp"
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
	raw, ok := topLevelMember(payload, st.ProtoReflect().Descriptor().Fields().ByName("predicate"))
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

// topLevelMember returns the value of the one member of a JSON object that
// protojson reads as field (by its JSON or its proto name), or false when
// there is not exactly one.
func topLevelMember(b []byte, field protoreflect.FieldDescriptor) ([]byte, bool) {
	if field == nil {
		return nil, false
	}
	d := jsontext.NewDecoder(bytes.NewBuffer(b))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	var found []byte
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, false
		}
		if name := tok.String(); name != field.JSONName() && name != string(field.Name()) {
			if d.SkipValue() != nil {
				return nil, false
			}
			continue
		}
		v, err := d.ReadValue()
		if err != nil || found != nil {
			return nil, false
		}
		found = bytes.Clone(v) // v is valid until the next read
	}
	return found, found != nil
}
