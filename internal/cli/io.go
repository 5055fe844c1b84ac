package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/limitio"
)

// Stdio is the name that means standard input (for inputs) or standard output
// (for -o).
const Stdio = "-"

// ErrNotAFile: an input that must be a regular file is a directory, a
// FIFO or a device.
var ErrNotAFile = limitio.ErrNotRegular

// ReadInput reads a document named on the command line, at most limit bytes:
// "-" is standard input (once per invocation), anything else a regular file.
// Failures are usage errors (exit 2).
func (e *Env) ReadInput(path string, limit int64) ([]byte, error) {
	if path == Stdio {
		if e.stdinUsed {
			return nil, Usage(errors.New("standard input (-) can be read only once: name the other inputs as files"))
		}
		e.stdinUsed = true
		b, err := limitio.ReadAll(e.Stdin, limit)
		if err != nil {
			return nil, Usage(fmt.Errorf("standard input: %w", err))
		}
		return b, nil
	}
	if err := CheckFile(path); err != nil {
		return nil, err
	}
	b, err := limitio.ReadFile(path, limit)
	if err != nil {
		return nil, Usage(err)
	}
	return b, nil
}

// CheckFile returns a usage error unless path is a regular file. "-" is
// refused with a message saying so: a command that reads standard input
// reads it with ReadInput before it would get here.
func CheckFile(path string) error {
	if path == Stdio {
		return Usage(errors.New("- (standard input) is not read here: expected a file name"))
	}
	if err := limitio.CheckRegular(path); err != nil {
		if errors.Is(err, ErrNotAFile) {
			return Usage(fmt.Errorf("%w; expected a file", err))
		}
		return Usage(err)
	}
	return nil
}

// ErrOverwrite: an output file exists and --force was not given.
var ErrOverwrite = errors.New("output file exists")

// ErrOutputIsInput: an output path names one of the command's inputs.
var ErrOutputIsInput = errors.New("output would overwrite an input")

// Output describes where a writer puts its result.
type Output struct {
	Path  string      // "-" is standard output
	Perm  fs.FileMode // of a new file
	Force bool        // replace an existing file
	// Inputs are the files the command read; the output may be none of them.
	Inputs []string
	// Flag names the output in messages: "-o" unless set ("--vsa-out").
	Flag string
}

func (o Output) flag() string {
	if o.Flag == "" {
		return "-o"
	}
	return o.Flag
}

// Check refuses, before any work is done, an output that names an input or
// an existing file without Force.
func (o Output) Check() error {
	if o.Path == "" {
		return Usage(errors.New("no output given: expected -o FILE (or -o - for standard output)"))
	}
	if o.Path == Stdio {
		return nil
	}
	st, err := os.Stat(o.Path)
	for _, in := range o.Inputs {
		if in == "" || in == Stdio {
			continue
		}
		if SamePath(in, o.Path) {
			return Usage(fmt.Errorf("%w: %s %s is also an input of this command; write the output to another file", ErrOutputIsInput, o.flag(), o.Path))
		}
	}
	if err == nil {
		if st.IsDir() {
			return Usage(fmt.Errorf("%w: %s %s is a directory; expected a file name", ErrNotAFile, o.flag(), o.Path))
		}
		if !o.Force {
			return Usage(fmt.Errorf("%w: %s already exists; give --force to replace it, or choose another %s", ErrOverwrite, o.Path, o.flag()))
		}
	}
	return nil
}

// Write checks o again and writes data: to standard output for "-",
// otherwise atomically, refusing to replace a file created meanwhile unless
// Force.
func (e *Env) Write(o Output, data []byte) error {
	if err := o.Check(); err != nil {
		return err
	}
	if o.Path == Stdio {
		_, err := e.Stdout.Write(data)
		return err
	}
	perm := o.Perm
	if perm == 0 {
		perm = 0o644
	}
	var err error
	if o.Force {
		err = atomicfile.WriteFile(o.Path, data, perm)
	} else {
		err = atomicfile.WriteNew(o.Path, data, perm)
		if errors.Is(err, atomicfile.ErrExists) {
			err = fmt.Errorf("%w: %s already exists; give --force to replace it, or choose another %s", ErrOverwrite, o.Path, o.flag())
		}
	}
	if err != nil {
		return Usage(err)
	}
	return nil
}

// Info returns the stream for messages about a written output: standard
// error when the output itself goes to standard output.
func (e *Env) Info(o Output) io.Writer {
	if o.Path == Stdio {
		return e.Stderr
	}
	return e.Stdout
}

// SamePath reports whether a and b name the same file (the same path, or two
// names of one existing file).
func SamePath(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}
