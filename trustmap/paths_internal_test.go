package trustmap

import (
	"reflect"
	"testing"
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
