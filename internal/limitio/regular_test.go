//go:build unix

package limitio

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO without a writer, a device that never ends and a directory are
// refused at once, saying what they are; nothing blocks.
func TestOpenRegularRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, what := range map[string]string{fifo: "a named pipe (FIFO)", "/dev/zero": "a character device", dir: "a directory"} {
		_, err := OpenRegular(path)
		if !errors.Is(err, ErrNotRegular) || err.Error() != "not a regular file: "+path+" is "+what {
			t.Errorf("OpenRegular(%s) = %v", path, err)
		}
		if _, err := ReadFile(path, 1<<20); !errors.Is(err, ErrNotRegular) {
			t.Errorf("ReadFile(%s) = %v", path, err)
		}
		if err := CheckRegular(path); !errors.Is(err, ErrNotRegular) {
			t.Errorf("CheckRegular(%s) = %v", path, err)
		}
	}
	regular := filepath.Join(dir, "f")
	os.WriteFile(regular, []byte("x"), 0o600)
	if b, err := ReadFile(regular, 10); err != nil || string(b) != "x" {
		t.Fatalf("regular file: %q %v", b, err)
	}
}
