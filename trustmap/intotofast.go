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
//     google.protobuf.Struct) and the predicate (as provenance), then the
//     Validate methods of every message read. Their rules are applied to
//     what is read here, without building the messages: the statement's
//     type, a subject at least, each with a digest, a predicate type;
//     buildType, non-empty externalParameters, a builder with an id; every
//     resource descriptor with a name, a URI or a digest, and each digest
//     of a fixed-size algorithm (ita1.HashAlgorithm.HexLength) hex of that
//     size. Anything else is read in full, where the library decides.
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
// TestInTotoFastReading and FuzzInTotoFastReading check that whatever it
// reads, both full readings accept (the library's Validate methods
// included), with the same result.
func readStatementFast(payload []byte) (statement, *Provenance, bool) {
	d, done := strictjson.Decoder(payload, jsontext.AllowDuplicateNames(true))
	defer done()
	r := fastReader{d: d, payload: payload, names: fastNames()}
	var st statement
	var v provenanceV1
	if !r.statement(&st, &v) {
		return statement{}, nil, false
	}
	if !strictjson.AtEnd(r.d) || r.predicates != 1 {
		return statement{}, nil, false // trailing data
	}
	// The rest of the library's Validate methods (Statement, Provenance
	// and the messages in them); descriptors are checked as they are read.
	if st.Type != StatementV1 && st.Type != StatementV01 || len(st.Subject) == 0 || st.PredicateType != ProvenanceV1 ||
		v.BuildDefinition.BuildType == "" || r.externalMembers == 0 || v.RunDetails.Builder.ID == "" {
		return statement{}, nil, false
	}
	v.BuildDefinition.ExternalParameters, v.BuildDefinition.InternalParameters = r.external, r.internal
	v.RunDetails.Metadata.StartedOn, v.RunDetails.Metadata.FinishedOn = r.startedOn, r.finishedOn
	p, err := v.provenance(ProvenanceV1)
	if err != nil {
		return statement{}, nil, false
	}
	p.sourceMembers, p.sourcesRead = r.sources, !r.sourcesEscaped
	return st, p, true
}

// fastMessages are the names of each message's fields: their JSON names
// and proto names, folded (a name of an object that is not a JSON name but
// folds to one of these is read in full).
type fastMessages struct {
	statement, descriptor, provenance, definition, details, builder, metadata map[string]bool
	// jsonNames holds every JSON name of the formats (internName has
	// them all: TestInternNames).
	jsonNames []string
}

// internValue is b as a string, not copied if it is a value most
// statements have (types, digest algorithms).
func internValue(b []byte) string {
	switch string(b) {
	case StatementV1:
		return StatementV1
	case StatementV01:
		return StatementV01
	case ProvenanceV1:
		return ProvenanceV1
	case ProvenanceV02:
		return ProvenanceV02
	case "sha256":
		return "sha256"
	case "sha512":
		return "sha512"
	case "sha1":
		return "sha1"
	case "gitCommit":
		return "gitCommit"
	}
	return string(b)
}

var fastNames = sync.OnceValue(func() *fastMessages {
	var jsonNames []string
	folded := func(m protoreflect.ProtoMessage) map[string]bool {
		fields := m.ProtoReflect().Descriptor().Fields()
		names := map[string]bool{}
		for i := range fields.Len() {
			jsonNames = append(jsonNames, fields.Get(i).JSONName())
			names[strictjson.Fold(fields.Get(i).JSONName())] = true
			names[strictjson.Fold(fields.Get(i).TextName())] = true
		}
		return names
	}
	return &fastMessages{
		statement:  folded(&ita1.Statement{}),
		descriptor: folded(&ita1.ResourceDescriptor{}),
		provenance: folded(&slsa1.Provenance{}),
		definition: folded(&slsa1.BuildDefinition{}),
		details:    folded(&slsa1.RunDetails{}),
		builder:    folded(&slsa1.Builder{}),
		metadata:   folded(&slsa1.BuildMetadata{}),
		jsonNames:  jsonNames,
	}
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
	// decoder gives them; the number of externalParameters' members.
	external, internal    []byte
	externalMembers       int
	startedOn, finishedOn *time.Time
	// externalParameters' source members (sourceMember), unless one is a
	// string with escape sequences.
	sources        sourceParams
	sourcesEscaped bool
}

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
		name := internName(b) // the formats' names: not copied
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

func (r *fastReader) statement(st *statement, v *provenanceV1) bool {
	_, ok := r.object(r.names.statement, func(name string) bool {
		switch name {
		case "_type":
			return r.str(&st.Type)
		case "predicateType":
			return r.str(&st.PredicateType)
		case "subject":
			st.Subject = []subject{}
			return r.descriptors(func(d descriptor) bool {
				// v1 statements require a digest on every subject.
				st.Subject = append(st.Subject, subject{Name: d.name, Digest: d.digest})
				return len(d.digest) > 0
			})
		case "predicate":
			// Read as provenance here, and as a Struct by the rules every
			// value read here keeps.
			r.predicates++
			_, ok := r.object(r.names.provenance, func(name string) bool {
				switch name {
				case "buildDefinition":
					return r.definition(v)
				case "runDetails":
					return r.details(v)
				}
				return false
			})
			return r.ok(ok)
		}
		return false
	})
	return ok && !r.failed
}

func (r *fastReader) definition(v *provenanceV1) bool {
	bd := &v.BuildDefinition
	_, ok := r.object(r.names.definition, func(name string) bool {
		switch name {
		case "buildType":
			return r.str(&bd.BuildType)
		case "externalParameters":
			var ok bool
			r.externalMembers, ok = r.structValueWith(&r.external, r.sourceMember)
			return ok
		case "internalParameters":
			_, ok := r.structValue(&r.internal)
			return ok
		case "resolvedDependencies":
			bd.ResolvedDependencies = []ResolvedDependency{}
			return r.descriptors(func(d descriptor) bool {
				bd.ResolvedDependencies = append(bd.ResolvedDependencies, ResolvedDependency{URI: d.uri, Name: d.name, Digest: d.digest})
				return true
			})
		}
		return false
	})
	return r.ok(ok)
}

func (r *fastReader) details(v *provenanceV1) bool {
	_, ok := r.object(r.names.details, func(name string) bool {
		switch name {
		case "builder":
			_, ok := r.object(r.names.builder, func(name string) bool {
				switch name {
				case "id":
					return r.str(&v.RunDetails.Builder.ID)
				case "builderDependencies":
					return r.descriptors(nil)
				case "version":
					return r.stringMap(nil)
				}
				return false
			})
			return r.ok(ok)
		case "metadata":
			// Its timestamps are valid as read (protoTimestamp): all
			// its Validate checks.
			_, ok := r.object(r.names.metadata, func(name string) bool {
				switch name {
				case "invocationId":
					return r.skipStr()
				case "startedOn":
					return r.timestamp(&r.startedOn)
				case "finishedOn":
					return r.timestamp(&r.finishedOn)
				}
				return false
			})
			return r.ok(ok)
		case "byproducts":
			return r.descriptors(nil)
		}
		return false
	})
	return r.ok(ok)
}

// descriptor is a resource descriptor's fields that are kept.
type descriptor struct {
	name, uri string
	digest    map[string]string
}

// descriptors reads a list of resource descriptors, each valid as the
// library's ResourceDescriptor.Validate requires (a name, a URI or a
// digest; every digest of a fixed-size algorithm hex of its size) and
// accepted by add, if not nil.
func (r *fastReader) descriptors(add func(descriptor) bool) bool {
	d := r.d
	if d.PeekKind() != '[' {
		return r.ok(false)
	}
	if _, err := d.ReadToken(); err != nil {
		return r.ok(false)
	}
	for d.PeekKind() != ']' {
		var rd descriptor
		_, ok := r.object(r.names.descriptor, func(name string) bool {
			switch name {
			case "name":
				return r.str(&rd.name)
			case "uri":
				return r.str(&rd.uri)
			case "downloadLocation", "mediaType":
				return r.skipStr()
			case "digest":
				return r.stringMap(&rd.digest)
			case "annotations":
				_, ok := r.structValue(nil)
				return ok
			case "content":
				return r.ok(false) // bytes: read in full
			}
			return false
		})
		if !ok || rd.name == "" && rd.uri == "" && len(rd.digest) == 0 || add != nil && !add(rd) {
			return r.ok(false)
		}
	}
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
		*s = internValue(b)
	}
	return r.ok(ok)
}

// internName is b as a string, not copied if it is a JSON name of the
// formats' messages or a source member of externalParameters
// (TestInternNames checks that every JSON name is here).
func internName(b []byte) string {
	switch string(b) {
	case "_type":
		return "_type"
	case "subject":
		return "subject"
	case "predicateType":
		return "predicateType"
	case "predicate":
		return "predicate"
	case "name":
		return "name"
	case "uri":
		return "uri"
	case "digest":
		return "digest"
	case "content":
		return "content"
	case "downloadLocation":
		return "downloadLocation"
	case "mediaType":
		return "mediaType"
	case "annotations":
		return "annotations"
	case "buildDefinition":
		return "buildDefinition"
	case "runDetails":
		return "runDetails"
	case "buildType":
		return "buildType"
	case "externalParameters":
		return "externalParameters"
	case "internalParameters":
		return "internalParameters"
	case "resolvedDependencies":
		return "resolvedDependencies"
	case "builder":
		return "builder"
	case "metadata":
		return "metadata"
	case "byproducts":
		return "byproducts"
	case "id":
		return "id"
	case "version":
		return "version"
	case "builderDependencies":
		return "builderDependencies"
	case "invocationId":
		return "invocationId"
	case "startedOn":
		return "startedOn"
	case "finishedOn":
		return "finishedOn"
	case "repository":
		return "repository"
	case "ref":
		return "ref"
	case "workflow":
		return "workflow"
	case "configSource":
		return "configSource"
	}
	return string(b)
}

// skipStr reads a string without escape sequences that is not kept.
func (r *fastReader) skipStr() bool {
	_, ok := strictjson.ReadPlainBytes(r.d)
	return r.ok(ok)
}

// stringMap reads a map<string, string>: names and values strings without
// escape sequences, no name given twice or twice up to case. Into m, if
// not nil, as a digest: every value of a fixed-size algorithm (as the
// library's ResourceDescriptor.Validate names them) hex of its size.
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
		k := internValue(b)
		if !names.Add(k) || !r.str(&v) || m != nil && !validDigest(k, v) {
			return r.ok(false)
		}
		out[k] = v
	}
	if m != nil {
		*m = out
	}
	_, err := d.ReadToken()
	return r.ok(err == nil)
}

// structValue reads a JSON object protojson reads as a
// google.protobuf.Struct and returns its number of members; raw, if not
// nil, receives its JSON text.
func (r *fastReader) structValue(raw *[]byte) (int, bool) {
	return r.structValueWith(raw, func(string) bool { return false })
}

// structValueWith is structValue with field reading the members it
// answers true for (the others are read as any value).
func (r *fastReader) structValueWith(raw *[]byte, field func(name string) bool) (int, bool) {
	start := r.d.InputOffset()
	n, ok := r.object(nil, field)
	if raw != nil {
		*raw = bytes.TrimLeft(r.payload[start:r.d.InputOffset()], " \t\r\n:")
	}
	return n, r.ok(ok)
}

// sourceMember reads the members of externalParameters that name a
// source (sourcePointers) while the object is read: a string without
// escape sequences is kept, an object is read member by member; any other
// value (or a string with escapes, which sets sourcesEscaped: sources
// then looks them up in the decoded parameters) is read as any value.
func (r *fastReader) sourceMember(name string) bool {
	switch name {
	case "repository":
		return r.sourceString(srcRepository)
	case "ref":
		return r.sourceString(srcRef)
	case "workflow":
		return r.sourceObject(func(name string) bool {
			switch name {
			case "repository":
				return r.sourceString(srcWorkflowRepository)
			case "ref":
				return r.sourceString(srcWorkflowRef)
			}
			return false
		})
	case "configSource":
		return r.sourceObject(func(name string) bool {
			return name == "uri" && r.sourceString(srcConfigSourceURI)
		})
	}
	return false
}

func (r *fastReader) sourceString(i int) bool {
	if r.d.PeekKind() != '"' {
		return false
	}
	v, err := r.d.ReadValue()
	if err != nil {
		return r.ok(false)
	}
	if bytes.IndexByte(v, '\\') >= 0 {
		r.sourcesEscaped = true
		return true
	}
	r.sources.values[i], r.sources.set[i] = string(v[1:len(v)-1]), true
	return true
}

func (r *fastReader) sourceObject(field func(name string) bool) bool {
	if r.d.PeekKind() != '{' || r.d.StackDepth() >= maxSplitDepth {
		return false
	}
	_, ok := r.object(nil, field)
	return r.ok(ok)
}

// validDigest is the library's rule for a digest: hex of the algorithm's
// size if the algorithm has a fixed size, anything otherwise.
func validDigest(alg, digest string) bool {
	n := ita1.HashAlgorithm(alg).HexLength()
	if n == 0 {
		return true
	}
	if len(digest) != 2*n {
		return false
	}
	for i := range len(digest) {
		if c := digest[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// timestamp reads a google.protobuf.Timestamp as the time the strict
// decoder reads.
func (r *fastReader) timestamp(at **time.Time) bool {
	b, ok := strictjson.ReadPlainBytes(r.d)
	if !ok {
		return r.ok(false)
	}
	t, _, _, ok := protoTimestamp(string(b))
	if !ok {
		return r.ok(false)
	}
	*at = &t
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
