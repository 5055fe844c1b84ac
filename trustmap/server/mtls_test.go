package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func certificate(t *testing.T, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	parent, signer := tmpl, key
	if ca == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		parent, signer = ca, caKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// A client certificate signed by the configured CA may write; one from
// another CA, or none, may not.
func TestClientCertificateWrites(t *testing.T) {
	ca, caKey := certificate(t, "registry CA", nil, nil)
	other, otherKey := certificate(t, "other CA", nil, nil)
	good, goodKey := certificate(t, "uploader", ca, caKey)
	bad, badKey := certificate(t, "mallory", other, otherKey)
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	s, err := New(testTrustNoPolicy(t), openTestStore(t), Options{Now: func() time.Time { return testAt }, Tokens: []Token{}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(s)
	hs.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	hs.StartTLS()
	defer hs.Close()
	post := func(cert *x509.Certificate, key *ecdsa.PrivateKey) int {
		tr := hs.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}
		}
		resp, err := (&http.Client{Transport: tr}).Post(hs.URL+"/v1/verify", "application/json", bytes.NewReader(upload(t, "app", "cases/pass-no-policy.intoto.jsonl")))
		if err != nil {
			return -1 // the handshake refused the certificate
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(good, goodKey); code != http.StatusOK {
		t.Fatalf("certificate from the CA: %d", code)
	}
	if code := post(nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("no certificate: %d", code)
	}
	if code := post(bad, badKey); code == http.StatusOK {
		t.Fatalf("certificate from another CA: %d", code)
	}
	var audit AuditList
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/audit", nil)
	req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{good, ca}}}
	s.ServeHTTP(rec, req)
	answer{rec.Code, rec.Body.Bytes()}.decode(t, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Event != "first-use" {
		t.Fatalf("audit: %+v", audit)
	}
}
