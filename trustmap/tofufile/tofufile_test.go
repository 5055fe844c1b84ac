package tofufile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/tofufile"
)

var at = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// 20 writers pinning 20 new packages at once keep 20 pins: every
// read-modify-write holds the lock. (cmd/trustmap's tofu_parallel.txtar
// does the same with 20 processes.)
func TestConcurrentPinsAreKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tofu.json")
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := tofufile.Open(path) // its own file descriptors, like another process
			errs <- s.UpdatePackage(context.Background(), fmt.Sprintf("pkg-%d", i), func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
				if cur != nil {
					return nil, errors.New("already pinned")
				}
				time.Sleep(time.Millisecond) // widen the read-modify-write window
				return &trustmap.TOFUEntry{BuilderID: "https://ci.example/b", BuildType: "t", FirstSeen: at}, nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := tofufile.Open(path).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Packages) != n {
		t.Fatalf("%d pins kept of %d", len(st.Packages), n)
	}
}

// A writer waits for the lock; a canceled wait writes nothing.
func TestLockWaitCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tofu.json")
	s := tofufile.Open(path)
	entered := make(chan struct{})
	release := make(chan struct{})
	go s.UpdatePackage(context.Background(), "a", func(*trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
		close(entered)
		<-release
		return nil, nil
	})
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := tofufile.Open(path).UpdatePackage(ctx, "b", func(*trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
		t.Error("ran without the lock")
		return nil, nil
	})
	close(release)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("store written")
	}
}

// A malformed store is reported, never replaced.
func TestMalformedStoreKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tofu.json")
	os.WriteFile(path, []byte("{"), 0o644)
	err := tofufile.Open(path).UpdatePackage(context.Background(), "a", func(*trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
		return &trustmap.TOFUEntry{}, nil
	})
	if !errors.Is(err, trustmap.ErrMalformedTOFU) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{" {
		t.Fatal("store replaced")
	}
}

// A verifier that starts while an approval is being applied sees the
// approved pin, never the one before: it cannot write the old pin back.
func TestApprovalNotUndoneByStaleWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tofu.json")
	old := &trustmap.TOFUEntry{BuilderID: "https://ci.example/old", BuildType: "t", FirstSeen: at}
	if err := tofufile.Open(path).UpdatePackage(context.Background(), "app", func(*trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) { return old, nil }); err != nil {
		t.Fatal(err)
	}
	inApprove := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- tofufile.Open(path).UpdatePackage(context.Background(), "app", func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
			close(inApprove)
			time.Sleep(20 * time.Millisecond) // the verifier starts meanwhile
			n := *cur
			n.BuilderID = "https://ci.example/new"
			n.FirstSeen = at.Add(time.Hour)
			return &n, nil
		})
	}()
	<-inApprove
	var seen string
	err := tofufile.Open(path).UpdatePackage(context.Background(), "app", func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
		seen = cur.BuilderID
		return cur, nil // a verifier writing back what it read
	})
	if err != nil || <-done != nil {
		t.Fatal(err)
	}
	st, _ := tofufile.Open(path).Load(context.Background())
	if seen != "https://ci.example/new" || st.Packages["app"].BuilderID != "https://ci.example/new" {
		t.Fatalf("verifier saw %q, store has %q: the approval was undone", seen, st.Packages["app"].BuilderID)
	}
}
