// Package statefile keeps a verifier's trustmap.SerialState in a file
// (usually next to the TOFU store), locked with an OS file lock on a
// sidecar file for each read-modify-write, so concurrent verifiers never
// lower a serial.
package statefile

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

// Update runs fn on the state in path (empty if the file does not exist)
// while holding path.lock, and writes the state back when fn reports a
// change.
func Update(ctx context.Context, path string, fn func(*trustmap.SerialState) (changed bool, err error)) error {
	// A path that exists must be a regular file: no lock file is created
	// next to a directory or a device.
	if err := limitio.CheckRegular(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	unlock, err := filelock.Lock(ctx, path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	st := trustmap.NewSerialState()
	b, err := limitio.ReadFile(path, trustmap.MaxTOFUBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if st, err = trustmap.ParseSerialState(b); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	changed, err := fn(st)
	if err != nil || !changed {
		return err
	}
	out, err := st.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, out, 0o644)
}
