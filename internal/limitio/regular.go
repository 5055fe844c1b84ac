package limitio

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is returned for an input that is not a regular file: a
// named pipe, a device such as /dev/zero, a directory or a socket would
// block or never end.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading only if it is a regular file. It opens
// without blocking (a FIFO without a writer would block the open itself)
// and checks the opened file, so the file checked is the file read.
func OpenRegular(path string) (*os.File, error) {
	f, _, err := OpenRegularInfo(path)
	return f, err
}

// OpenRegularInfo is OpenRegular that also returns the file's information,
// as its Stat gave it when it was opened.
func OpenRegularInfo(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, fi.Mode())
	}
	return f, fi, nil
}

// Size is the file's size when it was opened.
func (f *File) Size() int64 { return f.size }

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%w: %s is %s", ErrNotRegular, path, describe(m))
}

// CheckRegular reports an error unless path is a regular file, without
// opening it.
func CheckRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return notRegular(path, fi.Mode())
	}
	return nil
}

func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}
