package trustmap

import (
	"bytes"
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
// the in-toto attestation library reads and validates it.
func inTotoAccepts(payload []byte, provenanceV1 bool) error {
	_, _, err := inTotoParse(payload, provenanceV1)
	return err
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
// It reads the messages of the two formats by their field names (taken
// from the library's descriptors) and reads only the plain form both
// readings certainly read the same way. It answers ok=false on: a proto
// field name used for a JSON name ("predicate_type"), a case variant of a
// name either format defines, an extension name, a null where a typed
// value is expected, bytes ("content"), an escape sequence in a name or a
// typed string, a timestamp not in the canonical RFC 3339 form, a number
// that is not a finite double or nesting deeper than maxSplitDepth
// anywhere (the predicate is also read as a Struct), a name given twice.
// A google.protobuf.Struct field is built as an empty Struct or one with a
// single member, as the JSON object is empty or not: all Validate looks at
// is whether it is set and whether it is empty.
// TestInTotoFastReading and FuzzInTotoFastReading check that whatever it
// reads, both full readings accept, with the same result.
func readStatementFast(payload []byte) (statement, *Provenance, bool) {
	d, done := strictjson.Decoder(payload, jsontext.AllowDuplicateNames(true))
	defer done()
	r := fastReader{d: d, payload: payload, names: fastNames()}
	var st ita1.Statement
	var prov slsa1.Provenance
	if !r.statement(&st, &prov) {
		return statement{}, nil, false
	}
	if !strictjson.AtEnd(r.d) || r.predicates != 1 {
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
	bd := prov.GetBuildDefinition()
	v.BuildDefinition.BuildType = bd.GetBuildType()
	v.BuildDefinition.ExternalParameters, v.BuildDefinition.InternalParameters = r.external, r.internal
	if deps := bd.GetResolvedDependencies(); len(deps) > 0 {
		v.BuildDefinition.ResolvedDependencies = make([]ResolvedDependency, len(deps))
		for i, dep := range deps {
			v.BuildDefinition.ResolvedDependencies[i] = ResolvedDependency{URI: dep.GetUri(), Name: dep.GetName(), Digest: dep.GetDigest()}
		}
	}
	v.RunDetails.Builder.ID = prov.GetRunDetails().GetBuilder().GetId()
	v.RunDetails.Metadata.StartedOn, v.RunDetails.Metadata.FinishedOn = r.startedOn, r.finishedOn
	p, err := v.provenance(ProvenanceV1)
	if err != nil {
		return statement{}, nil, false
	}
	return out, p, true
}

// fastMessages are the names of each message's fields: their JSON names
// and proto names, folded (a name of an object that is not a JSON name but
// folds to one of these is read in full).
type fastMessages struct {
	statement, descriptor, provenance, definition, details, builder, metadata map[string]bool
	// intern holds every JSON name of the formats.
	intern map[string]string
	// values holds the values most statements have (types, digest
	// algorithms): read without a copy.
	values map[string]string
}

// value is b as a string, not copied if it is one of m.values.
func (m *fastMessages) value(b []byte) string {
	if v, ok := m.values[string(b)]; ok {
		return v
	}
	return string(b)
}

var fastNames = sync.OnceValue(func() *fastMessages {
	intern := map[string]string{}
	folded := func(m protoreflect.ProtoMessage) map[string]bool {
		fields := m.ProtoReflect().Descriptor().Fields()
		names := map[string]bool{}
		for i := range fields.Len() {
			intern[fields.Get(i).JSONName()] = fields.Get(i).JSONName()
			names[strictjson.Fold(fields.Get(i).JSONName())] = true
			names[strictjson.Fold(fields.Get(i).TextName())] = true
		}
		return names
	}
	m := &fastMessages{
		statement:  folded(&ita1.Statement{}),
		descriptor: folded(&ita1.ResourceDescriptor{}),
		provenance: folded(&slsa1.Provenance{}),
		definition: folded(&slsa1.BuildDefinition{}),
		details:    folded(&slsa1.RunDetails{}),
		builder:    folded(&slsa1.Builder{}),
		metadata:   folded(&slsa1.BuildMetadata{}),
		intern:     intern,
		values:     map[string]string{},
	}
	for _, v := range []string{StatementV1, StatementV01, ProvenanceV1, ProvenanceV02, "sha256", "sha512", "sha1", "gitCommit"} {
		m.values[v] = v
	}
	return m
})

type fastReader struct {
	d       *jsontext.Decoder
	payload []byte
	names   *fastMessages
	// predicates counts the statement's predicates (one is read).
	predicates int
	// failed is set when a field the format defines could not be read.
	failed bool
	// The parameters' JSON text and the build times, as the strict
	// decoder gives them.
	external, internal    []byte
	startedOn, finishedOn *time.Time
}

// Struct values as readStatementFast builds them: shared, since the
// messages they are set in are only validated, never changed.
var (
	emptyStruct    = &structpb.Struct{}
	nonEmptyStruct = &structpb.Struct{Fields: map[string]*structpb.Value{"": structpb.NewNullValue()}}
)

// object reads a JSON object whose members the format defines: field is
// called with each name the format defines (its JSON name, exactly) to
// read the value; other names are skipped as values protojson ignores,
// unless they fold to a name of the format (a proto name, a case variant).
// members is the number of members.
func (r *fastReader) object(known map[string]bool, field func(name string) bool) (members int, ok bool) {
	d := r.d
	if d.PeekKind() != '{' {
		return 0, false
	}
	if _, err := d.ReadToken(); err != nil {
		return 0, false
	}
	var names strictjson.Names
	for d.PeekKind() != '}' {
		members++
		b, ok := strictjson.ReadPlainBytes(d)
		if !ok {
			return 0, false
		}
		name, ok := r.names.intern[string(b)] // the formats' names: not copied
		if !ok {
			name = string(b)
		}
		if !names.Add(name) {
			return 0, false // an escape sequence; a name given twice, or twice up to case
		}
		switch handled := field(name); {
		case handled:
		case r.failed:
			return 0, false
		case known != nil && known[strictjson.Fold(name)], len(name) > 0 && name[0] == '[':
			return 0, false // a proto name, a case variant, an extension: read in full
		case !r.value():
			return 0, false
		}
	}
	_, err := d.ReadToken()
	return members, err == nil
}

func (r *fastReader) statement(st *ita1.Statement, prov *slsa1.Provenance) bool {
	_, ok := r.object(r.names.statement, func(name string) bool {
		switch name {
		case "_type":
			return r.str(&st.Type)
		case "predicateType":
			return r.str(&st.PredicateType)
		case "subject":
			return r.descriptors(&st.Subject)
		case "predicate":
			// Read as provenance here, and as a Struct by the rules every
			// value read here keeps.
			r.predicates++
			n, ok := r.object(r.names.provenance, func(name string) bool {
				switch name {
				case "buildDefinition":
					prov.BuildDefinition = &slsa1.BuildDefinition{}
					return r.definition(prov.BuildDefinition)
				case "runDetails":
					prov.RunDetails = &slsa1.RunDetails{}
					return r.details(prov.RunDetails)
				}
				return false
			})
			st.Predicate = structFor(n)
			return r.ok(ok)
		}
		return false
	})
	return ok && !r.failed
}

func (r *fastReader) definition(bd *slsa1.BuildDefinition) bool {
	_, ok := r.object(r.names.definition, func(name string) bool {
		switch name {
		case "buildType":
			return r.str(&bd.BuildType)
		case "externalParameters":
			return r.structValue(&bd.ExternalParameters, &r.external)
		case "internalParameters":
			return r.structValue(&bd.InternalParameters, &r.internal)
		case "resolvedDependencies":
			return r.descriptors(&bd.ResolvedDependencies)
		}
		return false
	})
	return r.ok(ok)
}

func (r *fastReader) details(rd *slsa1.RunDetails) bool {
	_, ok := r.object(r.names.details, func(name string) bool {
		switch name {
		case "builder":
			rd.Builder = &slsa1.Builder{}
			_, ok := r.object(r.names.builder, func(name string) bool {
				switch name {
				case "id":
					return r.str(&rd.Builder.Id)
				case "builderDependencies":
					return r.descriptors(&rd.Builder.BuilderDependencies)
				case "version":
					return r.stringMap(&rd.Builder.Version)
				}
				return false
			})
			return r.ok(ok)
		case "metadata":
			rd.Metadata = &slsa1.BuildMetadata{}
			_, ok := r.object(r.names.metadata, func(name string) bool {
				switch name {
				case "invocationId":
					return r.str(&rd.Metadata.InvocationId)
				case "startedOn":
					return r.timestamp(&rd.Metadata.StartedOn, &r.startedOn)
				case "finishedOn":
					return r.timestamp(&rd.Metadata.FinishedOn, &r.finishedOn)
				}
				return false
			})
			return r.ok(ok)
		case "byproducts":
			return r.descriptors(&rd.Byproducts)
		}
		return false
	})
	return r.ok(ok)
}

// descriptors reads a list of resource descriptors.
func (r *fastReader) descriptors(list *[]*ita1.ResourceDescriptor) bool {
	d := r.d
	if d.PeekKind() != '[' {
		return r.ok(false)
	}
	if _, err := d.ReadToken(); err != nil {
		return r.ok(false)
	}
	l := []*ita1.ResourceDescriptor{}
	for d.PeekKind() != ']' {
		rd := &ita1.ResourceDescriptor{}
		_, ok := r.object(r.names.descriptor, func(name string) bool {
			switch name {
			case "name":
				return r.str(&rd.Name)
			case "uri":
				return r.str(&rd.Uri)
			case "downloadLocation":
				return r.str(&rd.DownloadLocation)
			case "mediaType":
				return r.str(&rd.MediaType)
			case "digest":
				return r.stringMap(&rd.Digest)
			case "annotations":
				return r.structValue(&rd.Annotations, nil)
			case "content":
				return r.ok(false) // bytes: read in full
			}
			return false
		})
		if !ok {
			return r.ok(false)
		}
		l = append(l, rd)
	}
	*list = l
	_, err := d.ReadToken()
	return r.ok(err == nil)
}

// ok records a field read or not: object stops at the first that is not
// (a field function answers false for a name it does not define, too).
func (r *fastReader) ok(ok bool) bool {
	if !ok {
		r.failed = true
	}
	return ok
}

// str reads a string without escape sequences.
func (r *fastReader) str(s *string) bool {
	b, ok := strictjson.ReadPlainBytes(r.d)
	if ok {
		*s = r.names.value(b)
	}
	return r.ok(ok)
}

// stringMap reads a map<string, string>: names and values strings without
// escape sequences, no name given twice or twice up to case.
func (r *fastReader) stringMap(m *map[string]string) bool {
	d := r.d
	if d.PeekKind() != '{' {
		return r.ok(false)
	}
	if _, err := d.ReadToken(); err != nil {
		return r.ok(false)
	}
	out := map[string]string{}
	var names strictjson.Names
	var v string
	for d.PeekKind() != '}' {
		b, ok := strictjson.ReadPlainBytes(d)
		if !ok {
			return r.ok(false)
		}
		k := r.names.value(b)
		if !names.Add(k) || !r.str(&v) {
			return r.ok(false)
		}
		out[k] = v
	}
	*m = out
	_, err := d.ReadToken()
	return r.ok(err == nil)
}

// structValue reads a JSON object protojson reads as a
// google.protobuf.Struct; raw, if not nil, receives its JSON text.
func (r *fastReader) structValue(s **structpb.Struct, raw *[]byte) bool {
	start := r.d.InputOffset()
	n, ok := r.object(nil, func(string) bool { return false })
	if raw != nil {
		*raw = bytes.TrimLeft(r.payload[start:r.d.InputOffset()], " \t\r\n:")
	}
	*s = structFor(n)
	return r.ok(ok)
}

func structFor(members int) *structpb.Struct {
	if members > 0 {
		return nonEmptyStruct
	}
	return emptyStruct
}

// timestamp reads a google.protobuf.Timestamp, and the time as the strict
// decoder reads it.
func (r *fastReader) timestamp(ts **timestamppb.Timestamp, at **time.Time) bool {
	b, ok := strictjson.ReadPlainBytes(r.d)
	if !ok {
		return r.ok(false)
	}
	t, secs, nanos, ok := protoTimestamp(string(b))
	if !ok {
		return r.ok(false)
	}
	// Both in one allocation.
	both := &struct {
		ts timestamppb.Timestamp
		t  time.Time
	}{timestamppb.Timestamp{Seconds: secs, Nanos: nanos}, t}
	*ts, *at = &both.ts, &both.t
	return true
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
		if d.StackDepth() >= maxSplitDepth {
			return false
		}
		_, ok := r.object(nil, func(string) bool { return false })
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
