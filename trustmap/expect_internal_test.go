package trustmap

import (
	"testing"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// sourceSeeds are externalParameters texts for the source members: each
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

func TestReadSourceParams(t *testing.T) {
	for _, raw := range sourceSeeds {
		checkSourceParams(t, []byte(raw))
	}
	// Spot checks of what the seeds find.
	sp, err := readSourceParams([]byte(sourceSeeds[5]))
	if err != nil || !sp.set[0] || sp.values[0] != "https://github.com/o/r" || sp.set[1] || !sp.set[2] || sp.set[3] {
		t.Fatalf("got %+v, %v", sp, err)
	}
	sp, _ = readSourceParams([]byte(sourceSeeds[11]))
	if sp.values[2] != "https://escaped.example/name" || sp.values[3] != "refs/tags/v1" {
		t.Fatalf("escaped names and values: got %+v", sp)
	}
}

// checkSourceParams compares readSourceParams with the lookup in the
// decoded parameters, for a text the strict decoder reads as an object or
// null (as externalParameters are, before they get here).
func checkSourceParams(t *testing.T, raw []byte) {
	t.Helper()
	var probe any
	if len(raw) > 0 && strictjson.Unmarshal(raw, &probe) != nil {
		return
	}
	if _, ok := probe.(map[string]any); !ok && probe != nil {
		return
	}
	var ext map[string]any
	if len(raw) > 0 {
		if err := decodeUseNumber(raw, &ext); err != nil {
			t.Fatalf("%s: decodeUseNumber: %v", raw, err)
		}
	}
	want := sourceParamsOf(ext)
	got, err := readSourceParams(raw)
	if err != nil || got != want {
		t.Fatalf("%s:\nread   %+v, %v\nlookup %+v", raw, got, err, want)
	}
}

func FuzzReadSourceParams(f *testing.F) {
	for _, s := range sourceSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Never a panic, whatever the text; the same answer as the
		// lookup for every text the strict decoder reads.
		readSourceParams(raw)
		checkSourceParams(t, raw)
	})
}
