package trustmap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// BatchItem is one line of a batch manifest (JSON Lines).
type BatchItem struct {
	Line     int    `json:"-"`
	Artifact string `json:"artifact"`
	// Provenance may be left out where the verifier finds it itself (an
	// image in a registry); the BatchVerifier refuses a file without it.
	Provenance string `json:"provenance,omitempty"`
	Package    string `json:"package,omitempty"`
}

// BatchResult is one line of batch output.
type BatchResult struct {
	Line     int    `json:"line"`
	Artifact string `json:"artifact"`
	Package  string `json:"package,omitempty"`
	Passed   bool   `json:"passed"`
	Level    int    `json:"level"`
	Error    string `json:"error,omitempty"`
	// VSA is the file the item's signed VSA was written to (verify
	// --batch --vsa-dir).
	VSA string `json:"vsa,omitempty"`
}

// ManifestFields describes a manifest line, for messages.
const ManifestFields = `{"artifact": FILE or IMAGE, "provenance": FILE (optional for an image), "package": NAME (optional)} and no other fields`

// MaxManifestLine bounds one manifest line.
const MaxManifestLine = 64 << 10

// BatchVerifier verifies one item; the caller reads its files.
type BatchVerifier func(ctx context.Context, item BatchItem) (*Result, error)

// BatchGCPercent is the garbage collector's target percentage (GOGC) that
// trustmap verify --batch runs with, unless GOGC is set. A batch holds at
// most one item per worker in flight, so its heap is a few MiB whatever the
// number of items: letting it grow to five times what is live (instead of
// twice) makes collections rarer, for a heap still flat in the number of
// items (BenchmarkBatch reports its peak).
const BatchGCPercent = 400

// batchYield is how much work a batch worker does before it lets the
// scheduler run other goroutines (the collector's among them).
const batchYield = 500 * time.Microsecond

// RunBatch reads manifest lines from r, verifies them on workers goroutines
// and calls emit for each result as it completes, never for two at once.
// Each worker reads the next line itself, in turn, and reports its result:
// no item or result is handed from one goroutine to another. Memory stays
// flat: at most workers items are in flight. It returns the number of
// failed items; a malformed line counts as failed.
func RunBatch(ctx context.Context, r io.Reader, workers int, verify BatchVerifier, emit func(BatchResult)) (failed int, err error) {
	if workers < 1 {
		workers = 1
	}
	var reportMu sync.Mutex
	report := func(br BatchResult) {
		reportMu.Lock()
		defer reportMu.Unlock()
		if !br.Passed {
			failed++
		}
		emit(br)
	}
	// The manifest, read by one worker at a time; err is set under its
	// lock when reading stops early (a read error, or a cancelled context
	// when an item would be handed out).
	var readMu sync.Mutex
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxManifestLine)
	line := 0
	done := false
	next := func() (BatchItem, bool) {
		readMu.Lock()
		defer readMu.Unlock()
		for !done {
			if !sc.Scan() {
				if serr := sc.Err(); serr != nil {
					err = fmt.Errorf("manifest: %w", serr)
				}
				done = true
				break
			}
			line++
			b := sc.Bytes()
			if len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			it, plain := parseBatchItemPlain(b)
			var uerr error
			if !plain {
				it, uerr = BatchItem{}, decodeStrict(b, &it, MaxManifestLine, ErrMalformedManifest)
			}
			if uerr != nil || it.Artifact == "" {
				found := "no artifact"
				if uerr != nil {
					found = strings.TrimPrefix(uerr.Error(), ErrMalformedManifest.Error()+": ")
				}
				report(BatchResult{Line: line, Error: safetext.Term(fmt.Sprintf("%v: line %d: expected %s, got %s", ErrMalformedManifest, line, ManifestFields, found))})
				continue
			}
			if cerr := ctx.Err(); cerr != nil {
				// Cancelled: no item is handed out any more (malformed
				// lines read before it are reported, as is the end).
				err, done = cerr, true
				break
			}
			it.Line = line
			return it, true
		}
		return BatchItem{}, false
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			yielded := time.Now()
			for {
				it, ok := next()
				if !ok {
					return
				}
				res, verr := verify(ctx, it)
				br := BatchResult{Line: it.Line, Artifact: safetext.Term(it.Artifact), Package: safetext.Term(it.Package)}
				if verr != nil {
					br.Error = safetext.Term(verr.Error())
				} else {
					br.Passed, br.Level = res.Passed, int(res.Level)
				}
				report(br)
				// Now and then a point where the scheduler runs the
				// collector's workers: without one a worker goes from
				// item to item without pause, and the heap outgrows the
				// collector's target while it marks (keyless bundles
				// allocate much: BenchmarkBatchKeyless's peak heap
				// doubles). At most once per batchYield of work, so that
				// cheap items do not each pay for it. The clock only
				// paces this; no result depends on it.
				if now := time.Now(); now.Sub(yielded) >= batchYield {
					yielded = now
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	// Every worker is done: failed and err are read after their writes.
	return failed, err
}

// MarshalLine encodes a batch result as one JSON line: the members
// BatchResult's tags name, in their order, each string quoted by jsontext
// (encoding/json's reflection cost as much as a fifth of what a batch item
// costs beyond its signature check). TestMarshalLine compares it with
// encoding/json.
func (b BatchResult) MarshalLine() []byte {
	out := make([]byte, 0, 64+len(b.Artifact)+len(b.Package)+len(b.Error)+len(b.VSA))
	out = strconv.AppendInt(append(out, `{"line":`...), int64(b.Line), 10)
	out = appendString(append(out, `,"artifact":`...), b.Artifact)
	if b.Package != "" {
		out = appendString(append(out, `,"package":`...), b.Package)
	}
	out = strconv.AppendBool(append(out, `,"passed":`...), b.Passed)
	out = strconv.AppendInt(append(out, `,"level":`...), int64(b.Level), 10)
	if b.Error != "" {
		out = appendString(append(out, `,"error":`...), b.Error)
	}
	if b.VSA != "" {
		out = appendString(append(out, `,"vsa":`...), b.VSA)
	}
	return append(out, "}\n"...)
}

// appendString appends s as a JSON string, byte for byte as encoding/json
// writes it without HTML escaping (TestMarshalLine): ASCII by jsontext's
// quoting; anything else (rare: RunBatch's strings are escaped by
// safetext.Term) by encoding/json itself, which also escapes U+2028 and
// U+2029 and writes invalid UTF-8 as U+FFFD.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
		}
	}
	dst, _ = jsontext.AppendQuote(dst, s)
	return dst
}

// parseBatchItemPlain reads a manifest line in its plain form in one pass
// (the members BatchItem defines, each at most once, strings without
// escape sequences); anything else the strict decoder reads, and what this
// reads it reads the same way (FuzzParseBatchItemPlain).
func parseBatchItemPlain(b []byte) (BatchItem, bool) {
	// Each member at most once (Once): the decoder need not track names.
	d, done := strictjson.Decoder(b, jsontext.AllowDuplicateNames(true))
	defer done()
	var it BatchItem
	var seen [3]bool
	ok := strictjson.ReadPlainObject(d, func(name []byte) bool {
		switch string(name) {
		case "artifact":
			return strictjson.Once(&seen[0]) && strictjson.ReadPlainString(d, &it.Artifact)
		case "provenance":
			return strictjson.Once(&seen[1]) && strictjson.ReadPlainString(d, &it.Provenance)
		case "package":
			return strictjson.Once(&seen[2]) && strictjson.ReadPlainString(d, &it.Package)
		}
		return false
	})
	if !ok || !strictjson.AtEnd(d) {
		return BatchItem{}, false
	}
	return it, true
}
