package limitio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadLimits(t *testing.T) {
	if b, err := ReadAll(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Fatalf("at the cap: %q %v", b, err)
	}
	if _, err := ReadAll(strings.NewReader("123456"), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("123456"), 0o644)
	if _, err := ReadFile(p, 5); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("file over the cap: %v", err)
	}
}

func TestReadFileSizes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 5, 4096, 100_000} {
		p := filepath.Join(dir, "f")
		want := strings.Repeat("x", n)
		os.WriteFile(p, []byte(want), 0o644)
		if b, err := ReadFile(p, 100_000); err != nil || string(b) != want {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(b), err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "f"), 99_999); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}
}
