package trustmap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	vsa1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// newVSAProto is NewVSA as written with the in-toto library's protobuf
// types and protojson, normalised to one compact encoding: the reference
// NewVSA's direct encoding must match byte for byte.
func newVSAProto(res *Result, o VSAOptions) ([]byte, error) {
	version := o.VerifierVersion
	if version == "" {
		version = "devel"
	}
	p := &vsa1.VerificationSummary{
		Verifier:           &vsa1.VerificationSummary_Verifier{Id: o.VerifierID},
		TimeVerified:       timestamppb.New(o.At.UTC().Truncate(time.Second)),
		ResourceUri:        o.ResourceURI,
		Policy:             &vsa1.VerificationSummary_Policy{Uri: o.PolicyURI},
		VerificationResult: "FAILED",
		VerifiedLevels:     []string{"FAILED"},
		SlsaVersion:        "1.0",
	}
	if o.PolicyData != nil {
		sum := sha256.Sum256(o.PolicyData)
		p.Policy.Digest = map[string]string{"sha256": hex.EncodeToString(sum[:])}
	}
	for _, in := range o.InputAttestations {
		if err := (&ita1.ResourceDescriptor{Uri: in.URI, Digest: in.Digest}).Validate(); err != nil {
			return nil, err
		}
		p.InputAttestations = append(p.InputAttestations, &vsa1.VerificationSummary_InputAttestation{Uri: in.URI, Digest: in.Digest})
	}
	if res.Passed && !res.NoExpectations() {
		p.VerificationResult = "PASSED"
		p.VerifiedLevels = []string{buildLevelName(res.Level)}
		for _, opt := range res.Insecure {
			p.VerifiedLevels = append(p.VerifiedLevels, insecureProperty(opt))
		}
		if len(res.DependencyLevels) > 0 {
			p.DependencyLevels = res.DependencyLevels
		}
	}
	pj, err := protojson.Marshal(p)
	if err != nil {
		return nil, err
	}
	var pm map[string]any
	if err := json.Unmarshal(pj, &pm); err != nil {
		return nil, err
	}
	if len(p.DependencyLevels) > 0 {
		dl := map[string]any{}
		for k, n := range p.DependencyLevels {
			dl[k] = float64(n)
		}
		pm["dependencyLevels"] = dl
	}
	pm["verifier"] = map[string]any{"id": o.VerifierID, "version": map[string]any{VSAVersionComponent: version}}
	ps, err := structpb.NewStruct(pm)
	if err != nil {
		return nil, err
	}
	st := &ita1.Statement{Type: ita1.StatementTypeUri, PredicateType: VSAPredicateType, Predicate: ps}
	for _, name := range sortedKeys(o.Subjects) {
		st.Subject = append(st.Subject, &ita1.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": o.Subjects[name]}})
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func TestNewVSAMatchesInTotoTypes(t *testing.T) {
	d1 := hex.EncodeToString(make([]byte, 32))
	d2 := fmt.Sprintf("%064x", 7)
	base := func() VSAOptions {
		return VSAOptions{
			VerifierID: "https://registry.example/gate", ResourceURI: "pkg:generic/app?checksum=sha256:" + d1,
			Subjects: map[string]string{"app.tgz": d1}, PolicyURI: "file:///srv/policy.json", PolicyData: []byte(`{"a":1}`),
			InputAttestations: []VSARef{{URI: "urn:hallmark:archive:sha256:" + d1, Digest: map[string]string{"sha256": d1}}},
			At:                time.Date(2026, 12, 1, 10, 11, 12, 999, time.FixedZone("x", 3600)),
		}
	}
	cases := map[string]struct {
		res Result
		o   func(*VSAOptions)
	}{
		"passed":            {Result{Passed: true, Level: 3}, nil},
		"failed":            {Result{Passed: false, Level: 2}, nil},
		"insecure":          {Result{Passed: true, Level: 2, Insecure: []string{"insecure-allow-legacy-predicate"}}, nil},
		"no expectations":   {Result{Passed: true, Level: 3, Insecure: []string{InsecureNoExpectations}}, nil},
		"dependency levels": {Result{Passed: true, Level: 3, DependencyLevels: map[string]uint64{"SLSA_BUILD_LEVEL_3": 4, "SLSA_BUILD_LEVEL_0": 1 << 40}}, nil},
		"no policy data":    {Result{Passed: true, Level: 1}, func(o *VSAOptions) { o.PolicyData = nil; o.PolicyURI = TOFUStoreURI }},
		"no inputs":         {Result{Passed: true, Level: 1}, func(o *VSAOptions) { o.InputAttestations = nil }},
		"input uri only":    {Result{Passed: true, Level: 1}, func(o *VSAOptions) { o.InputAttestations = []VSARef{{URI: "file:///p.jsonl"}} }},
		"input digest only": {Result{Passed: true, Level: 1}, func(o *VSAOptions) { o.InputAttestations = []VSARef{{Digest: map[string]string{"sha512": d2 + d2}}} }},
		"version":           {Result{Passed: true, Level: 1}, func(o *VSAOptions) { o.VerifierVersion = "v1.2.3" }},
		"escapes": {Result{Passed: true, Level: 1}, func(o *VSAOptions) {
			o.Subjects = map[string]string{"<a&b>\u2028é": d1, "z": d2, "": d2}
			o.ResourceURI = "pkg:generic/%3Ca%3E"
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := base()
			if c.o != nil {
				c.o(&o)
			}
			want, err := newVSAProto(&c.res, o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewVSA(&c.res, o)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("expected the in-toto types' encoding\n%s\ngot\n%s", want, got)
			}
			var st ita1.Statement
			if err := protojson.Unmarshal(got, &st); err != nil {
				t.Fatal(err)
			}
			if err := st.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewVSARejectsWhatTheInTotoTypesReject(t *testing.T) {
	d1 := hex.EncodeToString(make([]byte, 32))
	o := VSAOptions{VerifierID: "https://v.example", ResourceURI: "pkg:generic/a", Subjects: map[string]string{"a": d1}, PolicyURI: TOFUStoreURI}
	for name, f := range map[string]func(*VSAOptions){
		"bad subject digest": func(o *VSAOptions) { o.Subjects = map[string]string{"a": "xyz"} },
		"invalid UTF-8":      func(o *VSAOptions) { o.Subjects = map[string]string{"a\xff": d1} },
		"empty input":        func(o *VSAOptions) { o.InputAttestations = []VSARef{{}} },
		"bad input digest": func(o *VSAOptions) {
			o.InputAttestations = []VSARef{{URI: "file:///a", Digest: map[string]string{"sha256": "00"}}}
		},
		"year 10000": func(o *VSAOptions) { o.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		t.Run(name, func(t *testing.T) {
			o := o
			f(&o)
			res := &Result{Passed: true, Level: 1}
			if _, err := newVSAProto(res, o); err == nil {
				t.Fatal("the in-toto types accept it: a bad case")
			}
			_, err := NewVSA(res, o)
			if err == nil {
				t.Fatal("expected an error, got a VSA")
			}
			if name == "bad subject digest" || name == "invalid UTF-8" {
				if !errors.Is(err, ErrInTotoRejected) {
					t.Fatalf("expected ErrInTotoRejected, got %v", err)
				}
			}
		})
	}
}
