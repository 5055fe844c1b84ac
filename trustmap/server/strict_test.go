package server

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// An upload body has one reading, like every document trustmap reads: a
// member given twice, or two names that differ only in case, are refused
// at every level (a proxy reading the last "package" and the gate the
// first would disagree on which pin an upload touches).
func TestUploadRequestOneReading(t *testing.T) {
	art := `{"name":"a","digest":{"sha256":"` + appDigest + `"}}`
	good := `{"package":"app","artifacts":[` + art + `],"provenance":"x"}`
	if _, err := ParseUploadRequest([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		body string
		want error
	}{
		"duplicate package":          {`{"package":"app","package":"other","artifacts":[` + art + `],"provenance":"x"}`, strictjson.ErrDuplicateName},
		"case-variant package":       {`{"Package":"other","package":"app","artifacts":[` + art + `],"provenance":"x"}`, strictjson.ErrCaseVariant},
		"case-variant only":          {`{"PACKAGE":"other","artifacts":[` + art + `],"provenance":"x"}`, strictjson.ErrCaseVariant},
		"duplicate digest algorithm": {`{"package":"app","artifacts":[{"name":"a","digest":{"sha256":"` + appDigest + `","sha256":"` + strings.Repeat("0", 64) + `"}}],"provenance":"x"}`, strictjson.ErrDuplicateName},
		"case-variant artifact name": {`{"package":"app","artifacts":[{"Name":"b","name":"a","digest":{"sha256":"` + appDigest + `"}}],"provenance":"x"}`, strictjson.ErrCaseVariant},
		"duplicate provenance":       {`{"package":"app","artifacts":[` + art + `],"provenance":"x","provenance":"y"}`, strictjson.ErrDuplicateName},
	} {
		_, err := ParseUploadRequest([]byte(tc.body))
		if !errors.Is(err, ErrMalformedRequest) || !strings.Contains(err.Error(), tc.want.Error()) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

// A threshold counts distinct approvers: a configuration that lists one
// approver's key twice (even from two differently wrapped PEM files) is
// refused when loaded, and the previous one stays.
func TestApproverKeyGivenTwiceRefused(t *testing.T) {
	key, err := attest.GenerateKey(attest.ECDSAP256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	trust := testTrust(t)
	pub := key.Public()
	pemBytes, _ := pub.MarshalPEM()
	again, err := attest.ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	trust.Approvers, trust.Threshold = []*attest.PublicKey{pub, again}, 2
	srv := newTestServer(t, nil, nil, Options{})
	before := srv.Trust()
	if err := srv.SetTrust(trust); !errors.Is(err, attest.ErrDuplicateKey) || srv.Trust() != before {
		t.Fatalf("approver key twice: err = %v", err)
	}
}
