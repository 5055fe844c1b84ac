package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

type inner struct {
	Repository string `json:"repository"`
}

type doc struct {
	Type      string            `json:"_type"`
	Predicate string            `json:"predicateType"`
	Subject   []inner           `json:"subject,omitempty"`
	Params    map[string]any    `json:"params,omitempty"`
	Raw       json.RawMessage   `json:"raw,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

func TestRejects(t *testing.T) {
	cases := []struct {
		name string
		in   string
		open bool
		want error
	}{
		{"duplicate", `{"_type":"a","_type":"b"}`, false, ErrDuplicateName},
		{"duplicate open", `{"_type":"a","_type":"b"}`, true, ErrDuplicateName},
		{"case variant of known", `{"PredicateType":"x"}`, true, ErrCaseVariant},
		{"case variant pair", `{"predicateType":"x","PREDICATETYPE":"y"}`, true, ErrCaseVariant},
		{"nested duplicate in slice", `{"subject":[{"repository":"a","repository":"b"}]}`, true, ErrDuplicateName},
		{"nested case variant in struct", `{"subject":[{"Repository":"a"}]}`, true, ErrCaseVariant},
		{"case pair in map", `{"params":{"workflow":1,"Workflow":2}}`, true, ErrCaseVariant},
		{"duplicate in map", `{"labels":{"a":"1","a":"2"}}`, false, ErrDuplicateName},
		{"duplicate in raw", `{"raw":{"x":1,"x":2}}`, true, ErrDuplicateName},
		{"case pair in unknown member", `{"extra":{"k":1,"K":2}}`, true, ErrCaseVariant},
		{"unicode fold pair", `{"params":{"\u212a":1,"k":2}}`, true, ErrCaseVariant},
		{"unknown strict", `{"extra":1}`, false, ErrUnknownMember},
		{"trailing value", `{"_type":"a"} {}`, true, ErrSyntax},
		{"truncated", `{"_type":`, true, ErrSyntax},
		{"empty", ``, true, ErrSyntax},
		{"invalid utf8", "{\"_type\":\"\xff\"}", true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d doc
			var err error
			if c.open {
				err = UnmarshalOpen([]byte(c.in), &d)
			} else {
				err = Unmarshal([]byte(c.in), &d)
			}
			if err == nil {
				t.Fatalf("accepted %s", c.in)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestAccepts(t *testing.T) {
	var d doc
	in := `{"_type":"t","predicateType":"p","subject":[{"repository":"r"}],"params":{"a":{"b":[1,{"c":null}]}},"raw":{"x":1},"labels":{"k":"v"}}`
	if err := Unmarshal([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if d.Predicate != "p" || d.Subject[0].Repository != "r" || string(d.Raw) != `{"x":1}` {
		t.Fatalf("%+v", d)
	}
	if err := UnmarshalOpen([]byte(`{"_type":"t","future":{"a":1}}`), &d); err != nil {
		t.Fatal(err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"_type":"a"}`, `{"_type":"a","_TYPE":"b"}`, `{"params":{"a":{"A":1}}}`, `[]`, `{"subject":[{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		err := UnmarshalOpen(b, &d)
		if err != nil {
			return
		}
		// Property: whatever is accepted has one reading; encoding/json
		// (case-insensitive, last duplicate wins) reads the same values.
		var legacy doc
		if json.Unmarshal(b, &legacy) != nil {
			t.Fatalf("accepted what encoding/json refuses: %q", b)
		}
		if legacy.Type != d.Type || legacy.Predicate != d.Predicate || len(legacy.Subject) != len(d.Subject) {
			t.Fatalf("two readings of %q: %+v vs %+v", b, d, legacy)
		}
	})
}

// Objects with many members are checked through a map of folded names
// instead of a list: the same refusals, wherever the pair is.
func TestManyMembers(t *testing.T) {
	members := func(n int, last string) string {
		s := `{"params":{`
		for i := range n {
			s += fmt.Sprintf(`"m%d":%d,`, i, i)
		}
		return s + last + `}}`
	}
	for _, n := range []int{3, 15, 16, 17, 40} {
		for _, c := range []struct {
			last string
			want error
		}{
			{`"M1":0`, ErrCaseVariant},
			{`"m2":0`, ErrDuplicateName},
			{`"\u212a":0,"k":1`, ErrCaseVariant},
			{`"x":0`, nil},
		} {
			var v doc
			if err := Unmarshal([]byte(members(n, c.last)), &v); !errors.Is(err, c.want) && (c.want != nil || err != nil) {
				t.Errorf("%d members, then %s: err = %v, want %v", n, c.last, err, c.want)
			}
		}
	}
}
