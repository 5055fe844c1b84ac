package trustmap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// testPKI issues certificates for the chain cache tests.
type testPKI struct {
	t      *testing.T
	serial int64
}

type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var pkiStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func (p *testPKI) issue(name string, parent *issued, ca bool, from, until time.Time, edit func(*x509.Certificate)) *issued {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    from,
		NotAfter:     until,
	}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	if edit != nil {
		edit(tmpl)
	}
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		p.t.Fatal(err)
	}
	return &issued{cert: c, key: key}
}

// Chains verified in full are reused only where crypto/x509 would verify
// the same: same issuer certificate (by its bytes), offered to this
// verification, inside every validity window, and never past the end of
// the authority's validity in the trusted root.
func TestChainCache(t *testing.T) {
	p := &testPKI{t: t}
	year := pkiStart.AddDate(1, 0, 0)
	rootCA := p.issue("root", nil, true, pkiStart, pkiStart.AddDate(10, 0, 0), nil)
	inter1 := p.issue("intermediate", rootCA, true, pkiStart, year, nil)
	inter2 := p.issue("intermediate 2", rootCA, true, pkiStart, pkiStart.AddDate(5, 0, 0), nil)
	// Same name as inter1, another key, not issued by the root.
	impostor := p.issue("intermediate", p.issue("attacker", nil, true, pkiStart, year, nil), true, pkiStart, year, nil)
	at := pkiStart.AddDate(0, 6, 0)
	leaf := func(parent *issued) *x509.Certificate {
		return p.issue("", parent, false, at.Add(-time.Minute), at.Add(10*time.Minute), nil).cert
	}

	ca := &root.FulcioCertificateAuthority{Root: rootCA.cert, Intermediates: []*x509.Certificate{inter1.cert, inter2.cert}}
	cache := &chainCache{}
	var wantFull, wantFast int64
	check := func(name string, ca *root.FulcioCertificateAuthority, offered []*x509.Certificate, leaf *x509.Certificate, when time.Time, wantOK, fast bool) {
		t.Helper()
		var chains [][]*x509.Certificate
		got, err := (&cachingCA{ca: ca, cache: cache, offered: offered, verified: &chains}).Verify(leaf, when)
		// The same verification without the cache.
		_, ref := (&cachingCA{ca: ca, cache: &chainCache{}, offered: offered, verified: new([][]*x509.Certificate)}).Verify(leaf, when)
		switch {
		case (err == nil) != (ref == nil):
			t.Errorf("%s: with the cache %v, without %v", name, err, ref)
		case (err == nil) != wantOK:
			t.Errorf("%s: err = %v, want ok %v", name, err, wantOK)
		case err == nil && (len(got[0]) < 2 || leaf.CheckSignatureFrom(got[0][1]) != nil || !got[0][len(got[0])-1].Equal(ca.Root) || len(chains) == 0):
			t.Errorf("%s: chain %v", name, got)
		}
		if fast {
			wantFast++
		} else {
			wantFull++
		}
		if f, q := cache.full.Load(), cache.fast.Load(); f != wantFull || q != wantFast {
			t.Errorf("%s: %d full and %d cached verifications, want %d and %d", name, f, q, wantFull, wantFast)
		}
	}
	check("first leaf of an intermediate", ca, nil, leaf(inter1), at, true, false)
	check("another leaf of the same intermediate", ca, nil, leaf(inter1), at, true, true)
	check("a leaf of another intermediate", ca, nil, leaf(inter2), at, true, false)
	check("a leaf of the other intermediate again", ca, nil, leaf(inter2), at, true, true)
	// An intermediate with the cached one's name but another key (and
	// offered by the bundle) is verified in full, and refused.
	check("impostor intermediate", ca, []*x509.Certificate{impostor.cert}, leaf(impostor), at, false, false)
	// A leaf valid only after the cached intermediate expired.
	late := year.Add(time.Hour)
	lateLeaf := p.issue("", inter1, false, late.Add(-time.Minute), late.Add(time.Minute), nil).cert
	check("time past the cached intermediate", ca, nil, lateLeaf, late, false, false)
	// A leaf that is not valid at the time (cached issuer).
	check("expired leaf", ca, nil, leaf(inter1), at.Add(time.Hour), false, false)
	// The authority's validity in the trusted root ends: the cached
	// chain is not used, whatever it says.
	ended := *ca
	ended.ValidityPeriodEnd = at.Add(-time.Second)
	cache.byCA[&ended] = cache.byCA[ca] // even with its entries
	var chains [][]*x509.Certificate
	if _, err := (&cachingCA{ca: &ended, cache: cache, verified: &chains}).Verify(leaf(inter1), at); err == nil || !strings.Contains(err.Error(), "no longer valid") {
		t.Errorf("authority validity ended: err = %v", err)
	}
	notYet := *ca
	notYet.ValidityPeriodStart = at.Add(time.Second)
	cache.byCA[&notYet] = cache.byCA[ca]
	if _, err := (&cachingCA{ca: &notYet, cache: cache, verified: &chains}).Verify(leaf(inter1), at); err == nil || !strings.Contains(err.Error(), "not valid yet") {
		t.Errorf("authority validity not started: err = %v", err)
	}
	// Another authority (a new trusted root without the revoked one) has
	// its own entries: the chain of inter1 is verified in full there, and
	// refused by a root that did not issue it.
	otherRoot := p.issue("root", nil, true, pkiStart, pkiStart.AddDate(10, 0, 0), nil)
	other := &root.FulcioCertificateAuthority{Root: otherRoot.cert, Intermediates: []*x509.Certificate{inter1.cert}}
	check("revoked root", other, nil, leaf(inter1), at, false, false)

	// An intermediate only an earlier bundle offered is not reused for a
	// bundle that does not offer it (crypto/x509 would not find it).
	bare := &root.FulcioCertificateAuthority{Root: rootCA.cert}
	check("intermediate offered by the bundle", bare, []*x509.Certificate{inter1.cert}, leaf(inter1), at, true, false)
	check("same intermediate offered again", bare, []*x509.Certificate{inter1.cert}, leaf(inter1), at, true, true)
	check("intermediate not offered", bare, nil, leaf(inter1), at, false, false)

	// Name constraints are not cached: every leaf is verified in full.
	constrained := p.issue("constrained", rootCA, true, pkiStart, year, func(c *x509.Certificate) {
		c.PermittedURIDomains = []string{"example.com"}
	})
	withConstraints := &root.FulcioCertificateAuthority{Root: rootCA.cert, Intermediates: []*x509.Certificate{constrained.cert}}
	uriLeaf := func() *x509.Certificate {
		return p.issue("", constrained, false, at.Add(-time.Minute), at.Add(time.Minute), func(c *x509.Certificate) {
			c.URIs = []*url.URL{{Scheme: "https", Host: "example.com"}}
		}).cert
	}
	check("constrained intermediate", withConstraints, nil, uriLeaf(), at, true, false)
	check("constrained intermediate again", withConstraints, nil, uriLeaf(), at, true, false)
	outside := p.issue("", constrained, false, at.Add(-time.Minute), at.Add(time.Minute), func(c *x509.Certificate) {
		c.URIs = []*url.URL{{Scheme: "https", Host: "attacker.example"}}
	}).cert
	check("name outside the constraints", withConstraints, nil, outside, at, false, false)

	// A leaf without the code-signing usage, issued by a cached
	// intermediate.
	serverLeaf := p.issue("", inter1, false, at.Add(-time.Minute), at.Add(time.Minute), func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}).cert
	check("wrong key usage", ca, nil, serverLeaf, at, false, false)
	// A leaf with an unhandled critical extension.
	critical := p.issue("", inter1, false, at.Add(-time.Minute), at.Add(time.Minute), func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: []int{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
	}).cert
	check("unhandled critical extension", ca, nil, critical, at, false, false)
}

// The cache holds a bounded number of chains per authority.
func TestChainCacheBounded(t *testing.T) {
	p := &testPKI{t: t}
	rootCA := p.issue("root", nil, true, pkiStart, pkiStart.AddDate(10, 0, 0), nil)
	ca := &root.FulcioCertificateAuthority{Root: rootCA.cert}
	cache := &chainCache{}
	for i := range 3 * maxCachedChains {
		in := p.issue(fmt.Sprint("intermediate ", i), rootCA, true, pkiStart, pkiStart.AddDate(1, 0, 0), nil)
		cache.add(ca, []*x509.Certificate{in.cert, rootCA.cert})
	}
	if n := len(cache.byCA[ca]); n != maxCachedChains {
		t.Fatalf("%d chains cached, want %d", n, maxCachedChains)
	}
}
