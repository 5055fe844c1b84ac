package trustmap

import (
	"testing"
)

var batchItemSeeds = []string{
	`{"artifact":"a.tgz","provenance":"a.intoto.jsonl","package":"pkg"}`,
	`{"artifact":"a.tgz"}`,
	` {"package" : "p", "artifact":"a"} `,
	`{"artifact":"","provenance":""}`,
	`{"artifact":"a","artifact":"b"}`,
	`{"artifact":"a","Artifact":"b"}`,
	`{"Artifact":"a"}`,
	`{"artifact":"a","extra":1}`,
	`{"artifact":"C:\\a.tgz"}`,
	`{"artifact":"\u0061"}`,
	`{"artifact":null}`,
	`{"artifact":1}`,
	`{"artifact":"a"} {}`,
	`{"artifact":"a"`,
	"{\"artifact\":\"\xff\"}",
	`[]`, `null`, ``,
}

// TestParseBatchItemPlain: the plain reading reads plain manifest lines,
// and only what the strict decoder reads the same way.
func TestParseBatchItemPlain(t *testing.T) {
	plain := 0
	for _, s := range batchItemSeeds {
		if checkBatchItemPlain(t, []byte(s)) {
			plain++
		}
	}
	if plain != 4 {
		t.Fatalf("%d lines read plain, want 4", plain)
	}
}

func FuzzParseBatchItemPlain(f *testing.F) {
	for _, s := range batchItemSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkBatchItemPlain(t, b) })
}

func checkBatchItemPlain(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := parseBatchItemPlain(b)
	if !ok {
		return false
	}
	var want BatchItem
	if err := decodeStrict(b, &want, MaxManifestLine, ErrMalformedManifest); err != nil {
		t.Fatalf("%s: read plain, the strict decoder refuses it: %v", b, err)
	}
	if got != want {
		t.Fatalf("%s: plain %+v, strict %+v", b, got, want)
	}
	return true
}
