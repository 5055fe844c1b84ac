//go:build linux

package limitio

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Open refuses what OpenRegularInfo refused, with the same
// messages (path included), follows symlinks to what it refuses, leaks
// no descriptor, and a closed File never reads a descriptor that was
// reused since.
func TestOpenLikeOpenRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	linkFifo := filepath.Join(dir, "link-to-fifo")
	os.Symlink(fifo, linkFifo)
	linkDir := filepath.Join(dir, "link-to-dir")
	os.Symlink(dir, linkDir)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nothing"), dangling)
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	regular := filepath.Join(dir, "f")
	os.WriteFile(regular, []byte("x"), 0o600)
	notDir := filepath.Join(regular, "sub")

	fds := func() int {
		es, _ := os.ReadDir("/proc/self/fd")
		return len(es)
	}
	before := fds()
	for _, p := range []string{fifo, linkFifo, "/dev/null", "/dev/zero", dir, linkDir, dangling, sock, filepath.Join(dir, "missing"), notDir, "", "a\x00b", strings.Repeat("x", 5000)} {
		_, errOld := OpenRegular(p)
		f, errNew := Open(p)
		if errNew == nil {
			f.Close()
			t.Errorf("Open(%q) accepted", p)
			continue
		}
		if errOld.Error() != errNew.Error() {
			t.Errorf("Open(%q): %q, before %q", p, errNew, errOld)
		}
		if !strings.Contains(errNew.Error(), p) {
			t.Errorf("Open(%q): %q does not name the path", p, errNew)
		}
		for _, target := range []error{ErrNotRegular, os.ErrNotExist} {
			if errors.Is(errOld, target) != errors.Is(errNew, target) {
				t.Errorf("Open(%q): errors.Is(%v) differs: %v, before %v", p, target, errNew, errOld)
			}
		}
	}
	if after := fds(); after != before {
		t.Errorf("descriptors: %d before, %d after", before, after)
	}

	// A closed File does not read the descriptor its number now names.
	f, err := Open(regular)
	if err != nil {
		t.Fatal(err)
	}
	fd := f.fd
	f.Close()
	other := filepath.Join(dir, "other")
	os.WriteFile(other, []byte("secret"), 0o600)
	g, err := Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.fd != fd {
		t.Logf("descriptor not reused (%d, %d)", fd, g.fd)
	}
	if b, err := io.ReadAll(f); len(b) != 0 || err == nil {
		t.Fatalf("closed File read %q, %v", b, err)
	}
}

// ReadFile enforces its limit on a file that grows after it was
// opened, and reads a file that shrinks to its new end.
func TestReadFileGrowsShrinks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("0123456789"), 0o600)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	w.Write(make([]byte, 100))
	w.Close()
	if _, err := ReadFile(p, 50); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("grown file: %v", err)
	}
	// Opened at 110 bytes, cut to 3: read to the new end.
	b := make([]byte, 0, f.Size()+1)
	os.Truncate(p, 3)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(b) != "012" {
		t.Fatalf("shrunk file read %q", b)
	}
	// Limit exactly the size, and one less.
	os.WriteFile(p, []byte("0123456789"), 0o600)
	if b, err := ReadFile(p, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("at the limit: %q %v", b, err)
	}
	if _, err := ReadFile(p, 9); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), p) {
		t.Fatalf("over the limit: %v", err)
	}
	if b, err := ReadFile(p, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit 0: %q %v", b, err)
	}
	os.WriteFile(p, nil, 0o600)
	if b, err := ReadFile(p, 0); err != nil || len(b) != 0 {
		t.Fatalf("empty, limit 0: %q %v", b, err)
	}
}
