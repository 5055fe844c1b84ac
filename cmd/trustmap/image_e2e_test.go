//go:build e2e

package main

import (
	"testing"

	"github.com/hallmark-build/hallmark/trustmap/oci/ocitest"
)

// TestImageScriptsDistribution runs the README's image commands against a
// real registry server, Debian's docker-registry (no referrers API: the
// referrers tag is used).
func TestImageScriptsDistribution(t *testing.T) {
	reg := ocitest.StartDistribution(t, "")
	runImageScripts(t, reg.Host)
}
