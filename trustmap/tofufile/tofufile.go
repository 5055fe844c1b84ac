// Package tofufile keeps trust-on-first-use pins in a JSON file shared by
// concurrent verifiers. Every read-modify-write holds an OS file lock on a
// sidecar file (FILE.lock) from the read to the atomic rename of the new
// file, so 20 verifiers recording 20 new packages at once keep 20 pins, and
// a verifier that read the store before an approval cannot write the old
// pin back.
package tofufile

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/filelock"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/trustmap"
)

// Store is a TOFU store in one file.
type Store struct {
	path string
}

var _ trustmap.TOFUStore = (*Store)(nil)

// Open returns the store kept in path (created on the first write).
func Open(path string) *Store { return &Store{path: path} }

// LockPath is the sidecar file whose lock serialises writers.
func (s *Store) LockPath() string { return s.path + ".lock" }

// UpdatePackage implements trustmap.TOFUStore: the whole store is locked
// from the read to the write.
func (s *Store) UpdatePackage(ctx context.Context, pkg string, fn func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error)) error {
	if err := checkPath(s.path); err != nil {
		return err
	}
	unlock, err := filelock.Lock(ctx, s.LockPath())
	if err != nil {
		return err
	}
	defer unlock()
	t, err := s.read()
	if err != nil {
		return err
	}
	var cur *trustmap.TOFUEntry
	if e, ok := t.Packages[pkg]; ok {
		cur = &e
	}
	next, err := fn(cur)
	if err != nil || next == nil {
		return err
	}
	t.Packages[pkg] = *next
	b, err := t.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path, b, 0o644)
}

// Load reads the whole store (under the lock, so never half an update).
func (s *Store) Load(ctx context.Context) (*trustmap.TOFU, error) {
	if err := checkPath(s.path); err != nil {
		return nil, err
	}
	unlock, err := filelock.Lock(ctx, s.LockPath())
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.read()
}

// checkPath refuses, before a lock file is created next to it, a store path
// that exists and is not a regular file (a directory, a device).
func checkPath(path string) error {
	if err := limitio.CheckRegular(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (s *Store) read() (*trustmap.TOFU, error) {
	b, err := limitio.ReadFile(s.path, trustmap.MaxTOFUBytes)
	if errors.Is(err, os.ErrNotExist) {
		return trustmap.NewTOFU(), nil
	}
	if err != nil {
		return nil, err
	}
	t, err := trustmap.ParseTOFU(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return t, nil
}
