package trustmap

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Both hashing paths (small files, and large files read while hashing)
// give the standard digests.
func TestArtifactDigest(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 1<<20 + 3, pipelineThreshold, pipelineThreshold + 4<<20 + 7} {
		data := bytes.Repeat([]byte{0x5a, 0x01, 0xff}, size/3+1)[:size]
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		a := FileArtifact(p)
		got256, err := a.Digest("sha256")
		if err != nil {
			t.Fatal(err)
		}
		got512, _ := a.Digest("sha512")
		s256 := sha256.Sum256(data)
		s512 := sha512.Sum512(data)
		if got256 != hex.EncodeToString(s256[:]) || got512 != hex.EncodeToString(s512[:]) {
			t.Fatalf("size %d: wrong digest", size)
		}
	}
	if _, err := FileArtifact(filepath.Join(dir, "missing")).Digest("sha256"); err == nil {
		t.Fatal("missing file hashed")
	}
	if _, err := BytesArtifact("x", nil).Digest("md5"); err == nil {
		t.Fatal("md5 accepted")
	}
}

// An artifact without a file (no path, or a zero Artifact) is an error,
// never a panic; unsupported algorithms are refused before any read.
func TestArtifactWithoutFile(t *testing.T) {
	for _, a := range []*Artifact{FileArtifact(""), {}, FileArtifact(filepath.Join(t.TempDir(), "missing"))} {
		if d, err := a.Digest("sha256"); err == nil {
			t.Fatalf("%q: digest %s without a file", a.Name, d)
		}
		if _, err := a.Digest("md5"); !errors.Is(err, ErrNoSupportedDigest) {
			t.Fatalf("%q: md5: %v", a.Name, err)
		}
	}
}
