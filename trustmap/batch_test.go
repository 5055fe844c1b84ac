package trustmap_test

import (
	"context"
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
