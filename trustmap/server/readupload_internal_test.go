package server

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// The memory an upload takes before it is read grows with the bytes that
// arrive, not with the Content-Length the client claims: a request that
// announces the largest body and sends a few bytes does not make the
// server allocate the largest body up front.
func TestReadUploadDoesNotTrustContentLength(t *testing.T) {
	ts := newTestServer(t, nil, nil, Options{})
	const n = 8
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		r := httptest.NewRequest(http.MethodPost, "/v1/verify", strings.NewReader(`{}`))
		r.ContentLength = ts.opts.MaxBodyBytes
		ts.readUpload(httptest.NewRecorder(), r)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 4<<20 {
		t.Fatalf("%d bytes allocated for a 2-byte body announced as %d bytes", per, ts.opts.MaxBodyBytes)
	}
}
