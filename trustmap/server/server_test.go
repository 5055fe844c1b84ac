package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

func TestVerifyArchiveAndReplay(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	a := do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, "example-app", "cases/pass-policy-l3.intoto.jsonl"))
	if a.Code != http.StatusOK {
		t.Fatalf("pass: %d %s", a.Code, a.Body)
	}
	var v VerifyResponse
	a.decode(t, &v)
	if !v.Passed || v.Level != 3 || v.Replayed || v.Error != nil {
		t.Fatalf("verdict: %+v", v)
	}
	var res trustmap.Result
	if err := json.Unmarshal(v.Result, &res); err != nil || !res.Passed || res.Package != "example-app" {
		t.Fatalf("result: %v %s", err, v.Result)
	}
	// The VSA is a DSSE envelope signed by the gate's key, PASSED at L3.
	env, err := attest.ParseEnvelope(v.VSA)
	if err != nil {
		t.Fatal(err)
	}
	payload, _, err := attest.VerifyEnvelope(context.Background(), env, trustmap.InTotoPayloadType, []*attest.PublicKey{s.Trust().VSAKey.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(payload), `"verificationResult":"PASSED"`) || !strings.Contains(string(payload), "SLSA_BUILD_LEVEL_3") || !strings.Contains(string(payload), appDigest) {
		t.Fatalf("VSA: %s", payload)
	}

	// Re-posting returns the stored verdict, not a new record.
	a = do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, "example-app", "cases/pass-policy-l3.intoto.jsonl"))
	var again VerifyResponse
	a.decode(t, &again)
	if a.Code != http.StatusOK || !again.Replayed || again.Record != v.Record || string(again.VSA) != string(v.VSA) {
		t.Fatalf("replay: %d %+v", a.Code, again)
	}

	// The archive has it by subject and by package, with its documents.
	for _, q := range []string{"subject=sha256:" + appDigest, "package=example-app"} {
		a = do(t, "GET", s.URL+"/v1/attestations?"+q, testToken, nil)
		var list RecordList
		a.decode(t, &list)
		if a.Code != 200 || len(list.Records) != 1 {
			t.Fatalf("%s: %d %s", q, a.Code, a.Body)
		}
		r := list.Records[0]
		if r.ID != v.Record || !r.Passed || r.Provenance.Content != string(readFile(t, "cases/pass-policy-l3.intoto.jsonl")) || r.VSA.Content != string(v.VSA)+"\n" {
			t.Fatalf("%s: record %+v", q, r)
		}
	}
	a = do(t, "GET", s.URL+"/v1/attestations/"+v.Record, testToken, nil)
	var rec ArchivedRecord
	a.decode(t, &rec)
	if a.Code != 200 || rec.ID != v.Record {
		t.Fatalf("record: %d %s", a.Code, a.Body)
	}
	// Documents are served by content address, byte for byte.
	a = do(t, "GET", s.URL+"/v1/documents/"+rec.Provenance.Digest, testToken, nil)
	if a.Code != 200 || string(a.Body) != string(readFile(t, "cases/pass-policy-l3.intoto.jsonl")) {
		t.Fatalf("document: %d", a.Code)
	}
	if a := do(t, "GET", s.URL+"/v1/documents/sha256:"+strings.Repeat("0", 64), testToken, nil); a.Code != 404 || a.errorCode(t) != "ErrNotFound" {
		t.Fatalf("missing document: %d %s", a.Code, a.Body)
	}

	// The package is now pinned, and its expectations are public.
	a = do(t, "GET", s.URL+"/v1/packages/example-app", "", nil)
	var info PackageInfo
	a.decode(t, &info)
	if a.Code != 200 || info.Policy == nil || info.Pin == nil || info.Pin.Version != 1 || info.Pin.Expectations.BuilderID == "" {
		t.Fatalf("package: %d %s", a.Code, a.Body)
	}
	if a := do(t, "GET", s.URL+"/v1/packages/unknown", "", nil); a.Code != 404 {
		t.Fatalf("unknown package: %d", a.Code)
	}

	// Metrics count by result.
	a = do(t, "GET", s.URL+"/metrics", "", nil)
	for _, want := range []string{`trustmap_verifications_total{result="passed"} 1`, `trustmap_verifications_total{result="replayed"} 1`, "trustmap_verification_duration_seconds_bucket", "trustmap_store_errors_total 0"} {
		if !strings.Contains(string(a.Body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestVerifyFailuresCarrySentinelNames(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	for _, c := range []struct{ pkg, file, code string }{
		{"example-app", "cases/fork-source.intoto.jsonl", "ErrParameterMismatch"},
		{"example-app", "cases/unknown-signer.intoto.jsonl", "ErrUnknownSigner"},
		{"example-app", "cases/subject-mismatch.intoto.jsonl", "ErrSubjectMismatch"},
		{"example-app", "cases/malformed-json.intoto.jsonl", "ErrMalformedEnvelope"},
		{"example-app", "cases/no-provenance.intoto.jsonl", "ErrNoProvenance"},
		{"nobody-knows", "cases/pass-policy-l3.intoto.jsonl", "ErrUnknownPackage"},
	} {
		a := do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, c.pkg, c.file))
		var v VerifyResponse
		a.decode(t, &v)
		if a.Code != http.StatusUnprocessableEntity || v.Passed || v.Error == nil || v.Error.Code != c.code || v.Record == "" {
			t.Errorf("%s: %d %s", c.file, a.Code, a.Body)
		}
		// A failed verdict is archived too, with a FAILED VSA.
		if _, err := s.store.GetRecord(context.Background(), v.Record); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
		if !strings.Contains(vsaPayload(t, v.VSA), `"verificationResult":"FAILED"`) {
			t.Errorf("%s: VSA not FAILED", c.file)
		}
	}
}

func vsaPayload(t *testing.T, b []byte) string {
	env, err := attest.ParseEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	var p []byte
	if p, err = decodeB64(env.Payload); err != nil {
		t.Fatal(err)
	}
	return string(p)
}

func TestMalformedRequests(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{MaxBodyBytes: 64 << 10})
	good := string(upload(t, "app", "cases/pass-no-policy.intoto.jsonl"))
	for name, body := range map[string]string{
		"not json":              "{",
		"unknown member":        `{"package":"app","artifacts":[],"provenance":"x","extra":1}`,
		"duplicate member":      strings.Replace(good, `{"package":"app",`, `{"package":"app","package":"other",`, 1),
		"case variant":          strings.Replace(good, `{"package":"app",`, `{"Package":"app",`, 1),
		"no artifacts":          `{"package":"app","artifacts":[],"provenance":"{}"}`,
		"no sha256":             `{"package":"app","artifacts":[{"name":"a","digest":{"sha512":"` + strings.Repeat("a", 128) + `"}}],"provenance":"{}"}`,
		"uppercase digest":      `{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + strings.Repeat("A", 64) + `"}}],"provenance":"{}"}`,
		"md5":                   `{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `","md5":"00"}}],"provenance":"{}"}`,
		"escape in package":     `{"package":"app\u001b[2J","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `"}}],"provenance":"{}"}`,
		"same artifact twice":   `{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `"}},{"name":"a","digest":{"sha256":"` + appDigest + `"}}],"provenance":"{}"}`,
		"trailing data":         good + "{}",
		"provenance not string": `{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `"}}],"provenance":{}}`,
	} {
		a := do(t, "POST", s.URL+"/v1/verify", testToken, []byte(body))
		if a.Code != http.StatusBadRequest || a.errorCode(t) != "ErrMalformedRequest" {
			t.Errorf("%s: %d %s", name, a.Code, a.Body)
		}
	}
	big := `{"package":"app","provenance":"` + strings.Repeat("x", 70<<10) + `"}`
	if a := do(t, "POST", s.URL+"/v1/verify", testToken, []byte(big)); a.Code != http.StatusRequestEntityTooLarge || a.errorCode(t) != "ErrBodyTooLarge" {
		t.Errorf("body over the cap: %d %s", a.Code, a.Body)
	}
	if a := do(t, "GET", s.URL+"/v1/verify", testToken, nil); a.Code != http.StatusMethodNotAllowed || a.errorCode(t) != "ErrNotFound" {
		t.Errorf("GET /v1/verify: %d %s", a.Code, a.Body)
	}
	if a := do(t, "GET", s.URL+"/v2/nothing", "", nil); a.Code != http.StatusNotFound || a.errorCode(t) != "ErrNotFound" {
		t.Errorf("unknown path: %d %s", a.Code, a.Body)
	}
	for _, q := range []string{"", "subject=sha256:abc", "subject=" + appDigest, "package=a&limit=0", "package=a&after=-1"} {
		if a := do(t, "GET", s.URL+"/v1/attestations?"+q, testToken, nil); a.Code != 400 || a.errorCode(t) != "ErrMalformedRequest" {
			t.Errorf("?%s: %d %s", q, a.Code, a.Body)
		}
	}
}

func TestAuth(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	body := upload(t, "app", "cases/pass-no-policy.intoto.jsonl")
	for name, token := range map[string]string{"none": "", "wrong": "tmk_wrong", "hash of the token": "sha256:" + appDigest} {
		a := do(t, "POST", s.URL+"/v1/verify", token, body)
		if a.Code != http.StatusUnauthorized || a.errorCode(t) != "ErrUnauthorized" {
			t.Errorf("%s: %d %s", name, a.Code, a.Body)
		}
		if strings.Contains(string(a.Body), testToken) || (token != "" && strings.Contains(string(a.Body), token)) {
			t.Errorf("%s: the answer echoes a token", name)
		}
	}
	// Nothing was archived or pinned by the refused requests.
	if pins, _ := s.store.ListPins(context.Background()); len(pins) != 0 {
		t.Fatalf("pins after refused writes: %+v", pins)
	}
	// Archive reads are private by default, public when configured.
	for _, path := range []string{"/v1/attestations?package=app", "/v1/audit", "/v1/attestations/sha256:" + appDigest, "/v1/documents/sha256:" + appDigest} {
		if a := do(t, "GET", s.URL+path, "", nil); a.Code != http.StatusUnauthorized {
			t.Errorf("private %s: %d", path, a.Code)
		}
	}
	pub := newTestServer(t, nil, nil, Options{PublicArchive: true})
	if a := do(t, "GET", pub.URL+"/v1/attestations?package=app", "", nil); a.Code != 200 {
		t.Errorf("public archive: %d %s", a.Code, a.Body)
	}
	if a := do(t, "POST", pub.URL+"/v1/verify", "", body); a.Code != http.StatusUnauthorized {
		t.Errorf("public archive, anonymous write: %d", a.Code)
	}
	// No tokens at all: every write refused.
	none := newTestServer(t, nil, nil, Options{Tokens: []Token{}})
	if a := do(t, "POST", none.URL+"/v1/verify", testToken, body); a.Code != http.StatusUnauthorized {
		t.Errorf("no tokens configured: %d", a.Code)
	}
}

func TestHealthReadyAndTimeout(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	if a := do(t, "GET", s.URL+"/healthz", "", nil); a.Code != 200 {
		t.Fatalf("healthz: %d", a.Code)
	}
	a := do(t, "GET", s.URL+"/readyz", "", nil)
	var rd Readiness
	a.decode(t, &rd)
	if a.Code != 200 || !rd.Ready || rd.RootsEntries == 0 {
		t.Fatalf("readyz: %d %s", a.Code, a.Body)
	}
	s.store.Close()
	a = do(t, "GET", s.URL+"/readyz", "", nil)
	if a.Code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the store closed: %d %s", a.Code, a.Body)
	}
	a = do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, "app", "cases/pass-no-policy.intoto.jsonl"))
	if a.Code != http.StatusServiceUnavailable || a.errorCode(t) != "ErrStore" {
		t.Fatalf("verify with the store closed: %d %s", a.Code, a.Body)
	}
	if m := do(t, "GET", s.URL+"/metrics", "", nil); !strings.Contains(string(m.Body), "trustmap_store_errors_total 2") {
		t.Fatalf("store errors not counted: %s", m.Body)
	}

	slow := newTestServer(t, nil, nil, Options{Timeout: time.Nanosecond})
	a = do(t, "POST", slow.URL+"/v1/verify", testToken, upload(t, "app", "cases/pass-no-policy.intoto.jsonl"))
	if a.Code != http.StatusServiceUnavailable || a.errorCode(t) != "ErrTimeout" {
		t.Fatalf("past the deadline: %d %s", a.Code, a.Body)
	}
}

func TestReloadKeepsPrevious(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	before := s.Trust()
	bad := testTrust(t)
	bad.Roots = nil
	err := s.SetTrust(bad)
	s.Reloaded(testAt, err)
	if err == nil || s.Trust() != before {
		t.Fatal("a trust without roots replaced the previous one")
	}
	a := do(t, "GET", s.URL+"/readyz", "", nil)
	var rd Readiness
	a.decode(t, &rd)
	if a.Code != 200 || rd.LastReload == nil || !strings.Contains(rd.LastReload.Error, "no roots") {
		t.Fatalf("readyz after a bad reload: %s", a.Body)
	}
	// A good reload applies; a different configuration re-verifies.
	good := testTrust(t)
	good.TOFU = false
	if err := s.SetTrust(good); err != nil {
		t.Fatal(err)
	}
	s.Reloaded(testAt, nil)
	if s.Trust() != good {
		t.Fatal("not applied")
	}
	if m := do(t, "GET", s.URL+"/metrics", "", nil); !strings.Contains(string(m.Body), `trustmap_config_reloads_total{result="kept-previous"} 1`) {
		t.Fatalf("metrics: %s", m.Body)
	}
}

func TestExpectationChangeNeedsDistinctApprovers(t *testing.T) {
	ctx := context.Background()
	trust := testTrust(t)
	trust.Policy, trust.PolicyData = nil, nil // expectations from first use only
	approvers := approverKeys(t, 3)
	trust.Approvers = []*attest.PublicKey{approvers[0].Public(), approvers[1].Public()}
	trust.Threshold = 2
	s := newTestServer(t, trust, nil, Options{})

	// First use pins the package; a build from another repository fails.
	if a := do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, "app", "cases/pass-no-policy.intoto.jsonl")); a.Code != 200 {
		t.Fatalf("first use: %d %s", a.Code, a.Body)
	}
	fork := upload(t, "app", "cases/fork-source.intoto.jsonl")
	if a := do(t, "POST", s.URL+"/v1/verify", testToken, fork); a.Code != 422 || a.errorCode(t) != "ErrTOFUMismatch" {
		t.Fatalf("changed source: %d %s", a.Code, a.Body)
	}
	// Proposing needs a token and provenance that verifies.
	if a := do(t, "POST", s.URL+"/v1/packages/app/proposals", "", fork); a.Code != 401 {
		t.Fatalf("anonymous proposal: %d", a.Code)
	}
	if a := do(t, "POST", s.URL+"/v1/packages/app/proposals", testToken, upload(t, "app", "cases/unknown-signer.intoto.jsonl")); a.Code != 422 || a.errorCode(t) != "ErrUnknownSigner" {
		t.Fatalf("proposal from unverified provenance: %d %s", a.Code, a.Body)
	}
	a := do(t, "POST", s.URL+"/v1/packages/app/proposals", testToken, fork)
	if a.Code != http.StatusCreated {
		t.Fatalf("propose: %d %s", a.Code, a.Body)
	}
	var p ProposalInfo
	a.decode(t, &p)
	if p.BaseVersion != 1 || p.Threshold != 2 || p.ProposedBy != "token:ci" || p.Approval.Package != "app" || !strings.Contains(string(p.Approval.Parameters["/repository"]), "attacker") {
		t.Fatalf("proposal: %+v", p)
	}
	payload := do(t, "GET", s.URL+"/v1/proposals/"+p.ID+"/payload", "", nil).Body
	sign := func(k *attest.PrivateKey, b []byte) []byte {
		env, err := trustmap.SignApproval(ctx, b, []*attest.PrivateKey{k}, testAt)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	approve := func(env []byte) answer {
		return do(t, "POST", s.URL+"/v1/proposals/"+p.ID+"/approvals", testToken, env)
	}
	// A key that is not an approver, and a signature over other bytes.
	if a := approve(sign(approvers[2], payload)); a.Code != 403 || a.errorCode(t) != "ErrBadApproval" {
		t.Fatalf("non-approver: %d %s", a.Code, a.Body)
	}
	other := strings.Replace(string(payload), "attacker/app", "attacker/app2", 1)
	if other == string(payload) {
		t.Fatal("the payload does not name the fork")
	}
	if a := approve(sign(approvers[0], []byte(other))); a.Code != 403 || a.errorCode(t) != "ErrBadApproval" {
		t.Fatalf("signature over other bytes: %d %s", a.Code, a.Body)
	}
	// One approver twice is still one approval.
	for range 2 {
		a := approve(sign(approvers[0], payload))
		var r ApprovalResult
		a.decode(t, &r)
		if a.Code != 200 || r.Applied || len(r.Proposal.Approvals) != 1 {
			t.Fatalf("first approver: %d %s", a.Code, a.Body)
		}
	}
	if a := do(t, "POST", s.URL+"/v1/verify", testToken, fork); a.Code != 422 {
		t.Fatalf("applied with one approval: %d", a.Code)
	}
	a = approve(sign(approvers[1], payload))
	var r ApprovalResult
	a.decode(t, &r)
	if a.Code != 200 || !r.Applied || r.Proposal.AppliedAt == nil {
		t.Fatalf("second approver: %d %s", a.Code, a.Body)
	}
	if a := approve(sign(approvers[1], payload)); a.Code != 409 || a.errorCode(t) != "ErrProposalApplied" {
		t.Fatalf("approving an applied proposal: %d %s", a.Code, a.Body)
	}
	// The fork's build now passes; the old source fails.
	if a := do(t, "POST", s.URL+"/v1/verify", testToken, fork); a.Code != 200 {
		t.Fatalf("after approval: %d %s", a.Code, a.Body)
	}
	if a := do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, "app", "cases/pass-no-policy.intoto.jsonl")); a.Code != 422 {
		t.Fatalf("old source after approval: %d %s", a.Code, a.Body)
	}
	a = do(t, "GET", s.URL+"/v1/audit", testToken, nil)
	var audit AuditList
	a.decode(t, &audit)
	var events []string
	for _, e := range audit.Entries {
		events = append(events, e.Event)
	}
	if strings.Join(events, " ") != "first-use proposed approved approved applied" {
		t.Fatalf("audit: %v", events)
	}
	if audit.Entries[0].Actor != "token:ci" || audit.Entries[1].Actor != "token:ci" {
		t.Fatalf("the audit log does not name the uploader and proposer: %+v", audit.Entries[:2])
	}
	if !strings.Contains(string(audit.Entries[4].Detail), approvers[0].Fingerprint()) || !strings.Contains(string(audit.Entries[4].Detail), approvers[1].Fingerprint()) {
		t.Fatalf("applied entry does not name the approvers: %s", audit.Entries[4].Detail)
	}
}

func TestNoApproversNoChange(t *testing.T) {
	s := newTestServer(t, nil, nil, Options{})
	a := do(t, "POST", s.URL+"/v1/packages/app/proposals", testToken, upload(t, "app", "cases/fork-source.intoto.jsonl"))
	if a.Code != http.StatusConflict || a.errorCode(t) != "ErrConflict" {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
}

func TestErrorCodes(t *testing.T) {
	if got := ErrorCodes(errors.Join(trustmap.ErrSubjectMismatch, ErrMalformedRequest)); strings.Join(got, ",") != "ErrMalformedRequest,ErrSubjectMismatch" {
		t.Fatal(got)
	}
}

// Without a policy, trust on first use needs a package name.
func TestTOFUNeedsPackage(t *testing.T) {
	trust := testTrust(t)
	trust.Policy, trust.PolicyData = nil, nil
	s := newTestServer(t, trust, nil, Options{})
	a := do(t, "POST", s.URL+"/v1/verify", testToken, upload(t, "", "cases/pass-no-policy.intoto.jsonl"))
	if a.Code != 422 || a.errorCode(t) != "ErrUnknownPackage" {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
}

// Upload IDs stay what archives hold: the sha256 of the upload's JSON
// description with the pin version.
func TestUploadIDsStable(t *testing.T) {
	req, err := ParseUploadRequest(upload(t, "app", "cases/pass-no-policy.intoto.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	req.Artifacts = append(req.Artifacts, ArtifactRef{Name: "a.tgz", Digest: map[string]string{"sha256": appDigest, "sha512": strings.Repeat("ab", 64)}})
	prov := document(store.KindProvenance, []byte(req.Provenance))
	atts := []store.Document{document(store.KindAttestation, []byte("x")), document(store.KindAttestation, []byte("y"))}
	idFor := uploadIDs(req, prov, atts, "trust-digest")
	for _, v := range []int64{0, 1, 2, 10, 12345} {
		arts := []ArtifactRef{req.Artifacts[1], req.Artifacts[0]} // sorted by name
		want := fmt.Sprintf(`{"package":"app","artifacts":%s,"provenance":%q,"attestations":[%q,%q],"trust":"trust-digest","pinVersion":%d}`,
			mustJSON(t, arts), prov.Digest, atts[0].Digest, atts[1].Digest, v)
		sum := sha256.Sum256([]byte(want))
		if got := idFor(v); got != "sha256:"+hex.EncodeToString(sum[:]) {
			t.Errorf("pin version %d: %s", v, got)
		}
	}
}
