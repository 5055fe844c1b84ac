// Package filelock serialises writers of one file across processes with an
// OS file lock (flock) on a sidecar file. The lock is released when the
// holder unlocks or its process ends, so a crashed writer never leaves a
// stale lock behind.
package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// ErrUnsupported reports a platform without file locks: writers cannot be
// serialised, so nothing is written.
var ErrUnsupported = errors.New("file locking is not supported on this platform")

// pollInterval is how often a waiting process retries the lock.
const pollInterval = 5 * time.Millisecond

// Lock takes the exclusive lock of path (created 0600 if missing),
// waiting until it is free or ctx is done. The returned function releases
// it.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}
