package trustmap

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	slsa1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// inTotoAccepts is the verdict of inTotoParse for a statement: nil when
// the in-toto attestation library reads and validates it. For SLSA
// Provenance v1 it first tries inTotoAcceptsFast, which only ever
// accepts; anything it does not accept is read in full, so the verdict
// and the error are always the full reading's.
func inTotoAccepts(payload []byte, provenanceV1 bool) error {
	if provenanceV1 && inTotoAcceptsFast(payload) {
		return nil
	}
	_, _, err := inTotoParse(payload, provenanceV1)
	return err
}

// inTotoAcceptsFast reports whether readStatementFast reads payload.
func inTotoAcceptsFast(payload []byte) bool {
	_, _, ok := readStatementFast(payload)
	return ok
}

// readStatementFast is the one reading of the common case: an in-toto
// statement whose predicate is SLSA Provenance v1, in plain form. In a
// single pass it gives what two readings would give otherwise, or answers
// ok=false and the payload is read by both in full:
//
//   - the strict decoder's (strictjson.UnmarshalOpen into statementV1):
//     every name exact, none given twice or twice up to case, at any depth,
//     none a case variant of a member the formats define, valid UTF-8, one
//     value; it returns the same statement and provenance that reading
//     gives;
//   - the in-toto attestation library's (inTotoParse with provenanceV1):
//     protojson reading the statement (the predicate as a
//     google.protobuf.Struct) and the predicate (as provenance), then both
//     Validate methods, which are run on the protos built here.
//
// It reads the payload guided by the messages' descriptors and reads only
// the plain form both certainly read the same way: a proto field name used
// for a JSON name ("predicate_type"), a case variant of a name either
// format defines, an extension name, a null, a field of a kind other than
// string, message, string map or list of messages (bytes: "content"), an
// escape sequence in a name or a typed string, a timestamp not in the
// canonical RFC 3339 form, a number that is not a finite double or nesting
// deeper than maxSplitDepth anywhere (the predicate is also read as a
// Struct), a duplicate name: on any of these it answers ok=false.
// A google.protobuf.Struct field is built as an empty Struct or one with a
// single member, as the JSON object is empty or not: all Validate looks at
// is whether it is set and whether it is empty.
// FuzzStatementFast checks that whatever it reads, both full readings
// accept, with the same result.
func readStatementFast(payload []byte) (statement, *Provenance, bool) {
	d := jsontext.NewDecoder(bytes.NewBuffer(payload), jsontext.AllowDuplicateNames(true))
	var st ita1.Statement
	var prov slsa1.Provenance
	r := fastReader{d: d, payload: payload, predicate: prov.ProtoReflect()}
	if _, ok := r.message(st.ProtoReflect(), true); !ok {
		return statement{}, nil, false
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) || r.predicates != 1 {
		return statement{}, nil, false // trailing data
	}
	if st.GetPredicateType() != ProvenanceV1 || st.Validate() != nil || prov.Validate() != nil {
		return statement{}, nil, false
	}
	out := statement{Type: st.GetType(), PredicateType: st.GetPredicateType(), Subject: make([]subject, len(st.GetSubject()))}
	for i, s := range st.GetSubject() {
		out.Subject[i] = subject{Name: s.GetName(), Digest: s.GetDigest()}
	}
	var v provenanceV1
	bd, rd := prov.GetBuildDefinition(), prov.GetRunDetails()
	v.BuildDefinition.BuildType = bd.GetBuildType()
	v.BuildDefinition.ExternalParameters, v.BuildDefinition.InternalParameters = r.external, r.internal
	if deps := bd.GetResolvedDependencies(); len(deps) > 0 {
		v.BuildDefinition.ResolvedDependencies = make([]ResolvedDependency, len(deps))
		for i, dep := range deps {
			v.BuildDefinition.ResolvedDependencies[i] = ResolvedDependency{URI: dep.GetUri(), Name: dep.GetName(), Digest: dep.GetDigest()}
		}
	}
	v.RunDetails.Builder.ID = rd.GetBuilder().GetId()
	v.RunDetails.Metadata.StartedOn, v.RunDetails.Metadata.FinishedOn = r.startedOn, r.finishedOn
	p, err := v.provenance(ProvenanceV1)
	if err != nil {
		return statement{}, nil, false
	}
	return out, p, true
}

type fastReader struct {
	d       *jsontext.Decoder
	payload []byte
	// predicate receives the statement's predicate, read as provenance.
	predicate  protoreflect.Message
	predicates int
	// The parameters' JSON text and the build times, as the strict
	// decoder gives them.
	external, internal    []byte
	startedOn, finishedOn *time.Time
}

// The provenance fields readStatementFast keeps beside the protos.
var (
	externalParametersField = (&slsa1.BuildDefinition{}).ProtoReflect().Descriptor().Fields().ByName("external_parameters")
	internalParametersField = (&slsa1.BuildDefinition{}).ProtoReflect().Descriptor().Fields().ByName("internal_parameters")
	startedOnField          = (&slsa1.BuildMetadata{}).ProtoReflect().Descriptor().Fields().ByName("started_on")
	finishedOnField         = (&slsa1.BuildMetadata{}).ProtoReflect().Descriptor().Fields().ByName("finished_on")
)

var (
	structName    = (&structpb.Struct{}).ProtoReflect().Descriptor().FullName()
	timestampName = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()
	// emptyStruct and nonEmptyStruct stand for a Struct read from an empty
	// JSON object and from one with members. Shared by every reading: the
	// messages they are set in are only validated, never changed.
	emptyStruct    = protoreflect.ValueOfMessage((&structpb.Struct{}).ProtoReflect())
	nonEmptyStruct = protoreflect.ValueOfMessage((&structpb.Struct{Fields: map[string]*structpb.Value{"": structpb.NewNullValue()}}).ProtoReflect())
)

// plainString reads a string without escape sequences.
func (r *fastReader) plainString() (string, bool) {
	v, ok := r.plainBytes()
	return string(v), ok
}

// plainBytes is plainString's text, valid until the next read.
func (r *fastReader) plainBytes() ([]byte, bool) {
	if r.d.PeekKind() != '"' {
		return nil, false
	}
	v, err := r.d.ReadValue()
	if err != nil || bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	return v[1 : len(v)-1], true
}

// fastFields are a message's fields by JSON name and by proto name, and
// the folded forms of both.
type fastFields struct {
	byJSON, byText map[string]protoreflect.FieldDescriptor
	folded         map[string]bool
}

var fastFieldsCache sync.Map // protoreflect.MessageDescriptor -> *fastFields

func fieldsFor(md protoreflect.MessageDescriptor) *fastFields {
	if ff, ok := fastFieldsCache.Load(md); ok {
		return ff.(*fastFields)
	}
	fields := md.Fields()
	ff := &fastFields{byJSON: map[string]protoreflect.FieldDescriptor{}, byText: map[string]protoreflect.FieldDescriptor{}, folded: map[string]bool{}}
	for i := range fields.Len() {
		fd := fields.Get(i)
		ff.byJSON[fd.JSONName()] = fd
		ff.byText[fd.TextName()] = fd
		ff.folded[strictjson.Fold(fd.JSONName())] = true
		ff.folded[strictjson.Fold(fd.TextName())] = true
	}
	fastFieldsCache.Store(md, ff)
	return ff
}

// message reads a JSON object into m; top is the statement. members is
// the number of members the object has.
func (r *fastReader) message(m protoreflect.Message, top bool) (members int, ok bool) {
	d := r.d
	if d.PeekKind() != '{' {
		return 0, false
	}
	if _, err := d.ReadToken(); err != nil {
		return 0, false
	}
	fields := fieldsFor(m.Descriptor())
	var names strictjson.Names
	for d.PeekKind() != '}' {
		members++
		b, ok := r.plainBytes()
		if !ok || bytes.HasPrefix(b, []byte("[")) {
			return 0, false
		}
		name := string(b)
		if !names.Add(name) {
			return 0, false // given twice, or twice up to case
		}
		fd := fields.byJSON[name]
		if fd == nil {
			if fields.folded[strictjson.Fold(name)] {
				return 0, false // a proto name, or a case variant of a field's name
			}
			if !r.value() {
				return 0, false
			}
			continue
		}
		if !r.field(m, fd, top) {
			return 0, false
		}
	}
	_, err := d.ReadToken()
	return members, err == nil
}

func (r *fastReader) field(m protoreflect.Message, fd protoreflect.FieldDescriptor, top bool) bool {
	d := r.d
	switch {
	case fd.IsMap():
		if fd.MapKey().Kind() != protoreflect.StringKind || fd.MapValue().Kind() != protoreflect.StringKind || d.PeekKind() != '{' {
			return false
		}
		if _, err := d.ReadToken(); err != nil {
			return false
		}
		mm := m.Mutable(fd).Map()
		var names strictjson.Names
		for d.PeekKind() != '}' {
			k, ok := r.plainString()
			if !ok || !names.Add(k) {
				return false
			}
			v, ok := r.plainString()
			if !ok {
				return false
			}
			mm.Set(protoreflect.ValueOfString(k).MapKey(), protoreflect.ValueOfString(v))
		}
		_, err := d.ReadToken()
		return err == nil
	case fd.IsList():
		if fd.Kind() != protoreflect.MessageKind || fd.Message().FullName().Parent() == "google.protobuf" || d.PeekKind() != '[' {
			return false
		}
		if _, err := d.ReadToken(); err != nil {
			return false
		}
		l := m.Mutable(fd).List()
		for d.PeekKind() != ']' {
			e := l.NewElement()
			if _, ok := r.message(e.Message(), false); !ok {
				return false
			}
			l.Append(e)
		}
		_, err := d.ReadToken()
		return err == nil
	case fd.Kind() == protoreflect.StringKind:
		s, ok := r.plainString()
		if !ok {
			return false
		}
		m.Set(fd, protoreflect.ValueOfString(s))
		return true
	case fd.Kind() == protoreflect.MessageKind:
		switch fd.Message().FullName() {
		case structName:
			var members int
			var ok bool
			if top && fd.Name() == "predicate" {
				// The statement's predicate: read as provenance here, and
				// as a Struct by the rules every value read here keeps.
				r.predicates++
				members, ok = r.message(r.predicate, false)
			} else {
				start := d.InputOffset()
				members, ok = r.object()
				raw := bytes.TrimLeft(r.payload[start:d.InputOffset()], " \t\r\n:")
				switch fd {
				case externalParametersField:
					r.external = raw
				case internalParametersField:
					r.internal = raw
				}
			}
			if !ok {
				return false
			}
			s := emptyStruct
			if members > 0 {
				s = nonEmptyStruct
			}
			m.Set(fd, s)
			return true
		case timestampName:
			s, ok := r.plainString()
			if !ok {
				return false
			}
			t, secs, nanos, ok := protoTimestamp(s)
			if !ok {
				return false
			}
			switch fd {
			case startedOnField:
				r.startedOn = &t
			case finishedOnField:
				r.finishedOn = &t
			}
			m.Set(fd, protoreflect.ValueOfMessage((&timestamppb.Timestamp{Seconds: secs, Nanos: nanos}).ProtoReflect()))
			return true
		}
		if fd.Message().FullName().Parent() == "google.protobuf" {
			return false // other well-known types have JSON forms of their own
		}
		_, ok := r.message(m.Mutable(fd).Message(), false)
		return ok
	}
	return false
}

// object skips a JSON object protojson reads as a google.protobuf.Struct
// and returns its number of members.
func (r *fastReader) object() (members int, ok bool) {
	d := r.d
	if d.PeekKind() != '{' {
		return 0, false
	}
	if _, err := d.ReadToken(); err != nil || d.StackDepth() > maxSplitDepth {
		return 0, false
	}
	var names strictjson.Names
	for d.PeekKind() != '}' {
		members++
		tok, err := d.ReadToken() // the name
		if err != nil || !names.Add(tok.String()) {
			return 0, false
		}
		if !r.value() {
			return 0, false
		}
	}
	_, err := d.ReadToken()
	return members, err == nil
}

// value skips one JSON value that protojson certainly reads as a
// google.protobuf.Value (structReadable) and the strict decoder reads too:
// every number a finite double, nested less than maxSplitDepth, no name
// given twice or twice up to case in any object (invalid UTF-8 is an error
// of the decoder).
func (r *fastReader) value() bool {
	d := r.d
	switch d.PeekKind() {
	case '{':
		_, ok := r.object()
		return ok
	case '[':
		if _, err := d.ReadToken(); err != nil || d.StackDepth() > maxSplitDepth {
			return false
		}
		for d.PeekKind() != ']' {
			if !r.value() {
				return false
			}
		}
		_, err := d.ReadToken()
		return err == nil
	}
	tok, err := d.ReadToken()
	if err != nil {
		return false
	}
	switch tok.Kind() {
	case '0':
		_, err := strconv.ParseFloat(tok.String(), 64)
		return err == nil
	case '"', 't', 'f', 'n':
		return true
	}
	return false
}

// protoTimestamp reads a google.protobuf.Timestamp as protojson does
// (its unmarshalTimestamp, with the same parse and range checks), and the
// time as the strict decoder reads it; it reads only the canonical form
// (2006-01-02T15:04:05, a fraction of 1 to 9 digits, then Z or ±hh:mm),
// which both read alike.
func protoTimestamp(s string) (t time.Time, secs int64, nanos int32, ok bool) {
	if !canonicalRFC3339(s) {
		return time.Time{}, 0, 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, 0, 0, false
	}
	secs = t.Unix()
	// The range of google.protobuf.Timestamp: 0001-01-01 to 9999-12-31.
	if secs < -62135596800 || secs > 253402300799 {
		return time.Time{}, 0, 0, false
	}
	return t, secs, int32(t.Nanosecond()), true
}

// canonicalRFC3339 reports whether s has the form
// dddd-dd-ddTdd:dd:dd[.d{1,9}](Z|[+-]hh:mm), hh at most 23 and mm at
// most 59.
func canonicalRFC3339(s string) bool {
	const layout = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(layout)+1 {
		return false
	}
	for i := range len(layout) {
		if c := s[i]; layout[i] == 'd' && (c < '0' || c > '9') || layout[i] != 'd' && c != layout[i] {
			return false
		}
	}
	rest := s[len(layout):]
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return false
		}
		rest = rest[n:]
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && isDigits(rest[1:3]) && rest[3] == ':' && isDigits(rest[4:6]) &&
		rest[1:3] <= "23" && rest[4:6] <= "59"
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
