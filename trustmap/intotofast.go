package trustmap

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	slsa1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
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

// inTotoAcceptsFast reports whether the in-toto attestation library
// certainly accepts payload as a statement whose predicate is SLSA
// Provenance v1 (inTotoParse with provenanceV1): protojson reading the
// statement (the predicate as a google.protobuf.Struct) and the predicate
// (as provenance), then both Validate methods.
//
// It reads the payload once, guided by the messages' descriptors, and
// builds the protos the library's own Validate methods are then run on.
// It reads only the plain form protojson certainly reads the same way and
// answers false (read in full) on anything else: a proto field name used
// for a JSON name ("predicate_type"), an extension name, a null, a field
// of a kind other than string, message, string map or list of messages
// (bytes: "content"), an escape sequence in a name or a typed string, a
// number that is not a finite double or nesting deeper than maxSplitDepth
// anywhere (the predicate is also read as a Struct), a duplicate name.
// A google.protobuf.Struct field is built as an empty Struct or one with a
// single member, as the JSON object is empty or not: all Validate looks at
// is whether it is set and whether it is empty.
func inTotoAcceptsFast(payload []byte) bool {
	d := jsontext.NewDecoder(bytes.NewBuffer(payload))
	var st ita1.Statement
	var prov slsa1.Provenance
	r := fastReader{d: d, predicate: prov.ProtoReflect()}
	if _, ok := r.message(st.ProtoReflect(), true); !ok {
		return false
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) || r.predicates != 1 {
		return false // trailing data
	}
	return st.Validate() == nil && prov.Validate() == nil
}

type fastReader struct {
	d *jsontext.Decoder
	// predicate receives the statement's predicate, read as provenance.
	predicate  protoreflect.Message
	predicates int
}

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

// fastFields are a message's fields by JSON name and by proto name.
type fastFields struct {
	byJSON, byText map[string]protoreflect.FieldDescriptor
}

var fastFieldsCache sync.Map // protoreflect.MessageDescriptor -> *fastFields

func fieldsFor(md protoreflect.MessageDescriptor) *fastFields {
	if ff, ok := fastFieldsCache.Load(md); ok {
		return ff.(*fastFields)
	}
	fields := md.Fields()
	ff := &fastFields{byJSON: map[string]protoreflect.FieldDescriptor{}, byText: map[string]protoreflect.FieldDescriptor{}}
	for i := range fields.Len() {
		fd := fields.Get(i)
		ff.byJSON[fd.JSONName()] = fd
		ff.byText[fd.TextName()] = fd
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
	var seen uint64
	for d.PeekKind() != '}' {
		members++
		name, ok := r.plainBytes()
		if !ok || bytes.HasPrefix(name, []byte("[")) {
			return 0, false
		}
		fd := fields.byJSON[string(name)]
		if fd == nil {
			if fields.byText[string(name)] != nil {
				return 0, false // a proto name: read in full
			}
			if !r.skip() {
				return 0, false
			}
			continue
		}
		if fd.Index() >= 64 || seen&(1<<fd.Index()) != 0 {
			return 0, false
		}
		seen |= 1 << fd.Index()
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
		for d.PeekKind() != '}' {
			k, ok := r.plainString()
			if !ok {
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
				members, ok = r.object()
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
			secs, nanos, ok := protoTimestamp(s)
			if !ok {
				return false
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
	if _, err := d.ReadToken(); err != nil {
		return 0, false
	}
	for d.PeekKind() != '}' {
		members++
		if _, err := d.ReadToken(); err != nil { // the name
			return 0, false
		}
		if !r.skip() {
			return 0, false
		}
	}
	_, err := d.ReadToken()
	return members, err == nil
}

// skip skips one JSON value that protojson certainly reads as a
// google.protobuf.Value (structReadable): every number a finite double,
// nested less than maxSplitDepth (duplicate names and invalid UTF-8 are
// errors of the decoder).
func (r *fastReader) skip() bool {
	d := r.d
	depth := d.StackDepth()
	for {
		tok, err := d.ReadToken()
		if err != nil || d.StackDepth() > maxSplitDepth {
			return false
		}
		if tok.Kind() == '0' {
			if _, err := strconv.ParseFloat(tok.String(), 64); err != nil {
				return false
			}
		}
		if d.StackDepth() == depth {
			return true
		}
	}
}

// protoTimestamp reads a google.protobuf.Timestamp as protojson does
// (its unmarshalTimestamp, with the same parse and range checks).
func protoTimestamp(s string) (secs int64, nanos int32, ok bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, 0, false
	}
	secs = t.Unix()
	// The range of google.protobuf.Timestamp: 0001-01-01 to 9999-12-31.
	if secs < -62135596800 || secs > 253402300799 {
		return 0, 0, false
	}
	i := strings.LastIndexByte(s, '.')
	j := strings.LastIndexAny(s, "Z-+")
	if i >= 0 && j >= i && j-i > len(".999999999") {
		return 0, 0, false
	}
	return secs, int32(t.Nanosecond()), true
}
