package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap"
)

type openAPISpec struct {
	Paths      map[string]map[string]openAPIOp `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

type openAPIOp struct {
	Responses map[string]struct {
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

func loadSpec(t *testing.T) *openAPISpec {
	t.Helper()
	var spec openAPISpec
	if err := json.Unmarshal(OpenAPI, &spec); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &spec
}

// The description and the handlers list the same endpoints.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	spec := loadSpec(t)
	s := newTestServer(t, nil, nil, Options{})
	var described []string
	for path, ops := range spec.Paths {
		for method := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(described)
	registered := slices.Clone(s.patterns)
	sort.Strings(registered)
	if !slices.Equal(described, registered) {
		t.Fatalf("openapi.json describes\n  %v\nthe server routes\n  %v", described, registered)
	}
	// Each described path, with sample parameters, reaches its own route.
	for _, d := range described {
		method, path, _ := strings.Cut(d, " ")
		url := regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(path, "x")
		req := httptest.NewRequest(method, url, nil)
		if _, pattern := s.mux.Handler(req); pattern != d {
			t.Errorf("%s %s routes to %q", method, url, pattern)
		}
	}
	if a := do(t, "GET", s.URL+"/v1/openapi.json", "", nil); a.Code != 200 || !bytes.Equal(a.Body, OpenAPI) {
		t.Fatalf("served description: %d", a.Code)
	}
}

// Every answer the handlers give in a scenario covering each endpoint has
// a status the description lists and a body its schema accepts.
func TestOpenAPIMatchesAnswers(t *testing.T) {
	spec := loadSpec(t)
	trust := testTrust(t)
	trust.Policy, trust.PolicyData = nil, nil
	keys := approverKeys(t, 1)
	trust.Approvers, trust.Threshold = []*attest.PublicKey{keys[0].Public()}, 1
	var seen sync.Map
	base := newTestServer(t, trust, nil, Options{})
	check := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		base.ServeHTTP(rec, r)
		_, pattern := base.mux.Handler(r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		if pattern == "" {
			return
		}
		method, path, _ := strings.Cut(pattern, " ")
		op, ok := spec.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s: not described", pattern)
			return
		}
		code := strconv.Itoa(rec.Code)
		resp, ok := op.Responses[code]
		if !ok {
			t.Errorf("%s answered %s, which the description does not list: %s", pattern, code, rec.Body)
			return
		}
		seen.Store(pattern+" "+code, true)
		media, ok := resp.Content["application/json"]
		if !ok {
			return
		}
		var body any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Errorf("%s %s: not JSON: %v", pattern, code, err)
			return
		}
		if err := validate(spec, media.Schema, body, "$"); err != nil {
			t.Errorf("%s %s: %v\n%s", pattern, code, err, rec.Body)
		}
	}))
	defer check.Close()
	url := check.URL
	// The scenario: uploads, archive reads, a change approved by one key.
	a := do(t, "POST", url+"/v1/verify", testToken, upload(t, "app", "cases/pass-no-policy.intoto.jsonl"))
	var v VerifyResponse
	a.decode(t, &v)
	do(t, "POST", url+"/v1/verify", testToken, upload(t, "app", "cases/pass-no-policy.intoto.jsonl"))
	fork := upload(t, "app", "cases/fork-source.intoto.jsonl")
	do(t, "POST", url+"/v1/verify", testToken, fork)
	do(t, "POST", url+"/v1/verify", testToken, []byte("{}"))
	do(t, "POST", url+"/v1/verify", "", fork)
	do(t, "GET", url+"/v1/attestations?package=app", testToken, nil)
	do(t, "GET", url+"/v1/attestations?subject=nope", testToken, nil)
	do(t, "GET", url+"/v1/attestations?package=app", "", nil)
	do(t, "GET", url+"/v1/attestations/"+v.Record, testToken, nil)
	do(t, "GET", url+"/v1/attestations/sha256:"+strings.Repeat("1", 64), testToken, nil)
	do(t, "GET", url+"/v1/attestations/x", testToken, nil)
	do(t, "GET", url+"/v1/documents/sha256:"+appDigest, testToken, nil)
	do(t, "GET", url+"/v1/packages/app", "", nil)
	do(t, "GET", url+"/v1/packages/none", "", nil)
	do(t, "POST", url+"/v1/packages/app/proposals", testToken, upload(t, "app", "cases/unknown-signer.intoto.jsonl"))
	a = do(t, "POST", url+"/v1/packages/app/proposals", testToken, fork)
	var p ProposalInfo
	a.decode(t, &p)
	do(t, "GET", url+"/v1/proposals/"+p.ID, "", nil)
	payload := do(t, "GET", url+"/v1/proposals/"+p.ID+"/payload", "", nil).Body
	env, err := trustmap.SignApproval(context.Background(), payload, []*attest.PrivateKey{keys[0]}, testAt)
	if err != nil {
		t.Fatal(err)
	}
	do(t, "POST", url+"/v1/proposals/"+p.ID+"/approvals", testToken, []byte("{"))
	do(t, "POST", url+"/v1/proposals/"+p.ID+"/approvals", testToken, env)
	do(t, "POST", url+"/v1/proposals/"+p.ID+"/approvals", testToken, env)
	do(t, "GET", url+"/v1/audit", testToken, nil)
	do(t, "GET", url+"/v1/audit?limit=1000", testToken, nil)
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/v1/openapi.json"} {
		do(t, "GET", url+path, "", nil)
	}
	for _, want := range []string{"POST /v1/verify 200", "POST /v1/verify 422", "POST /v1/verify 400", "POST /v1/verify 401", "GET /v1/attestations 200", "GET /v1/attestations/{id} 200", "GET /v1/packages/{name} 200", "GET /v1/audit 200", "GET /readyz 200", "GET /healthz 200", "POST /v1/packages/{name}/proposals 201", "POST /v1/proposals/{id}/approvals 200", "POST /v1/proposals/{id}/approvals 409", "GET /v1/proposals/{id} 200"} {
		if _, ok := seen.Load(want); !ok {
			t.Errorf("the scenario never produced %s", want)
		}
	}
}

// validate checks v against the subset of JSON Schema openapi.json uses.
func validate(spec *openAPISpec, schema map[string]any, v any, at string) error {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		s, ok := spec.Components.Schemas[name]
		if !ok {
			return fmt.Errorf("%s: unknown schema %s", at, ref)
		}
		return validate(spec, s, v, at)
	}
	if c, ok := schema["const"]; ok && c != v {
		return fmt.Errorf("%s: expected %v, got %v", at, c, v)
	}
	if e, ok := schema["enum"].([]any); ok && !slices.Contains(e, v) {
		return fmt.Errorf("%s: %v not in %v", at, v, e)
	}
	switch schema["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: expected an object, got %T", at, v)
		}
		for _, r := range asList(schema["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required member %q missing", at, r)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for name, val := range obj {
			ps, ok := props[name].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					return fmt.Errorf("%s: member %q not in the schema", at, name)
				}
				continue
			}
			if err := validate(spec, ps, val, at+"."+name); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: expected an array, got %T", at, v)
		}
		items, _ := schema["items"].(map[string]any)
		for i, x := range arr {
			if items != nil {
				if err := validate(spec, items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: expected a string, got %T", at, v)
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			return fmt.Errorf("%s: %q does not match %s", at, s, p)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: expected an integer, got %v", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: expected a boolean, got %T", at, v)
		}
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
