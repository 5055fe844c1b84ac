//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hallmark-build/hallmark/internal/cli"
)

// Inputs must be regular files: /dev/zero or a FIFO as artifact, provenance
// or manifest entry is exit 2 with the path and what it is, never a hang.
func TestNonRegularInputs(t *testing.T) {
	v := "../../testdata/verify"
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"verify", "--roots", v + "/roots.json", "--source-uri", "https://git.example.com/app"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(base, "--provenance", v+"/cases/pass-policy-l3.intoto.jsonl", "/dev/zero"), "/dev/zero is a character device"},
		{append(base, "--provenance", v+"/cases/pass-policy-l3.intoto.jsonl", fifo), fifo + " is a named pipe (FIFO)"},
		{append(base, "--provenance", fifo, v+"/app-1.2.3.tar.gz"), fifo + " is a named pipe (FIFO)"},
		{append(base, "--provenance", "/dev/zero", v+"/app-1.2.3.tar.gz"), "/dev/zero is a character device"},
		{append(base, "--batch", fifo), fifo + " is a named pipe (FIFO)"},
		{[]string{"verify", "--roots", fifo, "--source-uri", "x", "--provenance", v + "/cases/pass-policy-l3.intoto.jsonl", v + "/app-1.2.3.tar.gz"}, fifo + " is a named pipe (FIFO)"},
	} {
		code, _, stderr := runTrustmap(t, tc.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, "not a regular file: "+tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, stderr)
		}
	}
	// In a batch, an entry naming a device fails that item; the rest go on.
	os.WriteFile(filepath.Join(dir, "m.jsonl"), []byte(
		`{"artifact":"/dev/zero","provenance":"`+abs(t, v+"/cases/pass-policy-l3.intoto.jsonl")+`"}`+"\n"+
			`{"artifact":"`+abs(t, v+"/app-1.2.3.tar.gz")+`","provenance":"fifo"}`+"\n"+
			`{"artifact":"`+abs(t, v+"/app-1.2.3.tar.gz")+`","provenance":"`+abs(t, v+"/cases/pass-policy-l3.intoto.jsonl")+`"}`+"\n"), 0o600)
	code, stdout, _ := runTrustmap(t, append(base, "--batch", filepath.Join(dir, "m.jsonl"))...)
	if code != cli.ExitFailed || strings.Count(stdout, "is a character device") != 1 || strings.Count(stdout, "is a named pipe") != 1 || strings.Count(stdout, `"passed":true`) != 1 {
		t.Fatalf("batch: exit %d\n%s", code, stdout)
	}
}

func abs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
