// Package limitio reads untrusted input with a size cap, so that a huge file
// is refused instead of exhausting memory.
package limitio

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is returned when input exceeds the cap.
var ErrTooLarge = errors.New("input too large")

// ReadAll reads r, refusing more than limit bytes.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// ReadFile reads the regular file at path, refusing more than limit bytes
// and anything that is not a regular file (ErrNotRegular).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Size() > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, limit)
	}
	// Sized from the file's size when opened (one read and the read that
	// finds its end); a file that grows meanwhile is read on, to the limit.
	b := make([]byte, 0, f.Size()+1)
	for int64(len(b)) <= limit {
		n, err := f.Read(b[len(b):min(int64(cap(b)), limit+1)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
	return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, limit)
}
