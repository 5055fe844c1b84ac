// Package strictjson is the one decoder Hallmark uses for every JSON document
// that comes from outside: DSSE envelopes, in-toto statements and predicates,
// roots, policies, certifiers, revocations, TOFU stores, answers and reviews.
//
// Go's encoding/json matches member names case-insensitively and keeps the
// last of two duplicate names, so two tools can read one signed document two
// ways: a co-signer reading {"packages": …, "PACKAGES": …} with jq approves
// one policy and a verifier enforces another. This package gives every
// document one reading:
//
//   - names match exactly (case-sensitive), through
//     github.com/go-json-experiment/json, the prototype of encoding/json/v2;
//   - a name given twice in one object is refused (at any depth);
//   - two names in one object that differ only in case are refused (at any
//     depth, also inside maps and free-form values such as externalParameters);
//   - a name that differs only in case from a member the target type defines
//     ("PredicateType" for "predicateType") is refused, even in open formats
//     that otherwise ignore unknown members;
//   - invalid UTF-8 is refused.
//
// [Unmarshal] is for Hallmark's own formats and also refuses unknown members;
// [UnmarshalOpen] is for formats whose specification requires unknown members
// to be ignored (in-toto statements and predicates, DSSE envelopes, Sigstore
// bundles).
package strictjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

var (
	// ErrDuplicateName reports a member name given twice in one object.
	ErrDuplicateName = errors.New("duplicate JSON member name")
	// ErrCaseVariant reports two member names that differ only in case, or
	// a name that differs only in case from the member the format defines.
	ErrCaseVariant = errors.New("JSON member name differs only in case")
	// ErrUnknownMember reports a member the format does not define.
	ErrUnknownMember = errors.New("unknown JSON member")
	// ErrSyntax reports a document that is not one well-formed JSON value.
	ErrSyntax = errors.New("malformed JSON")
)

// Unmarshal decodes b into v, refusing unknown members, duplicate names and
// case variants.
func Unmarshal(b []byte, v any) error { return decode(b, v, true) }

// UnmarshalOpen decodes b into v like [Unmarshal] but ignores members the
// target type does not define. Duplicate names and case variants are still
// refused, also inside the members it ignores.
func UnmarshalOpen(b []byte, v any) error { return decode(b, v, false) }

// Check reports whether b is one JSON value without duplicate names or names
// that differ only in case, without decoding it into a type.
func Check(b []byte) error { return checkNames(b, nil) }

func decode(b []byte, v any, rejectUnknown bool) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("strictjson: decode target must be a non-nil pointer, got %T", v)
	}
	if err := checkNames(b, t.Elem()); err != nil {
		return err
	}
	err := json.Unmarshal(b, v,
		json.RejectUnknownMembers(rejectUnknown),
		json.MatchCaseInsensitiveNames(false),
		jsontext.AllowDuplicateNames(false),
		jsontext.AllowInvalidUTF8(false),
	)
	if err == nil {
		return nil
	}
	var se *json.SemanticError
	if errors.As(err, &se) && errors.Is(se.Err, json.ErrUnknownName) {
		return fmt.Errorf("%w: %q at %s", ErrUnknownMember, lastToken(string(se.JSONPointer)), pointerOrRoot(string(se.JSONPointer)))
	}
	return err
}

// checkNames walks the document once, with the Go type that will receive it
// where one is known, and refuses duplicate and case-variant names.
func checkNames(b []byte, t reflect.Type) error {
	// A bytes.Buffer is parsed in place (the decoder does not copy it
	// into buffers of its own, nor write to it).
	d, done := Decoder(b, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false))
	defer done()
	if err := walk(d, t); err != nil {
		return err
	}
	if _, err := d.ReadToken(); err == nil {
		return fmt.Errorf("%w: more than one value", ErrSyntax)
	} else if !errors.Is(err, io.EOF) {
		return syntax(err)
	}
	return nil
}

func walk(d *jsontext.Decoder, t reflect.Type) error {
	switch d.PeekKind() {
	case '{':
		t = target(t)
		if _, err := d.ReadToken(); err != nil {
			return syntax(err)
		}
		var fields *fieldSet
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = fieldsOf(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		var seen Names // on the stack while the object is small
		for d.PeekKind() != '}' {
			tok, err := d.ReadToken()
			if err != nil {
				return syntax(err)
			}
			name := tok.String()
			// Where the name is, for messages only.
			at := func() string { return pointerOrRoot(string(d.StackPointer())) }
			var prev string
			var ok bool
			if prev, ok = seen.add(name); ok {
				if prev == name {
					return fmt.Errorf("%w: %q given twice at %s", ErrDuplicateName, name, at())
				}
				return fmt.Errorf("%w: %q and %q at %s", ErrCaseVariant, prev, name, at())
			}
			next := elem
			if fields != nil {
				if ft, ok := fields.exact[name]; ok {
					next = ft
				} else if want, ok := fields.folded[fold(name)]; ok {
					return fmt.Errorf("%w: expected %q, got %q at %s", ErrCaseVariant, want, name, at())
				} else {
					next = nil
				}
			}
			if err := walk(d, next); err != nil {
				return err
			}
		}
		if _, err := d.ReadToken(); err != nil {
			return syntax(err)
		}
		return nil
	case '[':
		t = target(t)
		if _, err := d.ReadToken(); err != nil {
			return syntax(err)
		}
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for d.PeekKind() != ']' {
			if err := walk(d, elem); err != nil {
				return err
			}
		}
		if _, err := d.ReadToken(); err != nil {
			return syntax(err)
		}
		return nil
	default:
		if err := d.SkipValue(); err != nil {
			return syntax(err)
		}
		return nil
	}
}

func syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: unexpected end of input", ErrSyntax)
	}
	return fmt.Errorf("%w: %v", ErrSyntax, err)
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

func lastToken(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(p)
}

// target strips pointers; it returns nil for types whose members are not
// known statically (interfaces, raw values, types with their own decoder).
func target(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if tt, ok := targetCache.Load(t); ok {
		r, _ := tt.(reflect.Type) // nil for none
		return r
	}
	in := t
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface {
		t = nil
	} else if reflect.PointerTo(t).Implements(unmarshalerV1) || reflect.PointerTo(t).Implements(unmarshalerV2) {
		t = nil
	}
	targetCache.Store(in, t)
	return t
}

var targetCache sync.Map // reflect.Type -> reflect.Type (a nil interface value for none)

var (
	unmarshalerV1 = reflect.TypeFor[interface{ UnmarshalJSON([]byte) error }]()
	unmarshalerV2 = reflect.TypeFor[json.UnmarshalerFrom]()
)

type fieldSet struct {
	exact  map[string]reflect.Type
	folded map[string]string
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{exact: map[string]reflect.Type{}, folded: map[string]string{}}
	collect(t, fs, 0)
	fieldCache.Store(t, fs)
	return fs
}

func collect(t reflect.Type, fs *fieldSet, depth int) {
	if depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, hasTag := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				collect(et, fs, depth+1)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if strings.Contains(","+opts+",", ",inline,") || strings.Contains(","+opts+",", ",unknown,") {
			continue
		}
		if !hasTag || name == "" {
			name = sf.Name
		}
		fs.exact[name] = sf.Type
		fs.folded[fold(name)] = name
	}
}

// fold is the case folding names are compared under: Unicode simple folding,
// which is what encoding/json's case-insensitive matching uses.
func fold(s string) string {
	if isASCII(s) {
		return strings.ToUpper(s) // the smallest rune of each ASCII letter's fold orbit
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func foldRune(r rune) rune {
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}

// Names is the set of member names of one JSON object read so far, for
// readers that walk a document themselves (a hot path's one reading) and
// must refuse what this package refuses: a name given twice, or two names
// that differ only in case. The zero value is an empty set; a small set
// lives where its variable does (no allocation).
type Names struct {
	small  [8]string
	n      int
	folded map[string]string
}

// Add records name and reports whether it is new: false when an earlier
// name of the object equals it or differs from it only in case.
func (s *Names) Add(name string) bool {
	_, dup := s.add(name)
	return !dup
}

// add records name and returns the earlier name equal to it under fold,
// if any. A small set is a list compared with strings.EqualFold (equality
// under fold, without allocating), a map by folded name beyond.
func (s *Names) add(name string) (prev string, dup bool) {
	if s.folded == nil {
		for _, p := range s.small[:s.n] {
			if strings.EqualFold(p, name) {
				return p, true
			}
		}
		if s.n < len(s.small) {
			s.small[s.n] = name
			s.n++
			return "", false
		}
		s.folded = make(map[string]string, 2*len(s.small))
		for _, p := range s.small {
			s.folded[fold(p)] = p
		}
	}
	f := fold(name)
	if p, ok := s.folded[f]; ok {
		return p, true
	}
	s.folded[f] = name
	return "", false
}

// Fold is the case folding under which names are compared: two names are
// case variants when their Fold is the same.
func Fold(s string) string { return fold(s) }

// pooledDecoder is a decoder with the buffer it reads, reused by readers
// of hot paths (a decoder's state is a few hundred bytes and maps).
type pooledDecoder struct {
	d    jsontext.Decoder
	buf  bytes.Buffer
	out  bool   // handed out by Decoder and not yet given back
	done func() // made once with the decoder: giving it back allocates nothing
	// large is set for an input larger than pinnedInput: the decoder
	// drops its reference to it when given back. A smaller one stays
	// referenced until the decoder is handed out again (or the pool is
	// emptied by a collection), which saves a reset per use.
	large bool
}

// pinnedInput is the largest input a pooled decoder may keep a reference
// to while in the pool.
const pinnedInput = 64 << 10

var decoderPool sync.Pool

func init() {
	decoderPool.New = func() any {
		p := new(pooledDecoder)
		p.done = func() {
			if !p.out {
				return // given back already: never twice into the pool
			}
			p.out = false
			p.buf = bytes.Buffer{}
			if p.large {
				p.d.Reset(&p.buf) // holds no reference to b
			}
			decoderPool.Put(p)
		}
		return p
	}
}

// Decoder returns a decoder reading b in place, with opts, and the
// function that gives it back once the caller is done with it and with
// every value it returned. Calling that function again at once does
// nothing; keeping it and calling it after the decoder was handed out
// again is a bug it cannot see (callers defer it, once).
func Decoder(b []byte, opts ...jsontext.Options) (*jsontext.Decoder, func()) {
	p := decoderPool.Get().(*pooledDecoder)
	p.out, p.large = true, cap(b) > pinnedInput // what stays referenced is b's whole array
	p.buf = *bytes.NewBuffer(b)
	p.d.Reset(&p.buf, opts...)
	return &p.d, p.done
}

// The plain form of a document is what hot-path readers read in one pass
// with a pooled Decoder, before falling back to Unmarshal or
// UnmarshalOpen for anything else: names the format defines, each at most
// once, strings without escape sequences. What they read, Unmarshal reads
// the same way (their callers' differential tests check it).

// ReadPlainObject reads an object whose every member field reads: field
// is called with each name and reads its value; it answers false for a
// name it does not read, and so does ReadPlainObject. The name's bytes
// are valid until field reads from d (compare them, as switch
// string(name) does without a copy; never keep them).
func ReadPlainObject(d *jsontext.Decoder, field func(name []byte) bool) bool {
	if d.PeekKind() != '{' {
		return false
	}
	if _, err := d.ReadToken(); err != nil {
		return false
	}
	for d.PeekKind() != '}' {
		name, ok := ReadPlainBytes(d)
		if !ok || !field(name) {
			return false
		}
	}
	_, err := d.ReadToken()
	return err == nil
}

// ReadPlainString reads a string without escape sequences into s.
func ReadPlainString(d *jsontext.Decoder, s *string) bool {
	v, ok := ReadPlainBytes(d)
	if ok {
		*s = string(v)
	}
	return ok
}

// ReadPlainBytes reads a string without escape sequences; its bytes are
// valid until the next read from d.
func ReadPlainBytes(d *jsontext.Decoder) ([]byte, bool) {
	if d.PeekKind() != '"' {
		return nil, false
	}
	v, err := d.ReadValue()
	if err != nil || bytes.IndexByte(v, '\\') >= 0 {
		return nil, false
	}
	return v[1 : len(v)-1], true
}

// Once reports whether *seen was false, and sets it: a member read at
// most once.
func Once(seen *bool) bool {
	if *seen {
		return false
	}
	*seen = true
	return true
}

// AtEnd reports whether d has nothing left but white space.
func AtEnd(d *jsontext.Decoder) bool {
	_, err := d.ReadToken()
	return err == io.EOF
}
