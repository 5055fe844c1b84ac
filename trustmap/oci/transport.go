package oci

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// NewTransport returns the HTTP transport for registries: TLS 1.2 or newer
// with the system roots, plus extraRoots (--registry-ca) when given.
func NewTransport(extraRoots *x509.CertPool) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if extraRoots != nil {
		t.TLSClientConfig.RootCAs = extraRoots
	}
	t.ResponseHeaderTimeout = 60 * time.Second
	t.MaxIdleConnsPerHost = 16 // manifests and blobs are read several at a time
	return t
}

// SystemRootsWith returns the system roots plus the PEM certificates given.
func SystemRootsWith(pem []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("registry CA: no PEM certificate found")
	}
	return pool, nil
}

// guard enforces, on every request the registry client makes (token
// requests included): plain HTTP only to loopback hosts, and a size cap on
// every response body, checked against Content-Length before reading and
// enforced while reading.
type guard struct {
	base                 http.RoundTripper
	manifestCap, blobCap int64
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("%w: %s://%s (only loopback registries may be reached without TLS)", ErrInsecure, req.URL.Scheme, req.URL.Host)
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	limit := g.manifestCap
	if strings.Contains(req.URL.Path, "/blobs/") {
		limit = g.blobCap
	}
	if resp.ContentLength > limit {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s %s announces %d bytes, the cap is %d", ErrTooLarge, req.Method, req.URL.Path, resp.ContentLength, limit)
	}
	resp.Body = &capped{ReadCloser: resp.Body, left: limit, what: req.URL.Path}
	return resp, nil
}

// capped fails a read past its limit instead of truncating silently.
type capped struct {
	io.ReadCloser
	left int64
	what string
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, fmt.Errorf("%w: %s", ErrTooLarge, c.what)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return 0, fmt.Errorf("%w: %s is larger than the cap", ErrTooLarge, c.what)
	}
	return n, err
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
