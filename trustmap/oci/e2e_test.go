//go:build e2e

package oci_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

// Against a real registry server: Debian's docker-registry (distribution
// 2.8), which has no referrers API, so referrers go through the sha256-HEX
// tag and cosign's .att tag is read as cosign writes it.

func distribution(t testing.TB) *ocitest.Registry { return ocitest.StartDistribution(t, "") }

func TestDistributionReferrers(t *testing.T)  { testReferrers(t, distribution) }
func TestDistributionRejections(t *testing.T) { testRejections(t, distribution) }

func TestDistributionCosignFixture(t *testing.T) {
	reg := distribution(t)
	ocitest.PushLayout(t, cosignLayout, reg.Host+"/hallmark/app")
	reg.Reset()
	checkCosignFixture(t, oci.New(oci.Options{}), "oci://"+reg.Host+"/hallmark/app:v1")
	for p, n := range reg.Count() {
		if n != 1 {
			t.Errorf("GET %s served %d times, want once", p, n)
		}
	}
}

// TestDistributionKeylessFixture: the keyless fixture (oras attached the
// corpus bundle through the referrers tag) pushed to docker-registry.
func TestDistributionKeylessFixture(t *testing.T) {
	reg := distribution(t)
	ocitest.PushLayout(t, keylessLayout, reg.Host+"/bcr/module")
	reg.Reset()
	checkKeylessFixture(t, oci.New(oci.Options{}), "oci://"+reg.Host+"/bcr/module:v1")
	for p, n := range reg.Count() {
		if n != 1 {
			t.Errorf("GET %s served %d times, want once", p, n)
		}
	}
}

// TestDistributionAuth: a registry that requires credentials refuses
// anonymous reads (ErrUnauthorized) and accepts the credentials of the
// Docker config, read through authn.DefaultKeychain.
func TestDistributionAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	reg := ocitest.StartDistribution(t, "ci:"+string(hash)+"\n")
	dir := t.TempDir()
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("ci:s3cret"))}}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	ocitest.PushLayout(t, cosignLayout, reg.Host+"/hallmark/app", remote.WithAuthFromKeychain(authn.DefaultKeychain))

	_, err = oci.New(oci.Options{}).Discover(t.Context(), "oci://"+reg.Host+"/hallmark/app:v1")
	if !errors.Is(err, oci.ErrUnauthorized) {
		t.Fatalf("anonymous: got %v, want ErrUnauthorized", err)
	}
	checkCosignFixture(t, oci.New(oci.Options{Keychain: authn.DefaultKeychain}), "oci://"+reg.Host+"/hallmark/app:v1")
}
