//go:build e2e

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/pgtest"
)

// TestTOFUStorePostgres: trustmap verify --tofu-store takes the store URI
// of a PostgreSQL database (the gate's store): the first use pins, a build
// from another repository then fails against the pin.
func TestTOFUStorePostgres(t *testing.T) {
	pg := pgtest.Start(t)
	uri := pg.NewDatabase(t)
	v := "../../testdata/verify"
	run := func(prov string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := cli.Execute(newRoot(testEnv(&stdout, &stderr)), []string{"verify", "--roots", v + "/roots.json", "--tofu-store", uri,
			"--package", "app", "--provenance", v + "/cases/" + prov, "--at", "2026-12-01T00:00:00Z", v + "/app-1.2.3.tar.gz"})
		return code, stdout.String(), stderr.String()
	}
	if code, out, errs := run("pass-no-policy.intoto.jsonl"); code != 0 || !strings.HasPrefix(out, "PASSED") || !strings.Contains(errs, "trust on first use: recorded app in postgres://") {
		t.Fatalf("first use: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run("fork-source.intoto.jsonl"); code != 1 || !strings.Contains(out, "provenance differs from what was first seen: parameter /repository") {
		t.Fatalf("another repository: %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run("pass-no-policy.intoto.jsonl"); code != 0 || strings.Contains(errs, "recorded") {
		t.Fatalf("same source again: %d\n%s%s", code, out, errs)
	}
}
