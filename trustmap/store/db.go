package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/hallmark-build/hallmark/trustmap"
)

// DB is a Store over database/sql: SQLite or PostgreSQL.
type DB struct {
	db       *sql.DB // reads
	w        *sql.DB // writes (the same pool on PostgreSQL)
	postgres bool
	// Prepared statements of the upload path on SQLite, whose driver
	// would otherwise compile each statement at every call (pgx keeps a
	// statement cache per connection itself). nil on PostgreSQL.
	rstmts, wstmts *stmtCache
	group          *committer // PutRecord's group commit
}

// stmtCache prepares each query once on a pool; database/sql prepares it
// again on each connection of the pool that runs it.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// missed are statements a transaction ran unprepared, prepared after
	// it (prepareMissed).
	missed map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	if c.m == nil {
		return nil, sql.ErrConnDone
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// errRow is a row whose query could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// prepared is a statement prepared when the store opened (wstmts):
// preparing on the pool inside a transaction would wait for the one
// writer connection the transaction holds.
func (c *stmtCache) prepared(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// miss records that a transaction ran q unprepared.
func (c *stmtCache) miss(q string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.missed == nil {
		c.missed = map[string]bool{}
	}
	c.missed[q] = true
}

// prepareMissed prepares the statements transactions ran unprepared; it is
// called outside any transaction. A failure leaves them unprepared.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	missed := c.missed
	c.missed = nil
	c.mu.Unlock()
	for q := range missed {
		c.get(ctx, q)
	}
}

// txExec runs a statement of a write transaction, prepared once on SQLite.
func (d *DB) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := d.wstmts.prepared(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	d.wstmts.miss(q)
	return tx.ExecContext(ctx, q, args...)
}

// txQuery reads rows in a write transaction.
func (d *DB) txQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := d.wstmts.prepared(q); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	d.wstmts.miss(q)
	return tx.QueryContext(ctx, q, args...)
}

// queryRow reads one row from the read pool.
func (d *DB) queryRow(ctx context.Context, q string, args ...any) scanner {
	if d.rstmts == nil {
		return d.db.QueryRowContext(ctx, q, args...)
	}
	st, err := d.rstmts.get(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query reads rows from the read pool.
func (d *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if d.rstmts == nil {
		return d.db.QueryContext(ctx, q, args...)
	}
	st, err := d.rstmts.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// IsURI reports whether s names a database store (sqlite:PATH or
// postgres://...) rather than a file.
func IsURI(s string) bool {
	return strings.HasPrefix(s, "sqlite:") || strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the store named by uri and creates or upgrades its
// schema:
//
//	sqlite:PATH                    a file (created if absent)
//	sqlite::memory:                a private in-memory database (tests)
//	postgres://user@host:port/db   PostgreSQL (any libpq URL pgx accepts)
func Open(ctx context.Context, uri string) (*DB, error) {
	var d *DB
	switch {
	case strings.HasPrefix(uri, "sqlite:"):
		path := strings.TrimPrefix(uri, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("%w: sqlite: needs a path (sqlite:gate.db)", ErrBadURI)
		}
		// WAL lets readers run beside the writer. Writes go through one
		// connection, so writers of this process queue in Go instead of
		// sleeping in SQLite's busy handler; they take the lock at BEGIN
		// (immediate), and busy_timeout makes another process's writers
		// wait for it instead of failing.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		if path != ":memory:" {
			q.Add("_pragma", "journal_mode(WAL)")
		}
		q.Set("_txlock", "immediate")
		dsn := "file:" + path + "?" + q.Encode()
		w, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		w.SetMaxOpenConns(1)
		d = &DB{db: w, w: w, wstmts: newStmtCache(w)}
		d.rstmts = d.wstmts
		if path != ":memory:" { // one connection is one in-memory database
			r, err := sql.Open("sqlite", dsn)
			if err != nil {
				w.Close()
				return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			r.SetMaxOpenConns(8)
			r.SetMaxIdleConns(8)
			d.db = r
			d.rstmts = newStmtCache(r)
		}
	case strings.HasPrefix(uri, "postgres://") || strings.HasPrefix(uri, "postgresql://"):
		db, err := sql.Open("pgx", uri)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadURI, err)
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		d = &DB{db: db, w: db, postgres: true}
	default:
		return nil, fmt.Errorf("%w: expected sqlite:PATH or postgres://..., got %q", ErrBadURI, Redact(uri))
	}
	d.group = newCommitter()
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if d.wstmts != nil {
		for _, q := range []string{qInsertPin, qAppendAudit} {
			if _, err := d.wstmts.get(ctx, q); err != nil {
				d.Close()
				return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
		}
	}
	return d, nil
}

// Redact drops a password from a store URI before it reaches a message.
func Redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		if i := strings.Index(uri, "@"); i >= 0 {
			return "…" + uri[i:]
		}
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close releases the database.
func (d *DB) Close() error {
	if d.rstmts != d.wstmts {
		d.rstmts.close()
	}
	d.wstmts.close()
	err := d.db.Close()
	if d.w != d.db {
		if werr := d.w.Close(); err == nil {
			err = werr
		}
	}
	return err
}

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var one int
	if err := d.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// SQL handle for tests that inspect the tables.
func (d *DB) SQL() *sql.DB { return d.db }

const schemaVersion = 1

func (d *DB) migrate(ctx context.Context) error {
	blob, serial := "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d.postgres {
		blob, serial = "BYTEA", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS documents (
			digest TEXT PRIMARY KEY,
			kind TEXT NOT NULL,
			body ` + blob + ` NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS records (
			seq ` + serial + `,
			id TEXT NOT NULL UNIQUE,
			package TEXT NOT NULL,
			verified_at TEXT NOT NULL,
			passed BOOLEAN NOT NULL,
			level INTEGER NOT NULL,
			error_codes TEXT NOT NULL,
			provenance TEXT NOT NULL REFERENCES documents(digest),
			result TEXT NOT NULL REFERENCES documents(digest),
			vsa TEXT NOT NULL REFERENCES documents(digest),
			pin_version BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS records_package ON records(package, seq)`,
		`CREATE TABLE IF NOT EXISTS record_subjects (
			record TEXT NOT NULL REFERENCES records(id),
			digest TEXT NOT NULL,
			name TEXT NOT NULL,
			PRIMARY KEY (record, digest, name))`,
		`CREATE INDEX IF NOT EXISTS record_subjects_digest ON record_subjects(digest)`,
		`CREATE TABLE IF NOT EXISTS record_attestations (
			record TEXT NOT NULL REFERENCES records(id),
			position INTEGER NOT NULL,
			digest TEXT NOT NULL REFERENCES documents(digest),
			PRIMARY KEY (record, position))`,
		`CREATE TABLE IF NOT EXISTS pins (
			package TEXT PRIMARY KEY,
			entry TEXT NOT NULL,
			version BIGINT NOT NULL,
			updated_at TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS proposals (
			id TEXT PRIMARY KEY,
			package TEXT NOT NULL,
			base_version BIGINT NOT NULL,
			entry TEXT NOT NULL,
			payload ` + blob + ` NOT NULL,
			proposed_by TEXT NOT NULL,
			created_at TEXT NOT NULL,
			applied_at TEXT)`,
		`CREATE TABLE IF NOT EXISTS approvals (
			proposal TEXT NOT NULL REFERENCES proposals(id),
			key_fingerprint TEXT NOT NULL,
			envelope ` + blob + ` NOT NULL,
			at TEXT NOT NULL,
			PRIMARY KEY (proposal, key_fingerprint))`,
		`CREATE TABLE IF NOT EXISTS audit (
			seq ` + serial + `,
			at TEXT NOT NULL,
			event TEXT NOT NULL,
			package TEXT NOT NULL,
			actor TEXT NOT NULL,
			detail TEXT NOT NULL)`,
	}
	// The audit log is append-only in the database itself, whoever writes.
	if d.postgres {
		stmts = append(stmts,
			`CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
			BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql`,
			`CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
			FOR EACH ROW EXECUTE FUNCTION audit_append_only()`,
			`CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
			FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()`)
	} else {
		stmts = append(stmts,
			`CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
			BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`,
			`CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
			BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`)
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		if d.postgres {
			// Replicas starting together migrate one at a time.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7262837461)`); err != nil {
				return err
			}
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("schema: %v", err)
			}
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, schemaVersion)
			return err
		case err != nil:
			return err
		case v > schemaVersion:
			return fmt.Errorf("the database has schema version %d, this trustmap knows %d: upgrade trustmap", v, schemaVersion)
		}
		return nil
	})
}

// tx runs f in one transaction, committing if it returns nil.
func (d *DB) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return wrapDB(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %v", ErrUnavailable, err)
	}
	return nil
}

// wrapDB marks driver errors as ErrUnavailable and leaves ours alone.
func wrapDB(err error) error {
	for _, e := range []error{ErrNotFound, ErrPinConflict, ErrProposalApplied, ErrProposalStale, ErrUnavailable, context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// The statements of PutRecord that do not depend on a group's size,
// prepared when a SQLite store opens.
const (
	qInsertPin   = `INSERT INTO pins (package, entry, version, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT (package) DO NOTHING`
	qAppendAudit = `INSERT INTO audit (at, event, package, actor, detail) VALUES ($1, $2, $3, $4, $5)`
)

// PutRecord stores the record and its documents, and its first-use pin,
// in one transaction, which may hold other records put concurrently (group
// commit); it returns once that transaction has committed.
func (d *DB) PutRecord(ctx context.Context, rec *Record, at time.Time) (*Record, bool, error) {
	p := &pendingPut{ctx: ctx, rec: rec, at: at, done: make(chan struct{})}
	d.group.put(p, d.writeGroup)
	if p.err != nil {
		return nil, false, p.err
	}
	if p.stored {
		return rec, true, nil
	}
	got, err := d.GetRecord(ctx, rec.ID) // stored by a concurrent identical upload
	return got, false, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (d *DB) insertPin(ctx context.Context, tx *sql.Tx, pkg string, e trustmap.TOFUEntry, at time.Time) (bool, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return false, err
	}
	res, err := d.txExec(ctx, tx, qInsertPin, pkg, string(b), ts(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (d *DB) appendAudit(ctx context.Context, tx *sql.Tx, at time.Time, event, pkg, actor string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = d.txExec(ctx, tx, qAppendAudit, ts(at), event, pkg, actor, string(b))
	return err
}

type scanner interface{ Scan(...any) error }

const recordColumns = `r.seq, r.id, r.package, r.verified_at, r.passed, r.level, r.error_codes, r.provenance, r.result, r.vsa, r.pin_version`

func scanRecord(s scanner) (ListedRecord, error) {
	var r ListedRecord
	var at, codes string
	err := s.Scan(&r.Seq, &r.ID, &r.Package, &at, &r.Passed, &r.Level, &codes, &r.Provenance.Digest, &r.Result.Digest, &r.VSA.Digest, &r.PinVersion)
	if err != nil {
		return r, err
	}
	r.VerifiedAt = parseTS(at)
	json.Unmarshal([]byte(codes), &r.ErrorCodes)
	return r, nil
}

// GetRecord returns a record with its documents and subjects.
func (d *DB) GetRecord(ctx context.Context, id string) (*Record, error) {
	r, err := scanRecord(d.queryRow(ctx, `SELECT `+recordColumns+` FROM records r WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: record %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, wrapDB(err)
	}
	if err := d.fill(ctx, &r.Record); err != nil {
		return nil, err
	}
	return &r.Record, nil
}

// fill loads a record's documents and subjects.
func (d *DB) fill(ctx context.Context, r *Record) error {
	for _, doc := range []*Document{&r.Provenance, &r.Result, &r.VSA} {
		got, err := d.GetDocument(ctx, doc.Digest)
		if err != nil {
			return err
		}
		*doc = *got
	}
	rows, err := d.query(ctx, `SELECT name, digest FROM record_subjects WHERE record = $1 ORDER BY name, digest`, r.ID)
	if err != nil {
		return wrapDB(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Subject
		if err := rows.Scan(&s.Name, &s.Digest); err != nil {
			return wrapDB(err)
		}
		r.Subjects = append(r.Subjects, s)
	}
	if err := rows.Err(); err != nil {
		return wrapDB(err)
	}
	rows.Close()
	arows, err := d.query(ctx, `SELECT a.digest, d.kind, d.body FROM record_attestations a JOIN documents d ON d.digest = a.digest WHERE a.record = $1 ORDER BY a.position`, r.ID)
	if err != nil {
		return wrapDB(err)
	}
	defer arows.Close()
	for arows.Next() {
		var doc Document
		if err := arows.Scan(&doc.Digest, &doc.Kind, &doc.Body); err != nil {
			return wrapDB(err)
		}
		r.Attestations = append(r.Attestations, doc)
	}
	return wrapNil(arows.Err())
}

func wrapNil(err error) error {
	if err == nil {
		return nil
	}
	return wrapDB(err)
}

// MaxListLimit bounds one page of ListRecords and Audit.
const MaxListLimit = 100

// ListRecords returns records by subject digest or package, oldest first.
func (d *DB) ListRecords(ctx context.Context, q Query) ([]ListedRecord, error) {
	if q.Limit <= 0 || q.Limit > MaxListLimit {
		q.Limit = MaxListLimit
	}
	var rows *sql.Rows
	var err error
	switch {
	case q.Subject != "" && q.Package != "":
		rows, err = d.db.QueryContext(ctx, `SELECT DISTINCT `+recordColumns+` FROM records r JOIN record_subjects s ON s.record = r.id
			WHERE s.digest = $1 AND r.package = $2 AND r.seq > $3 ORDER BY r.seq LIMIT $4`, q.Subject, q.Package, q.After, q.Limit)
	case q.Subject != "":
		rows, err = d.db.QueryContext(ctx, `SELECT DISTINCT `+recordColumns+` FROM records r JOIN record_subjects s ON s.record = r.id
			WHERE s.digest = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3`, q.Subject, q.After, q.Limit)
	case q.Package != "":
		rows, err = d.db.QueryContext(ctx, `SELECT `+recordColumns+` FROM records r WHERE r.package = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3`, q.Package, q.After, q.Limit)
	default:
		return nil, errors.New("a query needs a subject or a package")
	}
	if err != nil {
		return nil, wrapDB(err)
	}
	var out []ListedRecord
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			rows.Close()
			return nil, wrapDB(err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrapDB(err)
	}
	for i := range out {
		if err := d.fill(ctx, &out[i].Record); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetDocument returns an archived document by digest.
func (d *DB) GetDocument(ctx context.Context, digest string) (*Document, error) {
	doc := Document{Digest: digest}
	err := d.queryRow(ctx, `SELECT kind, body FROM documents WHERE digest = $1`, digest).Scan(&doc.Kind, &doc.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: document %s", ErrNotFound, digest)
	}
	if err != nil {
		return nil, wrapDB(err)
	}
	return &doc, nil
}

func scanPin(s scanner) (*Pin, error) {
	var pkg, entry, at string
	var version int64
	if err := s.Scan(&pkg, &entry, &version, &at); err != nil {
		return nil, err
	}
	return parsePin(pkg, entry, version, at)
}

func parsePin(pkg, entry string, version int64, at string) (*Pin, error) {
	p := Pin{Package: pkg, Version: version, UpdatedAt: parseTS(at)}
	if err := json.Unmarshal([]byte(entry), &p.Entry); err != nil {
		return nil, fmt.Errorf("pin %q: %w", p.Package, err)
	}
	return &p, nil
}

// GetPin returns a package's pin.
func (d *DB) GetPin(ctx context.Context, pkg string) (*Pin, error) {
	p, err := scanPin(d.queryRow(ctx, `SELECT package, entry, version, updated_at FROM pins WHERE package = $1`, pkg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no pin for package %q", ErrNotFound, pkg)
	}
	if err != nil {
		return nil, wrapDB(err)
	}
	return p, nil
}

// LookupUpload returns pkg's pin (nil: none) and, of the record IDs
// given, the one stored under the package's current pin version ("": none),
// in one query.
func (d *DB) LookupUpload(ctx context.Context, pkg string, ids []string) (*Pin, string, error) {
	if len(ids) == 0 {
		p, err := d.GetPin(ctx, pkg)
		if errors.Is(err, ErrNotFound) {
			return nil, "", nil
		}
		return p, "", err
	}
	var name, entry, at, id sql.NullString
	var version sql.NullInt64
	err := d.queryRow(ctx, `SELECT p.package, p.entry, p.version, p.updated_at, r.id FROM (SELECT 1) AS one
		LEFT JOIN pins p ON p.package = $1
		LEFT JOIN records r ON r.id IN (`+placeholders(2, len(ids), 1)+`) AND r.pin_version = COALESCE(p.version, 0)`,
		append([]any{pkg}, anys(ids)...)...).Scan(&name, &entry, &version, &at, &id)
	if err != nil {
		return nil, "", wrapDB(err)
	}
	if !name.Valid {
		return nil, id.String, nil
	}
	p, err := parsePin(name.String, entry.String, version.Int64, at.String)
	if err != nil {
		return nil, "", wrapDB(err)
	}
	return p, id.String, nil
}

// ListPins returns every pin.
func (d *DB) ListPins(ctx context.Context) ([]Pin, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT package, entry, version, updated_at FROM pins ORDER BY package`)
	if err != nil {
		return nil, wrapDB(err)
	}
	defer rows.Close()
	var out []Pin
	for rows.Next() {
		p, err := scanPin(rows)
		if err != nil {
			return nil, wrapDB(err)
		}
		out = append(out, *p)
	}
	return out, wrapNil(rows.Err())
}

// PinFirstUse records entry as pkg's pin if it has none.
func (d *DB) PinFirstUse(ctx context.Context, pkg string, entry trustmap.TOFUEntry, actor string, at time.Time) (*Pin, bool, error) {
	created := false
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if created, err = d.insertPin(ctx, tx, pkg, entry, at); err != nil || !created {
			return err
		}
		return d.appendAudit(ctx, tx, at, "first-use", pkg, actor, entry)
	})
	if err != nil {
		return nil, false, err
	}
	p, err := d.GetPin(ctx, pkg)
	return p, created, err
}

// ReplacePin sets pkg's pin to entry if its version is still expect (0: no
// pin), and writes the audit entry, in one transaction. It is how a change
// approved outside the service (trustmap expectations approve) is applied.
func (d *DB) ReplacePin(ctx context.Context, pkg string, expect int64, entry trustmap.TOFUEntry, actor string, at time.Time) (*Pin, error) {
	err := d.tx(ctx, func(tx *sql.Tx) error {
		return d.replacePin(ctx, tx, d.postgres, pkg, expect, entry, actor, "approved", at, nil)
	})
	if err != nil {
		return nil, err
	}
	return d.GetPin(ctx, pkg)
}

func (d *DB) replacePin(ctx context.Context, tx *sql.Tx, pg bool, pkg string, expect int64, entry trustmap.TOFUEntry, actor, event string, at time.Time, detail any) error {
	b, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	var res sql.Result
	if expect == 0 {
		res, err = tx.ExecContext(ctx, `INSERT INTO pins (package, entry, version, updated_at) VALUES ($1, $2, 1, $3) ON CONFLICT (package) DO NOTHING`, pkg, string(b), ts(at))
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE pins SET entry = $1, version = version + 1, updated_at = $2 WHERE package = $3 AND version = $4`, string(b), ts(at), pkg, expect)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: package %q is no longer at version %d", ErrProposalStale, pkg, expect)
	}
	if detail == nil {
		detail = entry
	}
	return d.appendAudit(ctx, tx, at, event, pkg, actor, detail)
}

// Propose stores a proposal and writes the audit entry.
func (d *DB) Propose(ctx context.Context, p *Proposal) error {
	entry, err := json.Marshal(p.Entry)
	if err != nil {
		return err
	}
	return d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO proposals (id, package, base_version, entry, payload, proposed_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
			p.ID, p.Package, p.BaseVersion, string(entry), p.Payload, p.ProposedBy, ts(p.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return d.appendAudit(ctx, tx, p.CreatedAt, "proposed", p.Package, p.ProposedBy, map[string]any{"proposal": p.ID, "baseVersion": p.BaseVersion, "expectations": p.Entry})
	})
}

func getProposal(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, id string, lock bool) (*Proposal, error) {
	var p Proposal
	var entry, created string
	var applied sql.NullString
	query := `SELECT id, package, base_version, entry, payload, proposed_by, created_at, applied_at FROM proposals WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	err := q.QueryRowContext(ctx, query, id).Scan(&p.ID, &p.Package, &p.BaseVersion, &entry, &p.Payload, &p.ProposedBy, &created, &applied)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: proposal %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(entry), &p.Entry); err != nil {
		return nil, err
	}
	p.CreatedAt = parseTS(created)
	if applied.Valid {
		t := parseTS(applied.String)
		p.AppliedAt = &t
	}
	rows, err := q.QueryContext(ctx, `SELECT key_fingerprint, envelope, at FROM approvals WHERE proposal = $1 ORDER BY key_fingerprint`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a Approval
		var at string
		if err := rows.Scan(&a.KeyFingerprint, &a.Envelope, &at); err != nil {
			return nil, err
		}
		a.At = parseTS(at)
		p.Approvals = append(p.Approvals, a)
	}
	return &p, rows.Err()
}

// GetProposal returns a proposal with its approvals.
func (d *DB) GetProposal(ctx context.Context, id string) (*Proposal, error) {
	p, err := getProposal(ctx, d.db, id, false)
	if err != nil {
		return nil, wrapDB(err)
	}
	return p, nil
}

// Approve records an approval and applies the proposal at threshold.
func (d *DB) Approve(ctx context.Context, id string, a Approval, threshold int) (*Proposal, bool, error) {
	if threshold < 1 {
		return nil, false, fmt.Errorf("approval threshold %d: expected at least 1", threshold)
	}
	applied := false
	var out *Proposal
	err := d.tx(ctx, func(tx *sql.Tx) error {
		// The proposal row is locked so two approvals completing the
		// threshold at once apply it once.
		p, err := getProposal(ctx, tx, id, d.postgres)
		if err != nil {
			return err
		}
		if p.AppliedAt != nil {
			return fmt.Errorf("%w: %s was applied at %s", ErrProposalApplied, id, p.AppliedAt.Format(time.RFC3339))
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO approvals (proposal, key_fingerprint, envelope, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, id, a.KeyFingerprint, a.Envelope, ts(a.At))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := d.appendAudit(ctx, tx, a.At, "approved", p.Package, a.KeyFingerprint, map[string]any{"proposal": id}); err != nil {
				return err
			}
			p.Approvals = append(p.Approvals, a)
		}
		if len(p.Approvals) >= threshold {
			signers := make([]string, len(p.Approvals))
			for i, x := range p.Approvals {
				signers[i] = x.KeyFingerprint
			}
			sort.Strings(signers)
			entry := p.Entry
			entry.Approval = &trustmap.ApprovalRecord{Signers: signers, Digest: strings.TrimPrefix(id, "sha256:"), IssuedAt: entry.FirstSeen}
			detail := map[string]any{"proposal": id, "approvedBy": signers, "expectations": entry}
			if err := d.replacePin(ctx, tx, d.postgres, p.Package, p.BaseVersion, entry, "approvers", "applied", a.At, detail); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE proposals SET applied_at = $1 WHERE id = $2`, ts(a.At), id); err != nil {
				return err
			}
			at := a.At
			p.AppliedAt, applied = &at, true
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, applied, nil
}

// Audit returns audit entries after seq, oldest first.
func (d *DB) Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	rows, err := d.db.QueryContext(ctx, `SELECT seq, at, event, package, actor, detail FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrapDB(err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Event, &e.Package, &e.Actor, &e.Detail); err != nil {
			return nil, wrapDB(err)
		}
		e.At = parseTS(at)
		out = append(out, e)
	}
	return out, wrapNil(rows.Err())
}

// UpdatePackage implements trustmap.TOFUStore for `trustmap verify
// --tofu-store URI` and `expectations approve`: fn sees pkg's current pin
// and its result is written in the same transaction, with writers of the
// same package serialised by the database (a transaction-scoped advisory
// lock on PostgreSQL, the write lock on SQLite).
func (d *DB) UpdatePackage(ctx context.Context, pkg string, fn func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error)) error {
	var fnErr error // the caller's, returned as it is
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if d.postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 1))`, "pin:"+pkg); err != nil {
				return err
			}
		}
		var cur *trustmap.TOFUEntry
		var version int64
		p, err := scanPin(tx.QueryRowContext(ctx, `SELECT package, entry, version, updated_at FROM pins WHERE package = $1`, pkg))
		switch {
		case err == nil:
			cur, version = &p.Entry, p.Version
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		next, err := fn(cur)
		if err != nil {
			fnErr = err
			return err
		}
		if next == nil {
			return nil
		}
		event, actor := "first-use", "trustmap verify"
		if cur != nil || next.Approval != nil {
			event, actor = "applied", "trustmap expectations approve"
		}
		return d.replacePin(ctx, tx, d.postgres, pkg, version, *next, actor, event, next.FirstSeen, nil)
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

var _ trustmap.TOFUStore = (*DB)(nil)
