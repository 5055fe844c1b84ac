package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

var t0 = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func doc(kind, body string) store.Document {
	sum := sha256.Sum256([]byte(body))
	return store.Document{Digest: "sha256:" + hex.EncodeToString(sum[:]), Kind: kind, Body: []byte(body)}
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func entry(builder string) trustmap.TOFUEntry {
	return trustmap.TOFUEntry{BuilderID: builder, BuildType: "https://example/bt", Parameters: map[string]json.RawMessage{"repository": json.RawMessage(`"https://git.example.com/app"`)}, FirstSeen: t0}
}

func record(id, pkg string, pin *trustmap.TOFUEntry) *store.Record {
	r := &store.Record{
		ID: digest(id), Package: pkg, VerifiedAt: t0, Passed: true, Level: 3,
		Subjects:     []store.Subject{{Name: "app.tgz", Digest: digest("artifact " + id)}},
		Provenance:   doc(store.KindProvenance, "prov "+id),
		Attestations: []store.Document{doc(store.KindAttestation, "vsa in "+id)},
		Result:       doc(store.KindResult, `{"passed":true,"id":"`+id+`"}`),
		VSA:          doc(store.KindVSA, "vsa "+id),
	}
	if pin != nil {
		r.NewPin, r.PinVersion = pin, 1
	}
	return r
}

// testStore is the one suite every engine runs; open returns a fresh,
// empty store.
func testStore(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	t.Run("records", func(t *testing.T) {
		s := open(t)
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		rec := record("a", "app", nil)
		rec.ErrorCodes = []string{"ErrSubjectMismatch"}
		rec.Passed = false
		got, stored, err := s.PutRecord(ctx, rec, t0)
		if err != nil || !stored {
			t.Fatalf("PutRecord: stored=%v err=%v", stored, err)
		}
		again, stored, err := s.PutRecord(ctx, record("a", "app", nil), t0)
		if err != nil || stored {
			t.Fatalf("second PutRecord of the same id: stored=%v err=%v", stored, err)
		}
		if again.Passed || again.ErrorCodes[0] != "ErrSubjectMismatch" {
			t.Fatalf("the stored verdict was not returned: %+v", again)
		}
		back, err := s.GetRecord(ctx, got.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(back.Provenance.Body) != "prov a" || string(back.VSA.Body) != "vsa a" || len(back.Attestations) != 1 || string(back.Attestations[0].Body) != "vsa in a" {
			t.Fatalf("documents: %+v", back)
		}
		if !back.VerifiedAt.Equal(t0) || len(back.Subjects) != 1 {
			t.Fatalf("record: %+v", back)
		}
		if _, err := s.GetRecord(ctx, digest("nope")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing record: %v", err)
		}
		d, err := s.GetDocument(ctx, rec.Provenance.Digest)
		if err != nil || string(d.Body) != "prov a" || d.Kind != store.KindProvenance {
			t.Fatalf("GetDocument: %v %+v", err, d)
		}
		// Shared documents are stored once; a second record refers to them.
		r2 := record("b", "app", nil)
		r2.Provenance = rec.Provenance
		if _, _, err := s.PutRecord(ctx, r2, t0); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListRecords(ctx, store.Query{Package: "app"})
		if err != nil || len(list) != 2 || list[0].ID != rec.ID || list[1].Seq <= list[0].Seq {
			t.Fatalf("by package: %v %+v", err, list)
		}
		list, err = s.ListRecords(ctx, store.Query{Subject: digest("artifact b")})
		if err != nil || len(list) != 1 || list[0].ID != r2.ID {
			t.Fatalf("by subject: %v %+v", err, list)
		}
		list, err = s.ListRecords(ctx, store.Query{Package: "app", After: list[0].Seq - 1, Limit: 1})
		if err != nil || len(list) != 1 || list[0].ID != r2.ID {
			t.Fatalf("page: %v %+v", err, list)
		}
		if list, _ := s.ListRecords(ctx, store.Query{Package: "other"}); len(list) != 0 {
			t.Fatalf("other package: %+v", list)
		}
	})
	t.Run("first-use pin", func(t *testing.T) {
		s := open(t)
		e := entry("https://builder/a")
		if _, _, err := s.PutRecord(ctx, record("first", "app", &e), t0); err != nil {
			t.Fatal(err)
		}
		pin, err := s.GetPin(ctx, "app")
		if err != nil || pin.Version != 1 || pin.Entry.BuilderID != "https://builder/a" {
			t.Fatalf("pin: %v %+v", err, pin)
		}
		// A second first use, computed without the pin, loses.
		e2 := entry("https://builder/b")
		if _, _, err := s.PutRecord(ctx, record("second", "app", &e2), t0); !errors.Is(err, store.ErrPinConflict) {
			t.Fatalf("second first use: %v", err)
		}
		if _, err := s.GetRecord(ctx, digest("second")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the losing record was stored: %v", err)
		}
		// A verdict computed against version 1 is stored while it holds.
		r := record("third", "app", nil)
		r.ExpectPin, r.PinVersion = 1, 1
		if _, _, err := s.PutRecord(ctx, r, t0); err != nil {
			t.Fatal(err)
		}
		if _, created, err := s.PinFirstUse(ctx, "app", e2, "cli", t0); err != nil || created {
			t.Fatalf("PinFirstUse on a pinned package: created=%v %v", created, err)
		}
		if p, created, err := s.PinFirstUse(ctx, "lib", e2, "cli", t0); err != nil || !created || p.Entry.BuilderID != "https://builder/b" {
			t.Fatalf("PinFirstUse: created=%v %v", created, err)
		}
		pins, err := s.ListPins(ctx)
		if err != nil || len(pins) != 2 {
			t.Fatalf("ListPins: %v %+v", err, pins)
		}
		audit, err := s.Audit(ctx, 0, 0)
		if err != nil || len(audit) != 2 || audit[0].Event != "first-use" || audit[1].Package != "lib" {
			t.Fatalf("audit: %v %+v", err, audit)
		}

		// The pin and the record stored under its version, in one look-up.
		candidates := []string{digest("third"), digest("first"), digest("absent")}
		for _, c := range []struct {
			pkg     string
			ids     []string
			version int64
			found   string
		}{
			{"app", candidates, 1, digest("first")}, // "third" too is at version 1: either
			{"app", candidates[2:], 1, ""},
			{"app", nil, 1, ""},
			{"new", candidates, 0, ""},
		} {
			pin, found, err := s.LookupUpload(ctx, c.pkg, c.ids)
			version := int64(0)
			if pin != nil {
				version = pin.Version
			}
			if err != nil || version != c.version || (found == "") != (c.found == "") {
				t.Errorf("LookupUpload(%s, %d ids): version %d, %q, %v", c.pkg, len(c.ids), version, found, err)
			}
		}
		if _, err := s.(*store.DB).ReplacePin(ctx, "app", 1, e2, "cli", t0); err != nil {
			t.Fatal(err)
		}
		if pin, found, err := s.LookupUpload(ctx, "app", candidates); err != nil || pin.Version != 2 || found != "" {
			t.Fatalf("after the pin changed: %+v %q %v", pin, found, err)
		}
	})
	t.Run("proposals", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.PinFirstUse(ctx, "app", entry("https://builder/a"), "cli", t0); err != nil {
			t.Fatal(err)
		}
		p := &store.Proposal{ID: digest("p1"), Package: "app", BaseVersion: 1, Entry: entry("https://builder/b"), Payload: []byte("payload"), ProposedBy: "token:ci", CreatedAt: t0}
		if err := s.Propose(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := s.Propose(ctx, p); err != nil {
			t.Fatalf("proposing twice: %v", err)
		}
		got, applied, err := s.Approve(ctx, p.ID, store.Approval{KeyFingerprint: "alice", Envelope: []byte("e1"), At: t0}, 2)
		if err != nil || applied || len(got.Approvals) != 1 {
			t.Fatalf("first approval: applied=%v %v", applied, err)
		}
		// The same key again does not count twice.
		got, applied, err = s.Approve(ctx, p.ID, store.Approval{KeyFingerprint: "alice", Envelope: []byte("e1"), At: t0}, 2)
		if err != nil || applied || len(got.Approvals) != 1 {
			t.Fatalf("same key twice: applied=%v approvals=%d %v", applied, len(got.Approvals), err)
		}
		got, applied, err = s.Approve(ctx, p.ID, store.Approval{KeyFingerprint: "bob", Envelope: []byte("e2"), At: t0}, 2)
		if err != nil || !applied || got.AppliedAt == nil {
			t.Fatalf("second key: applied=%v %v", applied, err)
		}
		pin, _ := s.GetPin(ctx, "app")
		if pin.Version != 2 || pin.Entry.BuilderID != "https://builder/b" {
			t.Fatalf("pin after apply: %+v", pin)
		}
		if _, _, err := s.Approve(ctx, p.ID, store.Approval{KeyFingerprint: "carol", Envelope: []byte("e3"), At: t0}, 2); !errors.Is(err, store.ErrProposalApplied) {
			t.Fatalf("approving an applied proposal: %v", err)
		}
		// A proposal against version 1 cannot apply on version 2.
		old := &store.Proposal{ID: digest("p0"), Package: "app", BaseVersion: 1, Entry: entry("https://builder/c"), Payload: []byte("old"), ProposedBy: "token:ci", CreatedAt: t0}
		if err := s.Propose(ctx, old); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Approve(ctx, old.ID, store.Approval{KeyFingerprint: "alice", Envelope: []byte("e"), At: t0}, 1); !errors.Is(err, store.ErrProposalStale) {
			t.Fatalf("stale proposal: %v", err)
		}
		if pin, _ := s.GetPin(ctx, "app"); pin.Entry.BuilderID != "https://builder/b" {
			t.Fatalf("a stale proposal changed the pin: %+v", pin)
		}
		events := []string{}
		audit, _ := s.Audit(ctx, 0, 0)
		for _, e := range audit {
			events = append(events, e.Event)
		}
		if fmt.Sprint(events) != "[first-use proposed approved approved applied proposed]" {
			t.Fatalf("audit events: %v", events)
		}
		if _, err := s.GetProposal(ctx, digest("none")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing proposal: %v", err)
		}
	})
	t.Run("audit is append-only", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.PinFirstUse(ctx, "app", entry("https://builder/a"), "cli", t0); err != nil {
			t.Fatal(err)
		}
		db := s.(*store.DB).SQL()
		if _, err := db.ExecContext(ctx, `UPDATE audit SET actor = 'mallory'`); err == nil {
			t.Fatal("an audit entry was changed")
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM audit`); err == nil {
			t.Fatal("an audit entry was deleted")
		}
		if a, _ := s.Audit(ctx, 0, 0); len(a) != 1 || a[0].Actor != "cli" {
			t.Fatalf("audit: %+v", a)
		}
	})
	t.Run("TOFUStore", func(t *testing.T) {
		// The interface trustmap verify --tofu-store uses: 20 writers on
		// 20 new packages keep 20 pins; 20 on one package see each other.
		s := open(t).(trustmap.TOFUStore)
		var wg sync.WaitGroup
		var mu sync.Mutex
		firsts := 0
		for i := range 20 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				e := entry(fmt.Sprintf("https://builder/%d", i))
				if err := s.UpdatePackage(ctx, fmt.Sprintf("p%d", i), func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) { return &e, nil }); err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				e := entry(fmt.Sprintf("https://builder/%d", i))
				err := s.UpdatePackage(ctx, "one", func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
					if cur != nil {
						return nil, nil
					}
					mu.Lock()
					firsts++
					mu.Unlock()
					return &e, nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		pins, err := s.(store.Store).ListPins(ctx)
		if err != nil || len(pins) != 21 {
			t.Fatalf("%d pins, want 21: %v", len(pins), err)
		}
		if firsts != 1 {
			t.Fatalf("%d writers saw no pin for one package", firsts)
		}
		// An error from fn changes nothing.
		boom := errors.New("boom")
		if err := s.UpdatePackage(ctx, "one", func(*trustmap.TOFUEntry) (*trustmap.TOFUEntry, error) {
			return &trustmap.TOFUEntry{BuilderID: "x"}, boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if p, _ := s.(store.Store).GetPin(ctx, "one"); p.Entry.BuilderID == "x" || p.Version != 1 {
			t.Fatalf("pin changed by a failed update: %+v", p)
		}
	})
	t.Run("group commit", func(t *testing.T) { groupCommit(t, open(t)) })
	t.Run("group commit survives a panic", func(t *testing.T) { groupPanic(t, open(t)) })
	t.Run("concurrent first uses", func(t *testing.T) {
		s := open(t)
		concurrentPins(t, []store.Store{s}, 50)
	})
}

// putOutcome is what one PutRecord of a group returned.
type putOutcome struct {
	stored, visible bool
	err             error
}

// putAsGroup puts recs[0] and holds the writer with it while the others
// queue, so that they are written as one group; it returns each outcome
// and the size of the group. visible reports that another connection saw
// the record when PutRecord returned.
func putAsGroup(t *testing.T, s store.Store, recs []*store.Record) ([]putOutcome, int) {
	t.Helper()
	db := s.(*store.DB)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	var sizes []int
	store.SetBeforeGroup(db, func(n int) {
		sizes = append(sizes, n)
		if len(sizes) == 1 {
			close(held)
			<-release
		}
	})
	defer store.SetBeforeGroup(db, nil)
	out := make([]putOutcome, len(recs))
	var wg sync.WaitGroup
	put := func(i int) {
		wg.Go(func() {
			got, stored, err := s.PutRecord(ctx, recs[i], t0)
			o := putOutcome{stored: stored, err: err}
			if err == nil {
				_, gerr := s.GetRecord(ctx, recs[i].ID)
				o.visible = gerr == nil && got.ID == recs[i].ID
			}
			out[i] = o
		})
	}
	put(0)
	<-held
	for i := 1; i < len(recs); i++ {
		put(i)
	}
	for store.Queued(db) < len(recs)-1 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if len(sizes) < 2 {
		t.Fatalf("groups of %v, expected 2 or more", sizes)
	}
	return out, sizes[1]
}

// groupCommit checks that records put concurrently and written as one
// group are each stored and visible when their PutRecord returns; that of
// two first uses of one package, one pins it and the other alone is
// refused (ErrPinConflict); and that a record identical to another of the
// group, or to one stored before, is answered with the stored one.
func groupCommit(t *testing.T, s store.Store) {
	e := entry("https://builder/x")
	e1, e2 := entry("https://builder/1"), entry("https://builder/2")
	recs := []*store.Record{record("lead", "lead", &e)}
	for i := range 8 {
		recs = append(recs, record(fmt.Sprintf("new-%d", i), fmt.Sprintf("new-%d", i), &e))
	}
	recs = append(recs, record("contested-1", "contested", &e1), record("contested-2", "contested", &e2),
		record("twice", "twice", nil), record("twice", "twice", nil))
	out, size := putAsGroup(t, s, recs)
	if size != len(recs)-1 {
		t.Fatalf("a group of %d, expected %d", size, len(recs)-1)
	}
	conflicts, storedTwice := 0, 0
	for i, o := range out {
		pkg := recs[i].Package
		switch {
		case errors.Is(o.err, store.ErrPinConflict) && pkg == "contested":
			conflicts++
		case o.err != nil:
			t.Errorf("%s: %v", pkg, o.err)
		case !o.visible:
			t.Errorf("%s: answered before its record was visible", pkg)
		case pkg == "twice":
			if o.stored {
				storedTwice++
			}
		case !o.stored:
			t.Errorf("%s: not stored", pkg)
		}
	}
	if conflicts != 1 || storedTwice != 1 {
		t.Fatalf("%d of 2 first uses of one package refused, %d of 2 identical records stored; expected 1 and 1", conflicts, storedTwice)
	}
	if pins, err := s.ListPins(context.Background()); err != nil || len(pins) != 1+8+1 {
		t.Fatalf("%d pins (%v), expected 10", len(pins), err)
	}

	// A record stored before, in a group: the group is written one record
	// per transaction, with the same outcomes.
	recs = []*store.Record{record("lead-2", "later", nil), record("twice", "twice", nil), record("new-a", "new-a", &e), record("new-b", "", nil)}
	out, _ = putAsGroup(t, s, recs)
	for i, o := range out {
		if o.err != nil || !o.visible || o.stored != (recs[i].ID != digest("twice")) {
			t.Errorf("%s: stored=%v visible=%v err=%v", recs[i].Package, o.stored, o.visible, o.err)
		}
	}
}

// concurrentPins runs n first uses of one new package and n of n different
// packages, spread over the stores (replicas of one database): exactly one
// pin for the first, n for the second, none lost.
func concurrentPins(t *testing.T, replicas []store.Store, n int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		s := replicas[i%len(replicas)]
		go func() {
			defer wg.Done()
			e := entry(fmt.Sprintf("https://builder/%d", i))
			_, _, err := s.PutRecord(ctx, record(fmt.Sprintf("same-%d", i), "same", &e), t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrPinConflict):
				lost++
			default:
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			e := entry("https://builder/x")
			if _, _, err := s.PutRecord(ctx, record(fmt.Sprintf("pkg-%d", i), fmt.Sprintf("pkg-%d", i), &e), t0); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if won != 1 || lost != n-1 {
		t.Fatalf("%d uploads of one new package: %d pinned, %d refused; expected 1 and %d", n, won, lost, n-1)
	}
	pins, err := replicas[0].ListPins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != n+1 {
		t.Fatalf("%d pins, expected %d", len(pins), n+1)
	}
	audit, err := replicas[0].Audit(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	firstUses := 0
	for {
		for _, a := range audit {
			if a.Event == "first-use" {
				firstUses++
			}
		}
		if len(audit) < store.MaxListLimit {
			break
		}
		if audit, err = replicas[0].Audit(ctx, audit[len(audit)-1].Seq, 0); err != nil {
			t.Fatal(err)
		}
	}
	if firstUses != n+1 {
		t.Fatalf("%d first-use audit entries, expected %d", firstUses, n+1)
	}
}

// groupPanic: should writing a group panic (net/http recovers a handler's
// panic and serves on), the caller that held the writer's turn sees the
// panic, every other call of the group is answered with an error rather
// than waiting for ever, and the next PutRecord is stored.
func groupPanic(t *testing.T, s store.Store) {
	db := s.(*store.DB)
	ctx := context.Background()
	held, release := make(chan struct{}), make(chan struct{})
	calls := 0
	store.SetBeforeGroup(db, func(n int) {
		calls++
		switch calls {
		case 1:
			close(held)
			<-release
		case 2:
			panic("injected")
		}
	})
	defer store.SetBeforeGroup(db, nil)
	recs := []*store.Record{record("p-lead", "p-lead", nil), record("p-1", "p-1", nil), record("p-2", "p-2", nil)}
	errs := make([]error, len(recs))
	panics := make([]any, len(recs))
	var wg sync.WaitGroup
	put := func(i int) {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			_, _, errs[i] = s.PutRecord(ctx, recs[i], t0)
		})
	}
	put(0)
	<-held
	put(1)
	put(2)
	for store.Queued(db) < 2 {
		runtime.Gosched()
	}
	close(release)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("PutRecord calls still waiting after a group panicked")
	}
	// The caller holding the turn may be any of the three (the first one,
	// stored already, may take the next turn too).
	seen := 0
	for i := range recs {
		switch {
		case panics[i] != nil:
			seen++
		case i == 0 && errs[i] != nil:
			t.Errorf("the first group: %v", errs[i])
		case i > 0 && !errors.Is(errs[i], store.ErrUnavailable):
			t.Errorf("%s: expected ErrUnavailable, got %v", recs[i].Package, errs[i])
		}
	}
	if seen != 1 {
		t.Fatalf("%d callers saw the panic, expected 1", seen)
	}
	if _, stored, err := s.PutRecord(ctx, record("p-after", "p-after", nil), t0); err != nil || !stored {
		t.Fatalf("after the panic: stored=%v, %v", stored, err)
	}
}
