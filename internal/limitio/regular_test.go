//go:build unix

package limitio

import (
	"errors"
	"io"
	"io/fs"
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

// A File reads its regular file to the end, reports the size it had when
// opened, and refuses to be read or closed once closed.
func TestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("hello"), 0o600)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Size() != 5 {
		t.Fatalf("size %d", f.Size())
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	if n, err := f.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Fatalf("at the end: %d, %v", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for path := range map[string]bool{"/dev/zero": true, t.TempDir(): true} {
		if _, err := Open(path); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Open(%s) = %v", path, err)
		}
	}
}
