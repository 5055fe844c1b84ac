//go:build !unix

package limitio

import "os"

// File is a regular file opened for reading by Open.
type File struct {
	*os.File
	size int64
}

// Open opens path for reading only if it is a regular file (ErrNotRegular
// otherwise), and checks the opened file, so the file checked is the file
// read.
func Open(path string) (*File, error) {
	f, fi, err := OpenRegularInfo(path)
	if err != nil {
		return nil, err
	}
	return &File{File: f, size: fi.Size()}, nil
}
