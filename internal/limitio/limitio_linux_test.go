package limitio

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// A file whose size, when opened, says less than it holds (the kernel's
// files under /proc report 0) is read to its end all the same.
func TestReadFileLongerThanItsSize(t *testing.T) {
	const p = "/proc/self/status"
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != 0 {
		t.Fatalf("%s: expected a file of size 0 that holds data, got %v, %v", p, fi, err)
	}
	b, err := ReadFile(p, 1<<20)
	if err != nil || !strings.Contains(string(b), "Name:") {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := ReadFile(p, 10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}
