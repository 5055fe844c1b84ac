// Package store is the upload gate's database: an archive of every document
// received and every verdict issued, content-addressed; the packages'
// trust-on-first-use pins; expectation change proposals and their signed
// approvals; and an append-only audit log.
//
// One type, [DB], implements [Store] over database/sql for two engines:
//
//	sqlite:/var/lib/trustmap/gate.db   embedded (modernc.org/sqlite, no cgo)
//	postgres://user@host/db            shared by several replicas (pgx)
//
// Every write is one transaction, and races between replicas are decided by
// the database (primary keys, ON CONFLICT, row locks), never by locks held in
// one process: two replicas pinning the same new package at the same moment
// produce one pin, and the loser is told which one won.
//
//	db, err := store.Open(ctx, "sqlite:gate.db")
//	...
//	rec, stored, err := db.PutRecord(ctx, rec)
//
// The package depends on trustmap for the pin format only; verification
// itself is the caller's (the service and the CLI call the same
// trustmap.Verify).
package store

import (
	"context"
	"errors"
	"time"

	"github.com/hallmark-build/hallmark/trustmap"
)

// Errors callers test with errors.Is.
var (
	// ErrNotFound: no record, document, pin or proposal with that key.
	ErrNotFound = errors.New("not found")
	// ErrPinConflict: another writer pinned the package, or changed its
	// pin, between the caller's read and its write. Verify again against
	// the current pin.
	ErrPinConflict = errors.New("the package's expectations changed concurrently")
	// ErrProposalApplied: the proposal was already applied.
	ErrProposalApplied = errors.New("proposal already applied")
	// ErrProposalStale: the package's expectations changed since the
	// proposal was made; propose again.
	ErrProposalStale = errors.New("proposal made against expectations that have changed since")
	// ErrBadURI: the store URI names no supported engine.
	ErrBadURI = errors.New("unsupported store URI")
	// ErrUnavailable wraps database failures (connection, I/O).
	ErrUnavailable = errors.New("store unavailable")
)

// Document kinds in the archive.
const (
	KindProvenance  = "provenance"  // the provenance file of an upload, as received
	KindAttestation = "attestation" // another attestation received with an upload (a VSA)
	KindResult      = "result"      // the verification result (trustmap verify --format json)
	KindVSA         = "vsa"         // the signed VSA the gate issued
)

// Document is one archived document, addressed by the sha256 of its bytes.
type Document struct {
	Digest string // "sha256:<hex>"
	Kind   string
	Body   []byte
}

// Subject is an artifact digest a record is about.
type Subject struct {
	Name   string
	Digest string // "sha256:<hex>"
}

// Record is one upload's verdict and what it was reached from.
type Record struct {
	// ID identifies the upload under one trust configuration and one
	// version of the package's expectations: re-posting the same upload
	// finds it.
	ID         string
	Package    string
	VerifiedAt time.Time
	Passed     bool
	Level      int
	// ErrorCodes are the sentinel names of a failure (trustmap.ErrorNames).
	ErrorCodes []string
	Subjects   []Subject
	// Provenance and Attestations are the documents received; Result and
	// VSA the ones issued. All are stored before the record.
	Provenance   Document
	Attestations []Document
	Result       Document
	VSA          Document
	// PinVersion is the version of the package's pin after this verdict
	// (0: none).
	PinVersion int64
	// NewPin, when set, is a first-use pin this verdict creates: the record
	// is stored only if no pin exists for the package yet.
	NewPin *trustmap.TOFUEntry
	// Actor is who uploaded (a token name or certificate subject), for
	// the audit log.
	Actor string
	// ExpectPin is the pin version the verdict was computed against; the
	// record is refused with ErrPinConflict if the pin is no longer at it.
	ExpectPin int64
}

// Pin is a package's trust-on-first-use expectation.
type Pin struct {
	Package   string
	Entry     trustmap.TOFUEntry
	Version   int64
	UpdatedAt time.Time
}

// Proposal is a proposed change of a package's expectations.
type Proposal struct {
	ID          string // sha256 of Payload
	Package     string
	BaseVersion int64 // the pin version it replaces (0: none)
	Entry       trustmap.TOFUEntry
	Payload     []byte // what approvers sign
	ProposedBy  string
	CreatedAt   time.Time
	AppliedAt   *time.Time
	Approvals   []Approval
}

// Approval is one approver's signature over a proposal.
type Approval struct {
	KeyFingerprint string
	Envelope       []byte
	At             time.Time
}

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	Seq     int64
	At      time.Time
	Event   string // first-use, proposed, approved, applied
	Package string
	Actor   string
	Detail  string // JSON
}

// Query selects archive records.
type Query struct {
	Subject string // "sha256:<hex>"
	Package string
	// After is the Seq of the last record of the previous page.
	After int64
	Limit int
}

// ListedRecord is a record with its position in the archive.
type ListedRecord struct {
	Seq int64
	Record
}

// Store is what the upload gate and the CLI need from the database.
type Store interface {
	// Ping checks the database answers.
	Ping(ctx context.Context) error
	// GetRecord returns the record with id, with its documents.
	GetRecord(ctx context.Context, id string) (*Record, error)
	// PutRecord stores the record's documents and the record, and a
	// first-use pin when rec.NewPin is set, in one transaction (which may
	// hold other records put at the same time), and returns once it has
	// committed. When a record with the same ID exists already (a
	// concurrent identical upload), it returns that one with stored=false.
	PutRecord(ctx context.Context, rec *Record, at time.Time) (got *Record, stored bool, err error)
	// ListRecords returns records matching q, oldest first.
	ListRecords(ctx context.Context, q Query) ([]ListedRecord, error)
	// GetDocument returns an archived document by digest.
	GetDocument(ctx context.Context, digest string) (*Document, error)
	// GetPin returns a package's pin, or ErrNotFound.
	GetPin(ctx context.Context, pkg string) (*Pin, error)
	// LookupUpload returns a package's pin (nil: none) and, of the record
	// IDs given, the one stored under its current pin version ("": none).
	LookupUpload(ctx context.Context, pkg string, ids []string) (pin *Pin, recordID string, err error)
	// ListPins returns every pin, by package name.
	ListPins(ctx context.Context) ([]Pin, error)
	// PinFirstUse records entry for pkg if it has no pin; otherwise it
	// returns the existing pin and created=false.
	PinFirstUse(ctx context.Context, pkg string, entry trustmap.TOFUEntry, actor string, at time.Time) (pin *Pin, created bool, err error)
	// Propose stores a proposal (idempotent by ID).
	Propose(ctx context.Context, p *Proposal) error
	// GetProposal returns a proposal with its approvals.
	GetProposal(ctx context.Context, id string) (*Proposal, error)
	// Approve records an approval, once per key, and when the proposal
	// then has threshold approvals from distinct keys applies it: the pin
	// changes, the proposal is marked applied and the audit log says so,
	// in one transaction.
	Approve(ctx context.Context, id string, a Approval, threshold int) (p *Proposal, applied bool, err error)
	// Audit returns audit entries after seq, oldest first.
	Audit(ctx context.Context, after int64, limit int) ([]AuditEntry, error)
	// Close releases the database.
	Close() error
}

var _ Store = (*DB)(nil)
