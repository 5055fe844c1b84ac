package questionnaire

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestEverySpecPromptPresent(t *testing.T) {
	q := Default()
	if len(specPromptIDs) != 40 {
		t.Fatalf("the spec has 40 prompts, list has %d", len(specPromptIDs))
	}
	for _, id := range specPromptIDs {
		qu, ok := q.Question(id)
		if !ok {
			t.Errorf("prompt %s missing", id)
			continue
		}
		if qu.Profile() {
			t.Errorf("prompt %s is in the profile section", id)
		}
		if !strings.Contains(qu.Spec, "§") {
			t.Errorf("prompt %s: spec reference %q names no section", id, qu.Spec)
		}
		if len(qu.Examples) == 0 {
			t.Errorf("prompt %s has no examples", id)
		}
	}
	// Spec order is kept inside the data.
	var got []string
	for _, qu := range q.Questions {
		if !qu.Profile() {
			got = append(got, qu.ID)
		}
	}
	if !slices.Equal(got, specPromptIDs) {
		t.Errorf("prompt order\n got %v\nwant %v", got, specPromptIDs)
	}
}

func TestComponentsInBuildModelOrder(t *testing.T) {
	var ids []string
	for _, c := range Default().Components {
		ids = append(ids, c.ID)
	}
	want := []string{"profile", "external-parameters", "control-plane", "build-environment", "cache", "output-storage"}
	if !slices.Equal(ids, want) {
		t.Fatalf("components %v, want %v", ids, want)
	}
}

func TestRequirementsCatalogue(t *testing.T) {
	q := Default()
	want := map[string]Level{"EX": 1, "HO": 2, "AU": 2, "UF-a": 3, "UF-b": 3, "UF-c": 3, "UF-d": 3,
		"IS1": 3, "IS2": 3, "IS3": 3, "IS4": 3, "IS5": 3, "BP": 0}
	if len(q.Requirements) != len(want) {
		t.Fatalf("%d requirements, want %d", len(q.Requirements), len(want))
	}
	for code, lvl := range want {
		r, ok := q.Requirement(code)
		if !ok {
			t.Errorf("requirement %s missing", code)
			continue
		}
		if r.Level != lvl {
			t.Errorf("%s level %d, want %d", code, r.Level, lvl)
		}
		if len(q.Deciders(code)) == 0 {
			t.Errorf("%s: no question decides it", code)
		}
	}
}

func embedded(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("data/slsa-build-v1.0-2.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// mutate applies f to a decoded copy of the embedded definition and parses it.
func mutate(t *testing.T, f func(m map[string]any)) error {
	t.Helper()
	m := embedded(t)
	f(m)
	b, _ := json.Marshal(m)
	_, err := Parse(b)
	return err
}

func TestParseRejectsBrokenDefinitions(t *testing.T) {
	qs := func(m map[string]any) []any { return m["questions"].([]any) }
	cases := []struct {
		name string
		f    func(m map[string]any)
		want string
	}{
		{"missing prompt", func(m map[string]any) {
			q := qs(m)
			for i, x := range q {
				if x.(map[string]any)["id"] == "CA2" {
					m["questions"] = append(q[:i:i], q[i+1:]...)
				}
			}
		}, "spec prompt CA2 is missing"},
		{"duplicate id", func(m map[string]any) {
			qs(m)[4].(map[string]any)["id"] = "EP1"
		}, `duplicate question id "EP1"`},
		{"unreachable requirement", func(m map[string]any) {
			for _, x := range qs(m) {
				for _, c := range x.(map[string]any)["choices"].([]any) {
					delete(c.(map[string]any)["effects"].(map[string]any), "IS5")
				}
				x.(map[string]any)["requirements"] = slices.DeleteFunc(x.(map[string]any)["requirements"].([]any), func(v any) bool { return v == "IS5" })
			}
		}, "requirement IS5: must be reachable"},
		{"undeclared effect", func(m map[string]any) {
			c := qs(m)[3].(map[string]any)["choices"].([]any)[0].(map[string]any)
			c["effects"].(map[string]any)["IS4"] = "meets"
		}, "which the question does not declare"},
		{"bad effect", func(m map[string]any) {
			c := qs(m)[3].(map[string]any)["choices"].([]any)[0].(map[string]any)
			c["effects"].(map[string]any)["UF-c"] = "maybe"
		}, `effect: expected "meets" or "fails", got "maybe"`},
		{"unknown field", func(m map[string]any) { m["extra"] = 1 }, "unknown JSON member"},
		{"rule on unknown choice", func(m map[string]any) {
			m["rules"].([]any)[0].(map[string]any)["when"].([]any)[0].(map[string]any)["choices"] = []any{"nope"}
		}, `has no choice "nope"`},
		{"rule with one condition", func(m map[string]any) {
			r := m["rules"].([]any)[0].(map[string]any)
			r["when"] = r["when"].([]any)[:1]
		}, "at least two conditions"},
		{"rule on unknown requirement", func(m map[string]any) {
			m["rules"].([]any)[0].(map[string]any)["requirements"] = []any{"IS9"}
		}, `unknown requirement "IS9"`},
		{"rule with bad signer kind", func(m map[string]any) {
			m["rules"].([]any)[4].(map[string]any)["when"].([]any)[0].(map[string]any)["signer"] = "x509"
		}, `signer: expected`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := mutate(t, tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"0": 0, "3": 3, "L2": 2, "l1": 1, "SLSA_BUILD_LEVEL_3": 3} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "4", "L", "L4", "-1", "3x", "SLSA_BUILD_LEVEL_"} {
		if _, err := ParseLevel(in); err == nil {
			t.Errorf("ParseLevel(%q) accepted", in)
		}
	}
}

// Requirements cite the threats the current spec names (SLSA v1.1+ letters
// D–G, with the build-process sub-threats E-forge, E-other, ...) and keep
// the SLSA v1.0 letters (A–H) next to them.
func TestThreatLetters(t *testing.T) {
	for _, r := range Default().Requirements {
		if len(r.Threats) == 0 || len(r.ThreatsV1_0) == 0 {
			t.Errorf("%s: threats %v, v1.0 threats %v: both are required", r.Code, r.Threats, r.ThreatsV1_0)
		}
		for _, th := range r.Threats {
			letter, sub, _ := strings.Cut(th, "-")
			if len(letter) != 1 || letter < "D" || letter > "G" || (sub != "" && letter != "E") {
				t.Errorf("%s: threat %q is not a v1.1+ build-track letter (D-G, E-sub)", r.Code, th)
			}
		}
		for _, th := range r.ThreatsV1_0 {
			if len(th) != 1 || th < "A" || th > "H" {
				t.Errorf("%s: v1.0 threat %q is not a v1.0 letter (A-H)", r.Code, th)
			}
		}
	}
}
