package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/cli"
)

// runTrustmap runs the command with a fixed clock and captured output.
func runTrustmap(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Workers: 2,
		Getenv: func(string) string { return "" }, Now: func() time.Time { return testNow },
		ReadPassword: func(string) ([]byte, error) { return nil, cli.ErrNoPassword }}
	code = cli.Execute(newRoot(e), args)
	return code, out.String(), errb.String()
}

// The defaults fail closed, and contradictory or meaningless loosenings are
// usage errors (exit 2), not silently ignored.
func TestVerifyUsageErrors(t *testing.T) {
	v := "../../testdata/verify"
	prov, art := v+"/cases/pass-policy-l3.intoto.jsonl", v+"/app-1.2.3.tar.gz"
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--policy", v + "/policy.json", "--package", "example-app", "--policy-threshold", "2"}, cli.ExitUsage, "--policy-threshold needs --policy-key"},
		{[]string{"--policy", v + "/policy.json", "--package", "example-app", "--source-uri", "git.example.com/app"}, cli.ExitUsage, "give --policy or inline expectations"},
		{[]string{"--source-ref", "refs/tags/v*"}, cli.ExitUsage, "inline expectations need a source repository (--source-uri)"},
		{[]string{"--insecure-no-expectations", "--source-uri", "git.example.com/app"}, cli.ExitUsage, "--insecure-no-expectations contradicts"},
		{[]string{"--policy", v + "/policy-no-build-types.json", "--package", "example-app"}, cli.ExitUsage, `package "example-app": expected buildTypes`},
		{nil, cli.ExitFailed, ""},
		{[]string{"--source-uri", "git.example.com/app"}, cli.ExitOK, ""},
		{[]string{"--insecure-no-expectations"}, cli.ExitOK, ""},
	} {
		args := append(append([]string{"verify", "--roots", v + "/roots.json", "--at", "2026-12-01T00:00:00Z", "--provenance", prov}, tc.args...), art)
		code, stdout, stderr := runTrustmap(t, args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d; stderr %q", tc.args, code, tc.code, stderr)
		}
		if tc.args == nil && !strings.Contains(stdout, "no expectations to verify the provenance against") {
			t.Errorf("no expectations: %s", stdout)
		}
	}
}
