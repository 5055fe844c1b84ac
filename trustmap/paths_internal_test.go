package trustmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// Parameter paths are unambiguous: every leaf's JSON Pointer leads back to
// that leaf and to nothing else, whatever the member names contain ('.',
// '/', '~'), and empty objects and arrays are leaves too.
func FuzzParameterPaths(f *testing.F) {
	for _, s := range []string{
		`{"workflow":{"repository":"good"},"workflow.repository":"attacker"}`,
		`{"repository":"good","repository.override":"attacker"}`,
		`{"a/b":1,"a":{"b":2},"a~1b":3,"~":{"":[]},"vars":{},"list":[]}`,
		`{"":{"":""}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v map[string]any
		if decodeUseNumber(b, &v) != nil || v == nil {
			return
		}
		flat := map[string]any{}
		leaves("", any(v), flat)
		for p, want := range flat {
			got, ok := lookupPointer(any(v), p)
			if !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: looked up %v (%v), leaf %v", p, got, ok, want)
			}
			if q, err := parsePath(p); err != nil || q != p {
				t.Fatalf("%s: parsePath = %q, %v", p, q, err)
			}
			for other := range flat {
				if other != p && coveredBy(other, []string{p}) {
					t.Fatalf("leaf %s is inside leaf %s", other, p)
				}
			}
		}
	})
}

func TestParameterPathsKeepLiteralKeysApart(t *testing.T) {
	var v map[string]any
	decodeUseNumber([]byte(`{"workflow":{"repository":"good"},"workflow.repository":"attacker","vars":{},"flags":[]}`), &v)
	flat := map[string]any{}
	leaves("", any(v), flat)
	want := map[string]any{"/workflow/repository": "good", "/workflow.repository": "attacker", "/vars": map[string]any{}, "/flags": []any{}}
	if !reflect.DeepEqual(flat, want) {
		t.Fatalf("leaves %v", flat)
	}
	for legacy, ptr := range map[string]string{"workflow.repository": "/workflow/repository", "/a~1b": "/a~1b", "repository": "/repository"} {
		if got, err := parsePath(legacy); err != nil || got != ptr {
			t.Errorf("parsePath(%q) = %q, %v", legacy, got, err)
		}
	}
	for _, bad := range []string{"", "a..b", "/a~2", "/a~"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) accepted", bad)
		}
	}
}

// The review's examples, end to end through the policy check and the TOFU
// pin: a literal key containing the separator never poses as the nested
// parameter a policy or a pin names.
func TestLiteralDottedKeysCannotPoseAsNestedParameters(t *testing.T) {
	policy, err := ParsePolicy([]byte(`{"schema":"https://hallmark.build/policy/v2","packages":{"app":{
		"builderIds":["https://b.example/b"],"buildTypes":["https://b.example/t"],
		"externalParameters":{"workflow.repository":{"equals":"good"},"/repository":{"equals":"good"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	pkg := policy.Packages["app"]
	prov := func(ext string) *Provenance {
		return &Provenance{BuilderID: "https://b.example/b", BuildType: "https://b.example/t", extRaw: json.RawMessage(ext)}
	}
	check := func(p *Provenance) Check {
		ext, _, err := p.Parameters()
		if err != nil {
			t.Fatal(err)
		}
		return checkParameters("external-parameters", any(ext), pkg.ExternalParameters, pkg.IgnoreParameters, true)
	}
	if c := check(prov(`{"workflow":{"repository":"good"},"repository":"good"}`)); !c.Passed {
		t.Fatalf("expected parameters refused: %v", c.err)
	}
	for ext, literal := range map[string]string{
		`{"workflow":{"repository":"good"},"workflow.repository":"attacker","repository":"good"}`: "/workflow.repository",
		`{"workflow":{"repository":"good"},"repository":"good","repository.override":"attacker"}`: "/repository.override",
		`{"workflow":{"repository":"good"},"repository":"good","workflow/repository":"attacker"}`: "/workflow~1repository",
	} {
		c := check(prov(ext))
		if !errors.Is(c.err, ErrUnexpectedParameter) || !strings.Contains(c.err.Error(), literal) {
			t.Errorf("%s: err = %v, want ErrUnexpectedParameter naming %s", ext, c.err, literal)
		}
	}

	// TOFU pins by the same pointers: a literal "workflow.repository"
	// added next to the pinned /workflow/repository is a change.
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	store := NewTOFU()
	if c := store.check("app", prov(`{"workflow":{"repository":"good"}}`), nil, at); !c.Passed {
		t.Fatal(c.err)
	}
	if _, ok := store.Packages["app"].Parameters["/workflow/repository"]; !ok {
		t.Fatalf("pinned %v", store.Packages["app"].Parameters)
	}
	if c := store.check("app", prov(`{"workflow":{"repository":"good"},"workflow.repository":"attacker"}`), nil, at); !errors.Is(c.err, ErrTOFUMismatch) || !strings.Contains(c.err.Error(), "/workflow.repository") {
		t.Errorf("literal key beside the pin: %v", c.err)
	}
	// A store written with dotted paths reads them as nested members.
	old, err := ParseTOFU([]byte(`{"schema":"https://hallmark.build/tofu/v1","packages":{"app":{"builderId":"https://b.example/b","buildType":"https://b.example/t",
		"parameters":{"workflow.repository":"good"},"firstSeen":"2026-11-01T00:00:00Z"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := old.check("app", prov(`{"workflow":{"repository":"good"}}`), nil, at); !c.Passed {
		t.Errorf("dotted pin: %v", c.err)
	}
	if c := old.check("app", prov(`{"workflow.repository":"good"}`), nil, at); !errors.Is(c.err, ErrTOFUMismatch) {
		t.Errorf("literal key in place of the nested pin: %v", c.err)
	}
}

// decodeUseNumber reads what encoding/json with UseNumber reads, the same
// way, wherever the input is JSON the strict decoder accepts (valid UTF-8,
// no name given twice).
func FuzzDecodeUseNumber(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,false,null,"x",{"c":1.5e3}],"d":{},"e":[]}`,
		`{"s":"\u00e9\n\"","n":-0,"big":123456789012345678901234567890}`,
		`null`, `[]`, `"x"`, `1`, `{"a":1} x`, `{"a":1,"a":2}`, "{\"a\":\"\xff\"}", `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if strictjson.Check(b) != nil {
			return
		}
		for _, target := range []func() any{func() any { var v any; return &v }, func() any { var m map[string]any; return &m }} {
			got, want := target(), target()
			gotErr := decodeUseNumber(b, got)
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			wantErr := dec.Decode(want)
			if wantErr == nil && dec.More() {
				wantErr = errors.New("trailing data")
			}
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s: decodeUseNumber %v, encoding/json %v", b, gotErr, wantErr)
			}
			if gotErr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: decodeUseNumber %#v, encoding/json %#v", b, got, want)
			}
		}
	})
}
