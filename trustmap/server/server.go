// Package server is trustmap's HTTP service: a package registry's upload
// gate. It verifies each upload with the same trustmap.Verify call as
// `trustmap verify`, archives every document received and every verdict and
// VSA issued (content-addressed, before answering), pins each package's
// expectations on first use, and applies expectation changes only when
// enough approver keys signed them.
//
//	st, _ := store.Open(ctx, "sqlite:gate.db")
//	s, _ := server.New(trust, st, server.Options{Tokens: tokens, Now: time.Now})
//	http.ListenAndServe("127.0.0.1:8080", s) // (with the timeouts of NewHTTPServer)
//
// The API is described in openapi.json (served at /v1/openapi.json). Every
// error is JSON, {"error": {"code": "ErrSubjectMismatch", ...}}, with the
// sentinel names of the trustmap package (and of this one for request
// errors), so clients test codes, not messages.
//
// Security: write endpoints need a bearer token (only its sha256 is kept)
// or a client certificate verified by the TLS listener; archive reads are
// private unless Options.PublicArchive; bodies are capped and every request
// has a deadline. The service never echoes a token.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// Request errors, reported under these names.
var (
	ErrMalformedRequest = errors.New("malformed request")
	ErrBodyTooLarge     = errors.New("request body too large")
	ErrUnauthorized     = errors.New("a valid bearer token or client certificate is required")
	ErrNotFound         = errors.New("not found")
	ErrTimeout          = errors.New("request took longer than the server allows")
	ErrStore            = errors.New("the archive is unavailable")
	ErrNotReady         = errors.New("not ready")
	ErrBadApproval      = errors.New("approval not signed by a configured approver key")
	ErrConflict         = errors.New("conflict")
)

var requestErrors = []struct {
	name string
	err  error
}{
	{"ErrMalformedRequest", ErrMalformedRequest},
	{"ErrBodyTooLarge", ErrBodyTooLarge},
	{"ErrUnauthorized", ErrUnauthorized},
	{"ErrNotFound", ErrNotFound},
	{"ErrTimeout", ErrTimeout},
	{"ErrStore", ErrStore},
	{"ErrNotReady", ErrNotReady},
	{"ErrBadApproval", ErrBadApproval},
	{"ErrConflict", ErrConflict},
	{"ErrProposalApplied", store.ErrProposalApplied},
	{"ErrProposalStale", store.ErrProposalStale},
	{"ErrImageNotAllowed", ErrImageNotAllowed},
}

// Trust is what verification is configured with; it is replaced as a whole
// on reload.
type Trust struct {
	Roots      *trustmap.Roots
	Policy     *trustmap.Policy
	PolicyData []byte // the policy file as given, recorded in VSAs
	// PolicyURI is the VSAs' policy.uri: the policy file's file: URI, or
	// trustmap.TOFUStoreURI for expectations pinned in the store.
	PolicyURI string
	// VerifierVersion is written as the VSAs' verifier.version.
	VerifierVersion string
	// Options are the verification options of every upload (At, Package
	// and TOFU are set per request).
	Options trustmap.VerifyOptions
	// TOFU pins each package's first passing provenance in the store and
	// checks later uploads against it.
	TOFU bool
	// VSAKey signs a VSA for every verdict; VerifierID names this verifier.
	VSAKey     *attest.PrivateKey
	VerifierID string
	// Approvers sign expectation changes; Threshold distinct ones apply it.
	Approvers []*attest.PublicKey
	Threshold int
	// LoadedAt is when the trust was loaded (reported by /readyz).
	LoadedAt time.Time

	digest string // identifies the configuration in upload ids
}

// Token is a bearer token, kept as the sha256 of its value.
type Token struct {
	Name   string
	SHA256 [32]byte
}

// HashToken returns the stored form of a token value.
func HashToken(name, value string) Token {
	return Token{Name: name, SHA256: sha256.Sum256([]byte(value))}
}

// Options configure the service.
type Options struct {
	// Tokens may write (verify uploads, propose and approve changes).
	Tokens []Token
	// PublicArchive lets anyone read the archive and the audit log;
	// otherwise reads need a token too. Package expectations are public.
	PublicArchive bool
	// MaxBodyBytes caps request bodies (default DefaultMaxBody).
	MaxBodyBytes int64
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// Now is the clock (required).
	Now func() time.Time
	// Images, when set, lets uploads name images in the registries it
	// lists (UploadRequest.Image); otherwise such uploads are refused.
	Images *Images
	// Logger receives operational messages (default: discard).
	Logger *slog.Logger
	// ApprovalValidity is how long a proposal may be approved (default
	// trustmap.DefaultApprovalValidity).
	ApprovalValidity time.Duration
	// Registerer receives the metrics (default: a private registry, served
	// at /metrics).
	Registry *prometheus.Registry

	// afterStore runs after a verdict is stored and before it is answered
	// (tests kill the process there).
	afterStore func()
}

// Defaults for Options.
const (
	DefaultMaxBody = trustmap.MaxProvenanceBytes*2 + 1<<20 // a provenance file as a JSON string, escaped
	DefaultTimeout = 30 * time.Second
)

// Server is the HTTP service.
type Server struct {
	store    store.Store
	opts     Options
	trust    atomic.Pointer[Trust]
	mux      *http.ServeMux
	patterns []string
	handler  http.Handler
	metrics  *metrics
	log      *slog.Logger
	reload   atomic.Pointer[reloadStatus]
}

type reloadStatus struct {
	At  time.Time
	Err string
}

// New returns the service over st with the given trust.
func New(trust *Trust, st store.Store, o Options) (*Server, error) {
	if o.Now == nil {
		return nil, errors.New("server: no clock")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBody
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	s := &Server{store: st, opts: o, log: o.Logger}
	if err := s.SetTrust(trust); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(o.Registry)
	s.routes()
	return s, nil
}

// SetTrust replaces the trust configuration atomically: requests in flight
// finish with the one they started with.
func (s *Server) SetTrust(t *Trust) error {
	if t == nil || t.Roots == nil {
		return errors.New("server: no roots of trust")
	}
	if t.VSAKey == nil || t.VerifierID == "" {
		return errors.New("server: a VSA key and a verifier id are required")
	}
	if err := trustmap.DistinctKeys(t.Approvers); err != nil {
		// N of M counts distinct keys: one approver's key given twice
		// would let one signature count as two.
		return fmt.Errorf("server: approver keys: %w", err)
	}
	if len(t.Approvers) > 0 && (t.Threshold < 1 || t.Threshold > len(t.Approvers)) {
		return fmt.Errorf("server: approval threshold %d with %d approver keys", t.Threshold, len(t.Approvers))
	}
	if t.Threshold < 1 {
		t.Threshold = 1
	}
	d, err := trustDigest(t)
	if err != nil {
		return err
	}
	t.digest = d
	s.trust.Store(t)
	return nil
}

// Reloaded records the outcome of a reload attempt (for /readyz and the
// metrics); err is nil when the new trust was applied.
func (s *Server) Reloaded(at time.Time, err error) {
	st := &reloadStatus{At: at}
	result := "applied"
	if err != nil {
		st.Err, result = err.Error(), "kept-previous"
	}
	s.reload.Store(st)
	s.metrics.reloads.WithLabelValues(result).Inc()
}

// Trust returns the configuration in use.
func (s *Server) Trust() *Trust { return s.trust.Load() }

func trustDigest(t *Trust) (string, error) {
	roots, err := t.Roots.Marshal()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	o := t.Options
	fmt.Fprintf(h, "roots %x\npolicy %x\nminLevel %d\nlegacy %t\nignoreExpiry %t\ntofu %t\nverifier %q\nvsaKey %s\n",
		sha256.Sum256(roots), sha256.Sum256(t.PolicyData), o.MinLevel, o.AllowLegacyPredicateUnsafe, o.IgnoreCertificationAtVerifyTimeUnsafe, t.TOFU, t.VerifierID, t.VSAKey.Fingerprint())
	if o.Sigstore != nil {
		fmt.Fprintf(h, "sigstore %q\n", o.Sigstore.Description)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() {
	m := http.NewServeMux()
	write, read := s.requireToken, s.archiveRead
	for _, r := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"POST /v1/verify", write(s.handleVerify)},
		{"GET /v1/attestations", read(s.handleListAttestations)},
		{"GET /v1/attestations/{id}", read(s.handleGetRecord)},
		{"GET /v1/documents/{digest}", read(s.handleGetDocument)},
		{"GET /v1/packages/{name}", s.handleGetPackage},
		{"POST /v1/packages/{name}/proposals", write(s.handlePropose)},
		{"GET /v1/proposals/{id}", s.handleGetProposal},
		{"GET /v1/proposals/{id}/payload", s.handleGetProposalPayload},
		{"POST /v1/proposals/{id}/approvals", write(s.handleApprove)},
		{"GET /v1/audit", read(s.handleAudit)},
		{"GET /v1/openapi.json", s.handleOpenAPI},
		{"GET /healthz", s.handleHealthz},
		{"GET /readyz", s.handleReadyz},
		{"GET /metrics", promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}).ServeHTTP},
	} {
		m.HandleFunc(r.pattern, r.h)
		s.patterns = append(s.patterns, r.pattern)
	}
	s.mux = m
	s.handler = s.limits(m)
}

// limits caps the body, sets the request deadline and turns the mux's own
// 404 and 405 answers into JSON errors.
func (s *Server) limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		if _, pattern := s.mux.Handler(r); pattern == "" {
			// No route matched: let the mux say whether the method or the
			// path is wrong, but in JSON.
			rec := &statusOnly{header: http.Header{}}
			s.mux.ServeHTTP(rec, r)
			if rec.code == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", rec.header.Get("Allow"))
				writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%w: %s does not accept %s", ErrNotFound, r.URL.Path, r.Method))
				return
			}
			writeError(w, http.StatusNotFound, fmt.Errorf("%w: no endpoint %s", ErrNotFound, r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusOnly records what the mux would answer for an unmatched request.
type statusOnly struct {
	header http.Header
	code   int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }

type actorKey struct{}

// actor is who made an authenticated request: a token name or a
// certificate subject.
func actor(r *http.Request) string { return actorOf(r.Context()) }

func actorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// authenticate returns the caller's name, or "" when it presented nothing
// valid.
func (s *Server) authenticate(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		return "cert:" + r.TLS.VerifiedChains[0][0].Subject.String()
	}
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	name := ""
	for _, t := range s.opts.Tokens {
		// Compare every token in constant time; no early exit.
		if subtle.ConstantTimeCompare(sum[:], t.SHA256[:]) == 1 {
			name = "token:" + t.Name
		}
	}
	return name
}

func (s *Server) requireToken(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who := s.authenticate(r)
		if who == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trustmap"`)
			writeError(w, http.StatusUnauthorized, ErrUnauthorized)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, who)))
	}
}

func (s *Server) archiveRead(h http.HandlerFunc) http.HandlerFunc {
	if s.opts.PublicArchive {
		return h
	}
	return s.requireToken(h)
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Code    string   `json:"code"`
	Codes   []string `json:"codes,omitempty"`
	Message string   `json:"message"`
}

// ErrorCodes names the sentinels err wraps: this package's (what was wrong
// with the request) first, then trustmap's.
func ErrorCodes(err error) []string {
	var codes []string
	for _, n := range requestErrors {
		if errors.Is(err, n.err) {
			codes = append(codes, n.name)
		}
	}
	for _, n := range ociErrors {
		if errors.Is(err, n.err) {
			codes = append(codes, n.name)
		}
	}
	return append(codes, trustmap.ErrorNames(err)...)
}

func errorBody(err error) *ErrorBody {
	codes := ErrorCodes(err)
	b := &ErrorBody{Message: err.Error(), Code: "ErrInternal"}
	if len(codes) > 0 {
		b.Code = codes[0]
	}
	if len(codes) > 1 {
		b.Codes = codes
	}
	return b
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":{"code":"ErrInternal","message":"encoding the answer failed"}}`)
	}
	writeBody(w, code, append(b, '\n'))
}

// writeBody answers with a JSON body already encoded.
func writeBody(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(b)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]any{"error": errorBody(err)})
}

// fail maps an error to a status: request errors 4xx, store failures 503.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%w: the limit is %d bytes", ErrBodyTooLarge, mbe.Limit))
	case errors.Is(err, ErrMalformedRequest), errors.Is(err, trustmap.ErrNoArtifacts), errors.Is(err, trustmap.ErrNoProvenance):
		writeError(w, http.StatusBadRequest, err)
	case errors.Is(err, ErrBadApproval), errors.Is(err, ErrImageNotAllowed):
		writeError(w, http.StatusForbidden, err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Errorf("%w: %v", ErrNotFound, err))
	case errors.Is(err, store.ErrProposalApplied), errors.Is(err, store.ErrProposalStale), errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("%w (%s)", ErrTimeout, s.opts.Timeout))
	case isRegistryError(err):
		// The image could not be read as the registry holds it: nothing
		// was verified, nothing is archived.
		writeError(w, http.StatusBadGateway, err)
	case errors.Is(err, store.ErrUnavailable):
		s.metrics.storeErrors.Inc()
		s.log.Error("store", "err", err)
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("%w: %v", ErrStore, err))
	default:
		s.log.Error("request", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, err)
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness is the body of /readyz.
type Readiness struct {
	Ready         bool      `json:"ready"`
	Store         string    `json:"store"`
	RootsEntries  int       `json:"rootsEntries"`
	TrustLoadedAt time.Time `json:"trustLoadedAt"`
	LastReload    *struct {
		At    time.Time `json:"at"`
		Error string    `json:"error,omitempty"`
	} `json:"lastReload,omitempty"`
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	t := s.trust.Load()
	rd := Readiness{Ready: true, Store: "ok", RootsEntries: len(t.Roots.Entries), TrustLoadedAt: t.LoadedAt}
	if err := s.store.Ping(r.Context()); err != nil {
		s.metrics.storeErrors.Inc()
		rd.Ready, rd.Store = false, err.Error()
	}
	if st := s.reload.Load(); st != nil {
		rd.LastReload = &struct {
			At    time.Time `json:"at"`
			Error string    `json:"error,omitempty"`
		}{st.At, st.Err}
	}
	code := http.StatusOK
	if !rd.Ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, rd)
}

// NewHTTPServer returns an http.Server for h with the timeouts a public
// service needs (slow clients cannot hold connections open).
func NewHTTPServer(addr string, h http.Handler, timeout time.Duration) *http.Server {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       timeout,
		WriteTimeout:      timeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
