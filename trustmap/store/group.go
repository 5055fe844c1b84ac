package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Group commit: records put concurrently are written together, in one
// transaction, by whichever caller takes the writer's turn; each caller
// returns once that transaction has committed. A record that conflicts with
// a pin is left out of the group (nothing of it is written) and reported to
// its own caller alone; the others are stored.

// errSplitGroup asks for a group's records to be written one per
// transaction.
var errSplitGroup = errors.New("split the group")

// maxGroup bounds the records of one transaction.
const maxGroup = 64

// pendingPut is one PutRecord call waiting for its group's commit.
type pendingPut struct {
	ctx  context.Context
	rec  *Record
	at   time.Time
	done chan struct{} // closed when stored and err are set
	// answered is set when done is closed (by the writer holding the turn).
	answered bool
	// stored is false when a record with the same ID existed already.
	stored bool
	err    error
}

// committer queues PutRecord calls and lets one caller at a time write
// every call queued.
type committer struct {
	turn  chan struct{} // held by the caller writing a group
	mu    sync.Mutex
	queue []*pendingPut
	// beforeGroup, when set (tests), runs before a group is written.
	beforeGroup func(n int)
}

func newCommitter() *committer { return &committer{turn: make(chan struct{}, 1)} }

// put queues p and returns once it has been written by a group (or has
// left the queue because its context ended before that).
func (c *committer) put(p *pendingPut, write func([]*pendingPut)) {
	c.mu.Lock()
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	for {
		select {
		case <-p.done:
			return
		case c.turn <- struct{}{}:
			c.writeTurn(write)
		case <-p.ctx.Done():
			if c.remove(p) {
				p.err = p.ctx.Err()
				return
			}
			<-p.done // being written: its outcome is the answer
			return
		}
	}
}

// writeTurn writes the calls queued, holding the writer's turn. Should
// writing panic (net/http recovers a handler's panic), the turn is given
// back and every call of the group is answered with an error, so that no
// later call waits for ever.
func (c *committer) writeTurn(write func([]*pendingPut)) {
	defer func() { <-c.turn }()
	group := c.take()
	if len(group) == 0 {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			for _, p := range group {
				p.finish(fmt.Errorf("%w: archiving failed: %v", ErrUnavailable, r))
			}
			panic(r)
		}
	}()
	if c.beforeGroup != nil {
		c.beforeGroup(len(group))
	}
	write(group)
}

// finish answers p once: later calls do nothing (only the writer holding
// the turn answers the calls of its group).
func (p *pendingPut) finish(err error) {
	if p.answered {
		return
	}
	if err != nil {
		p.err, p.stored = err, false
	}
	p.answered = true
	close(p.done)
}

// take removes up to maxGroup calls from the queue; those whose context
// has ended are answered with its error instead.
func (c *committer) take() []*pendingPut {
	c.mu.Lock()
	defer c.mu.Unlock()
	var group []*pendingPut
	n := 0
	for _, p := range c.queue {
		if len(group) == maxGroup {
			c.queue[n] = p
			n++
			continue
		}
		if err := p.ctx.Err(); err != nil {
			p.finish(err)
			continue
		}
		group = append(group, p)
	}
	clear(c.queue[n:])
	c.queue = c.queue[:n]
	return group
}

// remove takes p out of the queue, reporting whether it was still there.
func (c *committer) remove(p *pendingPut) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.queue, p)
	if i < 0 {
		return false
	}
	c.queue = slices.Delete(c.queue, i, i+1)
	return true
}

// groupContext is the context of a group's transaction: no member's
// cancellation stops the others', and it ends at the latest deadline of
// its members (none if one has none).
func groupContext(group []*pendingPut) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(group[0].ctx)
	var latest time.Time
	for _, p := range group {
		d, ok := p.ctx.Deadline()
		if !ok {
			return ctx, func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}

// writeGroup stores a group in one transaction and answers each member.
func (d *DB) writeGroup(group []*pendingPut) {
	ctx, cancel := groupContext(group)
	defer cancel()
	// Every transaction takes its row locks in one order (pins by
	// package, documents by digest, records by ID), so that two replicas'
	// groups on PostgreSQL cannot deadlock.
	slices.SortStableFunc(group, func(a, b *pendingPut) int { return cmp.Compare(a.rec.Package, b.rec.Package) })
	var stored []*pendingPut
	err := d.tx(ctx, func(tx *sql.Tx) error {
		for _, p := range group {
			p.err, p.stored = nil, false
		}
		accepted, err := d.checkPins(ctx, tx, group)
		if err != nil {
			return err
		}
		if stored, err = d.insertRecords(ctx, tx, accepted); err != nil {
			return err
		}
		for _, p := range stored {
			p.stored = true
		}
		return nil
	})
	if errors.Is(err, errSplitGroup) {
		for _, p := range group {
			d.writeGroup([]*pendingPut{p})
		}
		return
	}
	for _, p := range group {
		p.finish(err)
	}
	d.wstmts.prepareMissed(context.WithoutCancel(ctx))
}

// checkPins checks that each record's package is still at the pin version
// the verdict was computed against, and creates the first-use pins; it
// returns the records that may be stored. The others get ErrPinConflict:
// nothing of theirs is written.
func (d *DB) checkPins(ctx context.Context, tx *sql.Tx, group []*pendingPut) ([]*pendingPut, error) {
	var pkgs []string
	for _, p := range group {
		if p.rec.Package != "" && (len(pkgs) == 0 || pkgs[len(pkgs)-1] != p.rec.Package) {
			pkgs = append(pkgs, p.rec.Package)
		}
	}
	versions, err := d.pinVersions(ctx, tx, pkgs)
	if err != nil {
		return nil, err
	}
	var accepted []*pendingPut
	for _, p := range group {
		rec := p.rec
		if rec.Package == "" {
			accepted = append(accepted, p)
			continue
		}
		// A SQLite write transaction holds the whole database; on
		// PostgreSQL the pin rows read are locked until commit.
		if cur := versions[rec.Package]; cur != rec.ExpectPin {
			p.err = fmt.Errorf("%w: package %q: expected pin version %d, found %d", ErrPinConflict, rec.Package, rec.ExpectPin, cur)
			continue
		}
		if rec.NewPin != nil {
			created, err := d.insertPin(ctx, tx, rec.Package, *rec.NewPin, p.at)
			if err != nil {
				return nil, err
			}
			if !created {
				p.err = fmt.Errorf("%w: package %q was pinned by another upload", ErrPinConflict, rec.Package)
				continue
			}
			versions[rec.Package] = 1
			if err := d.appendAudit(ctx, tx, p.at, "first-use", rec.Package, rec.Actor, map[string]any{"record": rec.ID, "expectations": rec.NewPin}); err != nil {
				return nil, err
			}
		}
		accepted = append(accepted, p)
	}
	return accepted, nil
}

// pinVersions returns the current pin version of each package (absent: no
// pin), locking the pins read on PostgreSQL. pkgs are sorted.
func (d *DB) pinVersions(ctx context.Context, tx *sql.Tx, pkgs []string) (map[string]int64, error) {
	versions := map[string]int64{}
	for chunk := range slices.Chunk(pkgs, maxRowsPerStatement) {
		q := `SELECT package, version FROM pins WHERE package IN (` + placeholders(1, len(chunk), 1) + `) ORDER BY package`
		if d.postgres {
			q += ` FOR SHARE`
		}
		rows, err := d.txQuery(ctx, tx, q, anys(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pkg string
			var v int64
			if err := rows.Scan(&pkg, &v); err != nil {
				rows.Close()
				return nil, err
			}
			versions[pkg] = v
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return versions, nil
}

// insertRecords writes the documents, records, subjects and attestation
// links of the accepted records with multi-row statements, and returns the
// records stored (not those whose ID existed already).
func (d *DB) insertRecords(ctx context.Context, tx *sql.Tx, accepted []*pendingPut) ([]*pendingPut, error) {
	docs := map[string]Document{}
	for _, p := range accepted {
		for _, doc := range append([]Document{p.rec.Provenance, p.rec.Result, p.rec.VSA}, p.rec.Attestations...) {
			if _, seen := docs[doc.Digest]; !seen && doc.Digest != "" {
				docs[doc.Digest] = doc
			}
		}
	}
	var docArgs [][]any
	for _, digest := range slices.Sorted(maps.Keys(docs)) {
		doc := docs[digest]
		docArgs = append(docArgs, []any{doc.Digest, doc.Kind, doc.Body})
	}
	if err := d.insertRows(ctx, tx, qInsertDocuments, ` ON CONFLICT (digest) DO NOTHING`, docArgs); err != nil {
		return nil, err
	}
	// One row per record ID: an identical upload in the same group finds
	// the record stored by the first.
	byID := map[string]*pendingPut{}
	var recArgs [][]any
	for _, p := range accepted {
		rec := p.rec
		if _, dup := byID[rec.ID]; dup {
			continue
		}
		byID[rec.ID] = p
		codes, err := json.Marshal(nonNil(rec.ErrorCodes))
		if err != nil {
			return nil, err
		}
		recArgs = append(recArgs, []any{rec.ID, rec.Package, ts(rec.VerifiedAt), rec.Passed, rec.Level, string(codes), rec.Provenance.Digest, rec.Result.Digest, rec.VSA.Digest, rec.PinVersion})
	}
	slices.SortFunc(recArgs, func(a, b []any) int { return strings.Compare(a[0].(string), b[0].(string)) })
	var stored []*pendingPut
	for chunk := range slices.Chunk(recArgs, maxRowsPerStatement) {
		res, err := d.txExec(ctx, tx, qInsertRecords+placeholders(1, len(chunk), len(chunk[0]))+` ON CONFLICT (id) DO NOTHING`, flatten(chunk)...)
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		switch {
		case int(n) == len(chunk):
			for _, row := range chunk {
				stored = append(stored, byID[row[0].(string)])
			}
		case len(recArgs) > 1:
			// Some records existed already (identical uploads stored
			// concurrently); which ones, each record alone will tell.
			return nil, errSplitGroup
		}
	}
	var subjArgs, attArgs [][]any
	for _, p := range stored {
		for _, s := range p.rec.Subjects {
			subjArgs = append(subjArgs, []any{p.rec.ID, s.Digest, s.Name})
		}
		for i, a := range p.rec.Attestations {
			attArgs = append(attArgs, []any{p.rec.ID, i, a.Digest})
		}
	}
	if err := d.insertRows(ctx, tx, qInsertSubjects, ` ON CONFLICT DO NOTHING`, subjArgs); err != nil {
		return nil, err
	}
	if err := d.insertRows(ctx, tx, qInsertAttestations, ``, attArgs); err != nil {
		return nil, err
	}
	return stored, nil
}

// The multi-row statements of a group: prefix, then a VALUES row per item.
const (
	qInsertDocuments    = `INSERT INTO documents (digest, kind, body) VALUES `
	qInsertRecords      = `INSERT INTO records (id, package, verified_at, passed, level, error_codes, provenance, result, vsa, pin_version) VALUES `
	qInsertSubjects     = `INSERT INTO record_subjects (record, digest, name) VALUES `
	qInsertAttestations = `INSERT INTO record_attestations (record, position, digest) VALUES `
)

// maxRowsPerStatement bounds the rows of one multi-row statement, and so
// the number of distinct statements prepared.
const maxRowsPerStatement = 16

// insertRows runs prefix VALUES (...), (...) suffix over rows, in chunks.
func (d *DB) insertRows(ctx context.Context, tx *sql.Tx, prefix, suffix string, rows [][]any) error {
	for chunk := range slices.Chunk(rows, maxRowsPerStatement) {
		if _, err := d.txExec(ctx, tx, prefix+placeholders(1, len(chunk), len(chunk[0]))+suffix, flatten(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders is "($1, $2), ($3, $4)" for 2 rows of 2 columns from $1;
// one column gives "$1, $2".
func placeholders(first, rows, cols int) string {
	var b strings.Builder
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		if cols > 1 {
			b.WriteByte('(')
		}
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
		if cols > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

func flatten(rows [][]any) []any {
	var out []any
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
