package trustmap

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/strictjson"
	slsa1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	vsa1 "github.com/in-toto/attestation/go/predicates/vsa/v1"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// The differential check with the in-toto attestation library: every
// statement trustmap accepts is accepted by that library's parser and
// Validate, with the same subject, predicateType, builder.id, buildType and
// parameters.

// acceptedByTrustmap runs trustmap's reading of a verified payload (every
// check but the signature, with no expectations and any level) and returns
// what it read, or false.
func acceptedByTrustmap(payload []byte, art *Artifact) (*statement, *Provenance, bool) {
	roots, _ := NewRoots(time.Time{}, nil)
	o := VerifyOptions{At: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), AllowUncertifiedUnsafe: true, NoExpectationsUnsafe: true}
	d := &Document{}
	verifyStatement(d, roots, payload, Signer{KeyFingerprint: "SHA256:differential"}, time.Time{}, []*Artifact{art}, nil, o)
	if d.err != nil || d.provenance == nil {
		return nil, nil, false
	}
	var st statement
	if err := strictjson.UnmarshalOpen(payload, &st); err != nil {
		return nil, nil, false
	}
	return &st, d.provenance, true
}

// sameAsInToto fails the test unless the in-toto library reads payload as
// trustmap did.
func sameAsInToto(t *testing.T, payload []byte, st *statement, prov *Provenance) {
	t.Helper()
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	var it ita1.Statement
	if err := opts.Unmarshal(payload, &it); err != nil {
		t.Fatalf("trustmap accepted a statement the in-toto library cannot parse: %v\n%s", err, payload)
	}
	if err := it.Validate(); err != nil {
		t.Fatalf("trustmap accepted a statement the in-toto library refuses: %v\n%s", err, payload)
	}
	if it.GetPredicateType() != st.PredicateType || it.GetType() != st.Type {
		t.Fatalf("types: in-toto %q %q, trustmap %q %q", it.GetType(), it.GetPredicateType(), st.Type, st.PredicateType)
	}
	if len(it.GetSubject()) != len(st.Subject) {
		t.Fatalf("subjects: in-toto %d, trustmap %d", len(it.GetSubject()), len(st.Subject))
	}
	for i, s := range it.GetSubject() {
		want := st.Subject[i]
		if s.GetName() != want.Name || !reflect.DeepEqual(s.GetDigest(), want.Digest) && !(len(s.GetDigest()) == 0 && len(want.Digest) == 0) {
			t.Fatalf("subject %d: in-toto %q %v, trustmap %q %v", i, s.GetName(), s.GetDigest(), want.Name, want.Digest)
		}
	}
	if st.PredicateType != ProvenanceV1 {
		return
	}
	raw, _ := protojson.Marshal(it.GetPredicate())
	var p slsa1.Provenance
	if err := opts.Unmarshal(raw, &p); err != nil {
		t.Fatalf("in-toto cannot parse the provenance trustmap accepted: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("in-toto refuses the provenance trustmap accepted: %v", err)
	}
	if p.GetRunDetails().GetBuilder().GetId() != prov.BuilderID || p.GetBuildDefinition().GetBuildType() != prov.BuildType {
		t.Fatalf("builder/buildType: in-toto %q %q, trustmap %q %q", p.GetRunDetails().GetBuilder().GetId(), p.GetBuildDefinition().GetBuildType(), prov.BuilderID, prov.BuildType)
	}
	ext, internal, err := prov.Parameters()
	if err != nil {
		t.Fatal(err)
	}
	// Numbers compared as JSON numbers read into float64, as protobuf's
	// Struct holds them.
	norm := func(v any) any {
		b, _ := json.Marshal(v)
		var out any
		json.Unmarshal(b, &out)
		return out
	}
	if got, want := norm(p.GetBuildDefinition().GetExternalParameters().AsMap()), norm(ext); !reflect.DeepEqual(got, want) {
		t.Fatalf("externalParameters: in-toto %v, trustmap %v", got, want)
	}
	if ip := p.GetBuildDefinition().GetInternalParameters(); ip != nil || internal != nil {
		if got, want := norm(ip.AsMap()), norm(internal); !reflect.DeepEqual(got, want) && !(len(ip.AsMap()) == 0 && len(internal) == 0) {
			t.Fatalf("internalParameters: in-toto %v, trustmap %v", got, want)
		}
	}
}

// payloads returns the payload of every DSSE envelope in a JSON Lines file.
func payloads(t testing.TB, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for line := range bytes.Lines(b) {
		var e struct {
			Payload      string `json:"payload"`
			DSSEEnvelope *struct {
				Payload string `json:"payload"`
			} `json:"dsseEnvelope"`
		}
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		p := e.Payload
		if e.DSSEEnvelope != nil {
			p = e.DSSEEnvelope.Payload
		}
		if raw, err := base64.StdEncoding.DecodeString(p); err == nil && len(raw) > 0 {
			out = append(out, raw)
		}
	}
	return out
}

const fixtureArtifact = "example app release 1.2.3\n"

func TestInTotoDifferential(t *testing.T) {
	art := BytesArtifact("a", []byte(fixtureArtifact))
	cases, _ := filepath.Glob("../testdata/verify/cases/*.intoto.jsonl")
	accepted := 0
	for _, c := range cases {
		for _, p := range payloads(t, c) {
			if st, prov, ok := acceptedByTrustmap(p, art); ok {
				sameAsInToto(t, p, st, prov)
				accepted++
			}
		}
	}
	// Real provenance from GitHub Actions, with its own artifacts.
	corpus := "../testdata/corpus/slsa-verifier/"
	for prov, artifact := range map[string]string{
		"bcr/MODULE.bazel.intoto.jsonl":                               "bcr/MODULE.bazel",
		"bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl":                   "bcr/rules_lint-v1.3.1.tar.gz",
		"gha_delegator-v2.1.0/binary-linux-amd64-push-v14.build.slsa": "gha_delegator-v2.1.0/binary-linux-amd64-push-v14",
	} {
		for _, p := range payloads(t, corpus+prov) {
			st, pr, ok := acceptedByTrustmap(p, FileArtifact(corpus+artifact))
			if !ok {
				t.Fatalf("%s: not accepted by trustmap", prov)
			}
			sameAsInToto(t, p, st, pr)
			accepted++
		}
	}
	if accepted < 10 {
		t.Fatalf("only %d statements accepted: the differential checks nothing", accepted)
	}
}

// FuzzInTotoDifferential: for any payload, if trustmap accepts it, the
// in-toto attestation library reads the same values.
func FuzzInTotoDifferential(f *testing.F) {
	cases, _ := filepath.Glob("../testdata/verify/cases/*.intoto.jsonl")
	for _, c := range cases {
		for _, p := range payloads(f, c) {
			f.Add(p)
		}
	}
	art := BytesArtifact("a", []byte(fixtureArtifact))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if st, prov, ok := acceptedByTrustmap(payload, art); ok {
			sameAsInToto(t, payload, st, prov)
		}
	})
}

// What Hallmark writes, the in-toto library reads the same way: a VSA
// statement parses and validates with the library's Statement and VSA v1
// types, with the same subject, verifier, result, levels and inputs.
func TestWrittenVSAReadByInToto(t *testing.T) {
	res := &Result{Passed: true, Level: 3, InputDigests: []string{strings.Repeat("cd", 32)}}
	digest := strings.Repeat("ab", 32)
	b, err := NewVSA(res, VSAOptions{VerifierID: "https://verifier.example/v", ResourceURI: "pkg:app@1", Subjects: map[string]string{"app.tar.gz": digest},
		PolicyURI: "file:///srv/policy.json", PolicyData: []byte("{}"), At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		InputAttestations: []VSARef{{URI: "file:///srv/app.intoto.jsonl", Digest: map[string]string{"sha256": res.InputDigests[0]}}}})
	if err != nil {
		t.Fatal(err)
	}
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	var st ita1.Statement
	if err := opts.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(); err != nil {
		t.Fatal(err)
	}
	if st.GetPredicateType() != VSAPredicateType || len(st.GetSubject()) != 1 || st.GetSubject()[0].GetName() != "app.tar.gz" || st.GetSubject()[0].GetDigest()["sha256"] != digest {
		t.Fatalf("statement as the library reads it: %v", &st)
	}
	raw, _ := protojson.Marshal(st.GetPredicate())
	var p vsa1.VerificationSummary
	if err := opts.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	if p.GetVerifier().GetId() != "https://verifier.example/v" || p.GetResourceUri() != "pkg:app@1" || p.GetVerificationResult() != "PASSED" ||
		!reflect.DeepEqual(p.GetVerifiedLevels(), []string{"SLSA_BUILD_LEVEL_3"}) || p.GetSlsaVersion() != "1.0" ||
		len(p.GetInputAttestations()) != 1 || p.GetInputAttestations()[0].GetDigest()["sha256"] != res.InputDigests[0] ||
		p.GetPolicy().GetUri() != "file:///srv/policy.json" || len(p.GetPolicy().GetDigest()["sha256"]) != 64 || !p.GetTimeVerified().AsTime().Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("VSA as the library reads it: %v", &p)
	}
	// The VSAs Hallmark writes are well formed for VerifyVSA too: a
	// FAILED one says FAILED in verifiedLevels (SLSA VSA v1), a PASSED one
	// made with loosening options records them as properties.
	for _, tc := range []struct {
		res    *Result
		levels string
	}{
		{&Result{Passed: false}, "FAILED"},
		{&Result{Passed: true, Level: 3, Insecure: []string{InsecureNoExpectations}}, "FAILED"},
		{&Result{Passed: true, Level: 2, Insecure: []string{InsecureLegacyPredicate, InsecureIgnoreCertExpiry}},
			"SLSA_BUILD_LEVEL_2,HALLMARK_INSECURE_ALLOW_LEGACY_PREDICATE,HALLMARK_INSECURE_IGNORE_CERTIFICATION_EXPIRY"},
		{&Result{Passed: true, Level: 0, Insecure: []string{InsecureUncertified}}, "SLSA_BUILD_LEVEL_0,HALLMARK_MIN_LEVEL_0"},
	} {
		b, err := NewVSA(tc.res, VSAOptions{VerifierID: "https://verifier.example/v", ResourceURI: "pkg:app@1", PolicyURI: InlineExpectationsURI, Subjects: map[string]string{"a": digest}, At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		var vst vsaStatement
		if err := strictjson.UnmarshalOpen(b, &vst); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(vst.Predicate.VerifiedLevels, ","); got != tc.levels {
			t.Errorf("%+v: verifiedLevels %s, want %s", tc.res, got, tc.levels)
		}
		if err := checkVSAShape(&vst); err != nil {
			t.Errorf("%+v: a VSA Hallmark wrote is malformed for VerifyVSA: %v", tc.res, err)
		}
	}
	// A subject digest the library would refuse is refused when writing.
	if _, err := NewVSA(res, VSAOptions{VerifierID: "https://verifier.example/v", ResourceURI: "pkg:app@1", PolicyURI: InlineExpectationsURI, Subjects: map[string]string{"a": "not-hex"}}); !errors.Is(err, ErrInTotoRejected) {
		t.Fatalf("bad subject digest: %v", err)
	}
}

// The split reading (statement with an empty predicate, predicate as
// provenance) gives the verdict and provenance of the full one (predicate
// as a Struct, then re-encoded), on the fixtures and on predicates built to
// make the Struct reading fail.
func TestInTotoSplitReading(t *testing.T) {
	files, _ := filepath.Glob("../testdata/verify/cases/*.intoto.jsonl")
	files = append(files, "../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl", "../testdata/corpus/slsa-verifier/gha_delegator-v2.1.0/binary-linux-amd64-push-v14.build.slsa")
	var all [][]byte
	for _, f := range files {
		all = append(all, payloads(t, f)...)
	}
	base := all[0]
	edit := func(f func(m map[string]any)) []byte { return editJSON(base, f) }
	pred := func(m map[string]any) map[string]any { return m["predicate"].(map[string]any) }
	deep := strings.Repeat(`{"a":`, 1200) + "1" + strings.Repeat("}", 1200)
	all = append(all,
		edit(func(m map[string]any) { pred(m)["unknown"] = json.Number("1e400") }),
		edit(func(m map[string]any) { pred(m)["unknown"] = json.Number("1e-400") }),
		edit(func(m map[string]any) { pred(m)["unknown"] = json.RawMessage(deep) }),
		edit(func(m map[string]any) { m["predicate"] = nil }),
		edit(func(m map[string]any) { m["predicate"] = []any{1} }),
		edit(func(m map[string]any) { m["predicate"] = "x" }),
		edit(func(m map[string]any) { m["predicate"] = map[string]any{} }),
		edit(func(m map[string]any) { delete(m, "predicate") }),
		edit(func(m map[string]any) { m["subject"] = []any{} }),
		edit(func(m map[string]any) { m["predicateType"] = 5 }),
		edit(func(m map[string]any) { m["predicate_type"] = m["predicateType"]; delete(m, "predicateType") }),
		[]byte(strings.Replace(string(base), `"predicate":`, `"predicate":{},"predicate":`, 1)),
		[]byte(strings.Replace(string(base), `"predicate":{`, `"predicate":{"x":1,"x":2,`, 1)),
	)
	split := 0
	for i, p := range all {
		gotSt, got, err := inTotoParse(p, true)
		_, want, werr := inTotoParseFull(p, true)
		if (err == nil) != (werr == nil) || (err == nil && !proto.Equal(got, want)) || (err != nil && err.Error() != werr.Error()) {
			t.Errorf("payload %d: split %v (%v), full %v (%v)", i, got, err, want, werr)
		}
		if err == nil && gotSt.GetPredicate() != nil && len(gotSt.GetPredicate().GetFields()) == 0 {
			split++
		}
	}
	if split < 10 {
		t.Fatalf("only %d statements read split", split)
	}
}

// fastReadingPayloads are the fixtures' and corpus's statements, and
// variants of one built to be read differently, or refused, by protojson.
func fastReadingPayloads(t testing.TB) (all [][]byte, base []byte) {
	files, _ := filepath.Glob("../testdata/verify/cases/*.intoto.jsonl")
	files = append(files, "../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl", "../testdata/corpus/slsa-verifier/bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl",
		"../testdata/corpus/slsa-verifier/gha_delegator-v2.1.0/binary-linux-amd64-push-v14.build.slsa")
	for _, f := range files {
		all = append(all, payloads(t, f)...)
	}
	for _, p := range all {
		if bytes.Contains(p, []byte(`"resolvedDependencies"`)) && bytes.Contains(p, []byte(ProvenanceV1)) {
			base = p
			break
		}
	}
	if base == nil {
		t.Fatal("no provenance v1 fixture with resolvedDependencies")
	}
	edit := func(f func(m map[string]any)) []byte { return editJSON(base, f) }
	obj := func(m map[string]any, path ...string) map[string]any {
		for _, p := range path {
			m = m[p].(map[string]any)
		}
		return m
	}
	bd := func(m map[string]any) map[string]any { return obj(m, "predicate", "buildDefinition") }
	rd := func(m map[string]any) map[string]any { return obj(m, "predicate", "runDetails") }
	md := func(m map[string]any) map[string]any {
		r := rd(m)
		if r["metadata"] == nil {
			r["metadata"] = map[string]any{}
		}
		return r["metadata"].(map[string]any)
	}
	subj := func(m map[string]any) map[string]any { return m["subject"].([]any)[0].(map[string]any) }
	deep := strings.Repeat(`{"a":`, 1200) + "1" + strings.Repeat("}", 1200)
	replace := func(old, new string) []byte { return []byte(strings.Replace(string(base), old, new, 1)) }
	all = append(all,
		// Numbers, depth and duplicates in the predicate and outside it.
		edit(func(m map[string]any) { obj(m, "predicate")["unknown"] = json.Number("1e400") }),
		edit(func(m map[string]any) { obj(m, "predicate")["unknown"] = json.Number("1e-400") }),
		edit(func(m map[string]any) { bd(m)["externalParameters"].(map[string]any)["n"] = json.Number("-1e309") }),
		edit(func(m map[string]any) { m["unknown"] = json.Number("1e400") }),
		edit(func(m map[string]any) { obj(m, "predicate")["unknown"] = json.RawMessage(deep) }),
		edit(func(m map[string]any) { m["unknown"] = json.RawMessage(deep) }),
		replace(`"predicate":{`, `"predicate":{"x":1,"x":2,`),
		replace(`"predicate":`, `"predicate":{},"predicate":`),
		// Proto names for JSON names, extension names, nulls.
		edit(func(m map[string]any) { m["predicate_type"] = m["predicateType"]; delete(m, "predicateType") }),
		edit(func(m map[string]any) { m["type"] = m["_type"]; delete(m, "_type") }),
		edit(func(m map[string]any) { m["type"] = m["_type"] }),
		edit(func(m map[string]any) { bd(m)["build_type"] = bd(m)["buildType"]; delete(bd(m), "buildType") }),
		edit(func(m map[string]any) { bd(m)["build_type"] = "x" }),
		edit(func(m map[string]any) { obj(m, "predicate")["run_details"] = obj(m, "predicate")["runDetails"] }),
		edit(func(m map[string]any) { m["[ext.name]"] = 1 }),
		edit(func(m map[string]any) { bd(m)["[ext.name]"] = 1 }),
		edit(func(m map[string]any) { m["predicate"] = nil }),
		edit(func(m map[string]any) { bd(m)["internalParameters"] = nil }),
		edit(func(m map[string]any) { bd(m)["resolvedDependencies"] = nil }),
		edit(func(m map[string]any) { bd(m)["resolvedDependencies"] = []any{nil} }),
		edit(func(m map[string]any) { subj(m)["name"] = nil }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha256": nil} }),
		// Values of other kinds and shapes.
		edit(func(m map[string]any) { m["predicate"] = []any{1} }),
		edit(func(m map[string]any) { m["predicate"] = "x" }),
		edit(func(m map[string]any) { m["predicate"] = map[string]any{} }),
		edit(func(m map[string]any) { delete(m, "predicate") }),
		edit(func(m map[string]any) { m["subject"] = []any{} }),
		edit(func(m map[string]any) { m["subject"] = map[string]any{} }),
		edit(func(m map[string]any) { m["predicateType"] = 5 }),
		edit(func(m map[string]any) { m["predicateType"] = "" }),
		edit(func(m map[string]any) { m["_type"] = StatementV01 }),
		edit(func(m map[string]any) { m["_type"] = "https://in-toto.io/Statement/v2" }),
		edit(func(m map[string]any) { subj(m)["content"] = "aGVsbG8=" }),
		edit(func(m map[string]any) { subj(m)["content"] = "not base64!" }),
		edit(func(m map[string]any) { subj(m)["annotations"] = map[string]any{"a": json.Number("1")} }),
		edit(func(m map[string]any) { subj(m)["annotations"] = "x" }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha256": "00"} }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha256": strings.Repeat("zz", 32)} }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"custom": "anything"} }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{} }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha256": 5} }),
		edit(func(m map[string]any) { subj(m)["name"] = 5 }),
		edit(func(m map[string]any) { subj(m)["downloadLocation"] = "https://x" }),
		edit(func(m map[string]any) { subj(m)["download_location"] = "https://x" }),
		edit(func(m map[string]any) { bd(m)["externalParameters"] = map[string]any{} }),
		edit(func(m map[string]any) { delete(bd(m), "externalParameters") }),
		edit(func(m map[string]any) { bd(m)["externalParameters"] = []any{} }),
		edit(func(m map[string]any) { bd(m)["internalParameters"] = map[string]any{} }),
		edit(func(m map[string]any) { bd(m)["buildType"] = "" }),
		edit(func(m map[string]any) { bd(m)["resolvedDependencies"] = []any{map[string]any{}} }),
		edit(func(m map[string]any) { bd(m)["resolvedDependencies"] = []any{map[string]any{"uri": "git+https://x"}} }),
		edit(func(m map[string]any) {
			bd(m)["resolvedDependencies"] = []any{map[string]any{"uri": "git+https://x", "digest": map[string]any{"sha1": "abc"}}}
		}),
		edit(func(m map[string]any) { bd(m)["resolvedDependencies"] = []any{"x"} }),
		edit(func(m map[string]any) { rd(m)["builder"] = map[string]any{} }),
		edit(func(m map[string]any) { rd(m)["builder"] = map[string]any{"id": ""} }),
		edit(func(m map[string]any) { rd(m)["builder"].(map[string]any)["version"] = map[string]any{"a": "1"} }),
		edit(func(m map[string]any) { rd(m)["builder"].(map[string]any)["version"] = map[string]any{"a": 1} }),
		edit(func(m map[string]any) {
			rd(m)["builder"].(map[string]any)["builderDependencies"] = []any{map[string]any{"name": "n", "digest": map[string]any{"sha256": "00"}}}
		}),
		edit(func(m map[string]any) { rd(m)["byproducts"] = []any{map[string]any{}} }),
		edit(func(m map[string]any) { rd(m)["byproducts"] = []any{map[string]any{"name": "log"}} }),
		edit(func(m map[string]any) { delete(obj(m, "predicate"), "runDetails") }),
		edit(func(m map[string]any) { obj(m, "predicate")["runDetails"] = map[string]any{} }),
		edit(func(m map[string]any) { delete(obj(m, "predicate"), "buildDefinition") }),
		edit(func(m map[string]any) { md(m)["invocationId"] = "" }),
		edit(func(m map[string]any) { md(m)["invocationId"] = 5 }),
		// Timestamps as protojson and time.Parse read them.
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20T09:50:00.123456789Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20T09:50:00.1234567891Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20T09:50:00+02:00" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20t09:50:00z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20 09:50:00Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "0000-01-01T00:00:00Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "0001-01-01T00:00:00Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "9999-12-31T23:59:59.999999999Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "9999-12-31T23:59:59-01:00" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-02-30T00:00:00Z" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = 1 }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = map[string]any{"seconds": 1} }),
		// Escapes, UTF-8 and trailing data.
		replace(`"buildType":"`, `"buildType":"\u0041`),
		replace(`"buildType":"`, `"build\u0054ype":"`),
		replace(`"externalParameters":{`, `"externalParameters":{"e\u0301":"\ud83d\ude00",`),
		replace(`"externalParameters":{`, `"externalParameters":{"lone":"\ud800",`),
		replace(`"externalParameters":{`, "\"externalParameters\":{\"bad\":\"\xff\","),
		replace(`"externalParameters":{`, `"externalParameters":{"ctl":"a`+"\x01"+`",`),
		append(bytes.Clone(base), ' ', '\n'),
		append(bytes.Clone(base), '{', '}'),
		append(bytes.Clone(base), 'x'),
		base[:len(base)-1],
		[]byte(`{}`), []byte(`[]`), []byte(`null`), []byte(``),
		// Case variants and names twice, where the strict decoder refuses
		// them and protojson would not.
		replace(`"predicate":{`, `"predicate":{"X":1,"x":2,`),
		replace(`"externalParameters":{`, `"externalParameters":{"Ref":"a","ref":"b",`),
		replace(`"externalParameters":{`, `"externalParameters":{"n":{"k":1,"K":2},`),
		replace(`"externalParameters":{`, `"externalParameters":{"n":[{"k":1,"k":2}],`),
		replace(`"externalParameters":{`, `"externalParameters":{"\u006b":1,"k":2,`),
		replace(`"externalParameters":{`, `"externalParameters":{"\u212a":1,"k":2,`),
		replace(`"_type":`, `"_Type":"x","_type":`),
		replace(`"subject":[`, `"Subject":[],"subject":[`),
		replace(`"buildDefinition":{`, `"buildDefinition":{"BuildType":"x",`),
		replace(`"buildDefinition":{`, `"buildDefinition":{"buildtype":"x",`),
		edit(func(m map[string]any) {
			subj(m)["digest"].(map[string]any)["SHA256"] = subj(m)["digest"].(map[string]any)["sha256"]
		}),
		edit(func(m map[string]any) { subj(m)["Name"] = "other" }),
		edit(func(m map[string]any) { rd(m)["builder"].(map[string]any)["ID"] = "https://evil.example/builder" }),
		edit(func(m map[string]any) {
			rd(m)["builder"].(map[string]any)["version"] = map[string]any{"a": "1", "A": "2"}
		}),
		edit(func(m map[string]any) { md(m)["StartedOn"] = "2026-11-20T09:50:00Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20T09:50:00Z" }),
		edit(func(m map[string]any) { md(m)["startedOn"] = "2026-11-20T09:50:00.5Z" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "2026-11-20T09:50:00-05:30" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "2026-11-20T09:50:00.Z" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "2026-11-20T24:00:00Z" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "2026-11-20T09:50:60Z" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "2026-11-20T09:50:00+24:00" }),
		edit(func(m map[string]any) { md(m)["finishedOn"] = "1970-01-01T00:00:00Z" }),
		edit(func(m map[string]any) {
			bd(m)["resolvedDependencies"] = []any{map[string]any{"uri": "git+https://x", "digest": map[string]any{"gitCommit": strings.Repeat("a", 40)}}, map[string]any{"name": "lib", "digest": map[string]any{}}}
		}),
		edit(func(m map[string]any) {
			bd(m)["resolvedDependencies"] = []any{map[string]any{"uri": "git+https://x", "URI": "git+https://y", "digest": map[string]any{"gitCommit": strings.Repeat("a", 40)}}}
		}),
		edit(func(m map[string]any) { bd(m)["resolvedDependencies"] = []any{} }),
		// The Validate rules the fast reading applies itself, each way.
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha256": strings.Repeat("AB", 32)} }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha256": strings.Repeat("ab", 32) + "a"} }),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha512": strings.Repeat("ab", 32)} }),
		edit(func(m map[string]any) {
			subj(m)["digest"] = map[string]any{"sha1": strings.Repeat("ab", 20), "md5": strings.Repeat("0", 32)}
		}),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"gitCommit": strings.Repeat("a", 39)} }),
		edit(func(m map[string]any) {
			subj(m)["digest"] = map[string]any{"dirHash": strings.Repeat("0f", 32), "sha3_384": strings.Repeat("0", 96)}
		}),
		edit(func(m map[string]any) { subj(m)["digest"] = map[string]any{"sha512_224": strings.Repeat("0", 55)} }),
		edit(func(m map[string]any) {
			subj(m)["digest"] = map[string]any{"sha256": strings.Repeat("ab", 32), "custom": "not hex", "SHA-256": "x"}
		}),
		edit(func(m map[string]any) { delete(subj(m), "name"); subj(m)["uri"] = "https://x/a.tgz" }),
		edit(func(m map[string]any) { delete(subj(m), "name") }),
		edit(func(m map[string]any) { delete(subj(m), "digest") }),
		edit(func(m map[string]any) {
			m["subject"] = append(m["subject"].([]any), map[string]any{"name": "b", "digest": map[string]any{}})
		}),
		edit(func(m map[string]any) {
			bd(m)["resolvedDependencies"] = []any{map[string]any{"downloadLocation": "https://x"}}
		}),
		edit(func(m map[string]any) {
			bd(m)["resolvedDependencies"] = []any{map[string]any{"annotations": map[string]any{"a": "b"}}}
		}),
		edit(func(m map[string]any) {
			bd(m)["resolvedDependencies"] = []any{map[string]any{"mediaType": "text/plain", "uri": "u"}}
		}),
		edit(func(m map[string]any) {
			rd(m)["byproducts"] = []any{map[string]any{"digest": map[string]any{"sha256": "zz"}}}
		}),
		edit(func(m map[string]any) {
			rd(m)["byproducts"] = []any{map[string]any{"digest": map[string]any{"sha256": strings.Repeat("0", 64)}}}
		}),
		edit(func(m map[string]any) {
			rd(m)["builder"].(map[string]any)["builderDependencies"] = []any{map[string]any{"uri": "u"}, map[string]any{"mediaType": "m"}}
		}),
		edit(func(m map[string]any) { rd(m)["builder"] = map[string]any{"version": map[string]any{"a": "1"}} }),
		edit(func(m map[string]any) { rd(m)["metadata"] = map[string]any{} }),
		edit(func(m map[string]any) {
			obj(m, "predicate")["runDetails"] = map[string]any{"metadata": map[string]any{"invocationId": "i"}}
		}),
		edit(func(m map[string]any) {
			obj(m, "predicate")["buildDefinition"] = map[string]any{"externalParameters": map[string]any{"a": 1}}
		}),
		edit(func(m map[string]any) { bd(m)["externalParameters"] = map[string]any{"a": nil} }),
		edit(func(m map[string]any) { bd(m)["externalParameters"] = map[string]any{"": map[string]any{}} }),
		// The source members, read with the statement or not.
		edit(func(m map[string]any) {
			bd(m)["externalParameters"] = map[string]any{"workflow": map[string]any{"repository": "https://github.com/o/r", "ref": "refs/tags/v1", "path": "p"}, "repository": 5}
		}),
		edit(func(m map[string]any) {
			bd(m)["externalParameters"] = map[string]any{"workflow": "w", "configSource": map[string]any{"uri": "git+https://x@refs/tags/v1", "digest": map[string]any{"sha1": "ab"}}, "ref": []any{"r"}}
		}),
		edit(func(m map[string]any) {
			bd(m)["externalParameters"] = map[string]any{"configSource": map[string]any{"uri": nil}, "workflow": nil}
		}),
		edit(func(m map[string]any) {
			bd(m)["externalParameters"] = map[string]any{"other": map[string]any{"repository": "deep", "workflow": map[string]any{"ref": "deeper"}}, "ref": "r"}
		}),
		replace(`"externalParameters":{`, `"externalParameters":{"workflow":{"repository":"https:\/\/github.com\/o\/r"},`),
		replace(`"externalParameters":{`, `"externalParameters":{"workflow":{"Repository":"x"},"configSource":{"URI":"y"},`),
		replace(`"externalParameters":{`, "\"externalParameters\" : \n {"),
		replace(`"predicate":{`, "\"predicate\":\t{"),
	)
	for _, ext := range sourceSeeds {
		if strings.HasPrefix(strings.TrimSpace(ext), "{") {
			all = append(all, edit(func(m map[string]any) { bd(m)["externalParameters"] = json.RawMessage(ext) }))
		}
	}
	return all, base
}

// The fast reading only ever accepts what the library's full reading
// accepts, and it accepts the fixtures (it is the common path).
func TestInTotoFastReading(t *testing.T) {
	all, base := fastReadingPayloads(t)
	if _, _, ok := readStatementFast(base); !ok {
		t.Fatalf("the fast reading refuses a plain fixture:\n%s", base)
	}
	fast := 0
	for _, p := range all {
		if checkFastReading(t, p) {
			fast++
		}
	}
	if fast < 20 {
		t.Fatalf("only %d statements read fast", fast)
	}
	// Its verdict is inTotoParse's, error included.
	for i, p := range all {
		_, _, want := inTotoParse(p, true)
		got := inTotoAccepts(p, true)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Errorf("payload %d: inTotoAccepts %v, inTotoParse %v", i, got, want)
		}
	}
}

// FuzzInTotoFastReading: whatever the fast reading accepts, the library's
// full reading and the strict decoder accept, and the strict decoder reads
// the same statement and provenance.
func FuzzInTotoFastReading(f *testing.F) {
	all, _ := fastReadingPayloads(f)
	for _, p := range all {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkFastReading(t, payload)
	})
}

// checkFastReading fails when readStatementFast reads payload and a full
// reading (the in-toto library's, the strict decoder's) refuses it or
// reads it otherwise. It reports whether the fast reading read it.
func checkFastReading(t *testing.T, payload []byte) bool {
	t.Helper()
	st, prov, ok := readStatementFast(payload)
	if !ok {
		return false
	}
	if _, _, err := inTotoParseFull(payload, true); err != nil {
		t.Fatalf("the fast reading accepts what the library refuses (%v):\n%s", err, payload)
	}
	if _, _, err := inTotoParse(payload, true); err != nil {
		t.Fatalf("the fast reading accepts what the library's split reading refuses (%v):\n%s", err, payload)
	}
	var full statementV1
	if err := strictjson.UnmarshalOpen(payload, &full); err != nil {
		t.Fatalf("the fast reading accepts what the strict decoder refuses (%v):\n%s", err, payload)
	}
	want, err := full.Predicate.provenance(ProvenanceV1)
	if err != nil {
		t.Fatalf("the fast reading accepts provenance the strict reading refuses (%v):\n%s", err, payload)
	}
	wantSt := statement{Type: full.Type, Subject: full.Subject, PredicateType: full.PredicateType}
	if !reflect.DeepEqual(st, wantSt) {
		t.Fatalf("statements differ:\nfast   %#v\nstrict %#v\n%s", st, wantSt, payload)
	}
	// Times by their instant and offset (the location's name is time's).
	sameTime := func(a, b time.Time) bool {
		_, oa := a.Zone()
		_, ob := b.Zone()
		return a.Equal(b) && oa == ob
	}
	if !sameTime(prov.StartedOn, want.StartedOn) || !sameTime(prov.FinishedOn, want.FinishedOn) {
		t.Fatalf("times differ: fast %v %v, strict %v %v\n%s", prov.StartedOn, prov.FinishedOn, want.StartedOn, want.FinishedOn, payload)
	}
	// The source members it read with the statement are what the look-up
	// in the decoded externalParameters finds.
	if prov.sourcesRead {
		var ext map[string]any
		if len(prov.extRaw) > 0 {
			if err := decodeUseNumber(prov.extRaw, &ext); err != nil {
				t.Fatalf("externalParameters: %v\n%s", err, payload)
			}
		}
		if want := sourceParamsOf(ext); want != prov.sourceMembers {
			t.Fatalf("source members differ: read with the statement %+v, looked up %+v\n%s", prov.sourceMembers, want, payload)
		}
	}
	a, b := *prov, *want
	a.sourceMembers, a.sourcesRead = sourceParams{}, false
	a.StartedOn, a.FinishedOn, b.StartedOn, b.FinishedOn = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("provenance differs:\nfast   %#v\nstrict %#v\n%s", a, b, payload)
	}
	return true
}

// Every JSON name of the formats' messages is read without a copy.
func TestInternNames(t *testing.T) {
	names := fastNames().jsonNames
	if len(names) < 20 {
		t.Fatalf("only %d JSON names", len(names))
	}
	for _, name := range names {
		b := []byte(name)
		if got := internName(b); got != name {
			t.Fatalf("internName(%q) = %q", name, got)
		}
		if n := testing.AllocsPerRun(10, func() { internName(b) }); n != 0 {
			t.Errorf("internName(%q) allocates: the switch lacks it", name)
		}
	}
	if got := internName([]byte("other")); got != "other" {
		t.Fatalf("internName(other) = %q", got)
	}
}

// sourceSeeds are externalParameters texts (fastReadingPayloads puts
// each object among them in the fixture) for the source members: each
// where a member is a string, another type, missing, escaped, nested in a
// non-object, or a look-alike name (case variant, escaped name, deeper).
var sourceSeeds = []string{
	``,
	`null`,
	`{}`,
	`{"repository":"https://git.example.com/app","ref":"refs/tags/v1"}`,
	`{"workflow":{"repository":"https://github.com/o/r","ref":"refs/heads/main","path":".github/workflows/b.yml"}}`,
	`{"workflow":{"repository":"https://github.com/o/r"},"repository":"https://x.example/evil","ref":7}`,
	`{"workflow":"https://github.com/o/r","repository":{"repository":"r"}}`,
	`{"workflow":[{"repository":"r"}],"configSource":{"uri":"git+https://github.com/o/r@refs/tags/v1","digest":{"sha1":"ab"}}}`,
	`{"configSource":{"uri":5}}`,
	`{"configSource":"git+https://github.com/o/r"}`,
	`{"Repository":"r","REF":"x","Workflow":{"repository":"r"}}`,
	`{"repo\u0073itory":"https://escaped.example/name","r\u0065f":"refs/tags/v\u0031"}`,
	`{"repository":"a\"b\\c\u0000\u202e","ref":"\ud83d\ude00"}`,
	`{"repository":null,"ref":true,"workflow":null}`,
	`{"other":{"repository":"deep","workflow":{"repository":"deeper"}},"list":[1,2,{"ref":"x"}],"n":1e400}`,
	`{"repository":"r"} `,
	` {"workflow":{"ref":"refs/tags/v2"}}`,
}

// editJSON is doc decoded, changed by f and encoded again.
func editJSON(doc []byte, f func(m map[string]any)) []byte {
	var m map[string]any
	json.Unmarshal(doc, &m)
	f(m)
	b, _ := json.Marshal(m)
	return b
}
