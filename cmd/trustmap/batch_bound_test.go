package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/trustmap"
)

// Batch mode inherits the bound on signature work: an item whose
// provenance is 256 envelopes of 16 random signatures fails on its own with
// "too many signature checks", and the next item is verified as usual.
func TestBatchInheritsSignatureBound(t *testing.T) {
	v, err := filepath.Abs("../../testdata/verify")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rnd := mrand.NewChaCha8([32]byte{3})
	var flood strings.Builder
	for range 256 {
		var sigs []map[string]string
		for range 16 {
			sig, id := make([]byte, 72), make([]byte, 16)
			rnd.Read(sig)
			rnd.Read(id)
			sigs = append(sigs, map[string]string{"keyid": hex.EncodeToString(id), "sig": base64.StdEncoding.EncodeToString(sig)})
		}
		line, _ := json.Marshal(map[string]any{"payloadType": trustmap.InTotoPayloadType, "payload": base64.StdEncoding.EncodeToString([]byte(`{"_type":"x"}`)), "signatures": sigs})
		flood.Write(append(line, '\n'))
	}
	if err := os.WriteFile(filepath.Join(dir, "flood.intoto.jsonl"), []byte(flood.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := `{"artifact":"` + v + `/app-1.2.3.tar.gz","provenance":"flood.intoto.jsonl"}` + "\n" +
		`{"artifact":"` + v + `/app-1.2.3.tar.gz","provenance":"` + v + `/cases/pass-policy-l3.intoto.jsonl"}` + "\n"
	os.WriteFile(filepath.Join(dir, "m.jsonl"), []byte(manifest), 0o600)
	code, stdout, stderr := runTrustmap(t, "verify", "--roots", v+"/roots.json", "--source-uri", "https://git.example.com/app",
		"--at", "2026-12-01T00:00:00Z", "--batch", filepath.Join(dir, "m.jsonl"))
	if code != cli.ExitFailed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := map[int]trustmap.BatchResult{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r trustmap.BatchResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		lines[r.Line] = r
	}
	if r := lines[1]; r.Passed || !strings.Contains(r.Error, "too many signature checks") {
		t.Errorf("flood item: %+v", r)
	}
	if r := lines[2]; !r.Passed || r.Level != 3 {
		t.Errorf("next item: %+v", r)
	}
}
