package trustmap_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hallmark-build/hallmark/trustmap"
)

func TestRunBatch(t *testing.T) {
	manifest := strings.Join([]string{
		`{"artifact":"ok1","provenance":"p"}`,
		``,
		`{"artifact":"bad","provenance":"p","package":"x"}`,
		`not json`,
		`{"artifact":"","provenance":"p"}`,
		`{"artifact":"ok2","provenance":"p","unknown":1}`,
		`{"artifact":"ok3","provenance":"p"}`,
	}, "\n")
	verify := func(_ context.Context, it trustmap.BatchItem) (*trustmap.Result, error) {
		if it.Artifact == "bad" {
			return &trustmap.Result{}, errors.New("subject mismatch")
		}
		return &trustmap.Result{Passed: true, Level: 3}, nil
	}
	var mu sync.Mutex
	got := map[int]trustmap.BatchResult{}
	failed, err := trustmap.RunBatch(context.Background(), strings.NewReader(manifest), 4, verify, func(r trustmap.BatchResult) {
		mu.Lock()
		defer mu.Unlock()
		got[r.Line] = r
	})
	if err != nil {
		t.Fatal(err)
	}
	// Lines 3 (verification failed), 4 (not JSON), 5 (no artifact) and 6
	// (unknown field) fail; the blank line 2 is skipped.
	if failed != 4 || len(got) != 6 {
		t.Fatalf("failed %d, results %v", failed, got)
	}
	if !got[1].Passed || got[1].Level != 3 || !got[7].Passed {
		t.Fatalf("passing lines: %+v %+v", got[1], got[7])
	}
	if got[3].Passed || got[3].Error != "subject mismatch" || got[4].Passed || got[5].Passed || got[6].Passed {
		t.Fatalf("failing lines: %+v", got)
	}
}

// A cancelled context stops handing out items, and only that: malformed
// lines are still reported, a manifest read to its end is not an error,
// and a line too long is one.
func TestRunBatchCancelled(t *testing.T) {
	verify := func(ctx context.Context, it trustmap.BatchItem) (*trustmap.Result, error) {
		return &trustmap.Result{Passed: true, Level: 3}, nil
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name, manifest string
		ctx            context.Context
		failed, lines  int
		err            error
	}{
		{"empty, cancelled", "", cancelled, 0, 0, nil},
		{"malformed only, cancelled", "{}\nx\n", cancelled, 2, 2, nil},
		{"an item, cancelled", `{"artifact":"a","provenance":"p"}` + "\n", cancelled, 0, 0, context.Canceled},
		{"a line too long", `{"artifact":"a","provenance":"p"}` + "\n" + strings.Repeat("x", trustmap.MaxManifestLine+1), context.Background(), 0, 1, bufio.ErrTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			lines := 0
			failed, err := trustmap.RunBatch(tc.ctx, strings.NewReader(tc.manifest), 3, verify, func(trustmap.BatchResult) {
				mu.Lock()
				defer mu.Unlock()
				lines++
			})
			if failed != tc.failed || lines != tc.lines || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("failed %d, %d results, %v; want %d, %d, %v", failed, lines, err, tc.failed, tc.lines, tc.err)
			}
		})
	}
	// Cancelled while the last item is verified: its result, and no error
	// (the manifest was read to its end).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := 0
	failed, err := trustmap.RunBatch(ctx, strings.NewReader(`{"artifact":"a","provenance":"p"}`), 2,
		func(ctx context.Context, it trustmap.BatchItem) (*trustmap.Result, error) {
			cancel()
			return &trustmap.Result{Passed: true, Level: 3}, nil
		}, func(trustmap.BatchResult) { lines++ })
	if failed != 0 || lines != 1 || err != nil {
		t.Fatalf("failed %d, %d results, %v", failed, lines, err)
	}
}

// MarshalLine writes what encoding/json writes for a BatchResult without
// HTML escaping, byte for byte: one line of valid JSON that reads back as
// the same result, whatever its strings (U+2028 and U+2029 escaped).
func TestMarshalLine(t *testing.T) {
	strs := []string{"", "app.tgz", `a "quoted" \ path`, "<script>&amp;</script>", "line\nbreak\ttab\x00\x1f\x7f",
		"\u2028\u2029", "caf\u00e9 \U0001F600", "bad \xff utf-8 \xc3", "\x1b[31mred\x1b[0m"}
	var results []trustmap.BatchResult
	for i, s := range strs {
		results = append(results,
			trustmap.BatchResult{Line: i, Artifact: s},
			trustmap.BatchResult{Line: -i, Artifact: s, Package: s, Passed: true, Level: 3, VSA: s},
			trustmap.BatchResult{Line: 1 << 40, Artifact: "a", Error: s, Level: -1, Package: "p"},
		)
	}
	for _, r := range results {
		got := r.MarshalLine()
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		want := buf.Bytes()
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v:\n%q, encoding/json writes\n%q", r, got, want)
		}
		if bytes.Count(got, []byte("\n")) != 1 || !json.Valid(got) {
			t.Fatalf("%+v: not one line of JSON: %q", r, got)
		}
	}
}
