package trustmap

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"

	"github.com/hallmark-build/hallmark/internal/limitio"
)

// Artifact is a file to verify. Digests are computed on first use, one
// algorithm at a time, so the common case (a sha256 subject) reads the file
// once with one hash.
type Artifact struct {
	Name string
	path string // a FileArtifact's file
	open func() (io.ReadCloser, error)
	data []byte // an artifact in memory, hashed without a read buffer

	given   map[string]string // DigestArtifact's digests
	mu      sync.Mutex
	digests [len(digestAlgorithms)]string // computed, by digestAlgorithms' order
}

// FileArtifact is an artifact read from path, which must be a regular file:
// a named pipe or a device (/dev/zero) is refused with ErrNotRegularFile
// instead of blocking or never ending.
func FileArtifact(path string) *Artifact {
	return &Artifact{Name: path, path: path}
}

// BytesArtifact is an artifact held in memory.
func BytesArtifact(name string, b []byte) *Artifact {
	return &Artifact{Name: name, data: b, open: func() (io.ReadCloser, error) { return io.NopCloser(bytesReader(b)), nil }}
}

// bufPool holds read buffers: large enough to hash big files at full speed,
// reused so that verifying many small artifacts does not allocate them.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// smallBufPool holds read buffers for small files (most artifacts of a
// batch), which need no megabyte (a pool is emptied by every collection).
var smallBufPool = sync.Pool{New: func() any { b := make([]byte, smallFile); return &b }}

const smallFile = 64 << 10

// Supported digest algorithms, strongest first. md5 and sha1 are never used.
var digestAlgorithms = [...]string{"sha512", "sha256"}

// newHash returns a hasher for alg, a reset one from a pool for sha256 (the
// common case), to be given back with freeHash.
func newHash(alg string) hash.Hash {
	switch alg {
	case "sha256":
		h := sha256Pool.Get().(hash.Hash)
		h.Reset()
		return h
	case "sha512":
		return sha512.New()
	}
	return nil
}

func freeHash(alg string, h hash.Hash) {
	if alg == "sha256" {
		sha256Pool.Put(h)
	}
}

var sha256Pool = sync.Pool{New: func() any { return sha256.New() }}

// Digest returns the lowercase hex digest with alg (sha256 or sha512).
func (a *Artifact) Digest(alg string) (string, error) {
	if a.given != nil {
		if d, ok := a.given[alg]; ok {
			return d, nil
		}
	}
	slot := slices.Index(digestAlgorithms[:], alg)
	h := newHash(alg)
	if slot < 0 || h == nil {
		return "", fmt.Errorf("%w: %s", ErrNoSupportedDigest, alg)
	}
	defer freeHash(alg, h)
	a.mu.Lock()
	defer a.mu.Unlock()
	if d := a.digests[slot]; d != "" {
		return d, nil
	}
	if a.data != nil {
		h.Write(a.data)
	} else {
		var r io.ReadCloser
		var err error
		if a.open == nil { // a FileArtifact (or a zero Artifact: no file "")
			r, err = limitio.Open(a.path)
		} else {
			r, err = a.open()
		}
		if err != nil {
			return "", err
		}
		defer r.Close()
		if err := hashAll(h, r); err != nil {
			return "", fmt.Errorf("read %s: %w", a.Name, err)
		}
	}
	var sum [64]byte
	d := hexString(h.Sum(sum[:0]))
	a.digests[slot] = d
	return d, nil
}

// pipelineThreshold is the size from which reading and hashing overlap.
const pipelineThreshold = 8 << 20

// hashAll feeds r into h. Large files are read on a second goroutine into
// alternating buffers while the first hashes, so the copy out of the page
// cache overlaps with hashing instead of adding to it.
func hashAll(h hash.Hash, r io.Reader) error {
	pool := &bufPool
	if f, ok := r.(*limitio.File); ok {
		if f.Size() >= pipelineThreshold {
			return hashPipelined(h, r)
		} else if f.Size() < smallFile {
			pool = &smallBufPool
		}
	}
	buf := pool.Get().(*[]byte)
	defer pool.Put(buf)
	for {
		n, err := r.Read(*buf)
		h.Write((*buf)[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func hashPipelined(h hash.Hash, r io.Reader) error {
	type chunk struct {
		buf *[]byte
		n   int
		err error
	}
	free := make(chan *[]byte, 2)
	full := make(chan chunk, 2)
	for range 2 {
		free <- bufPool.Get().(*[]byte)
	}
	go func() {
		defer close(full)
		for buf := range free {
			n, err := io.ReadFull(r, *buf)
			full <- chunk{buf, n, err}
			if err != nil {
				return
			}
		}
	}()
	var rerr error
	for c := range full {
		h.Write((*c.buf)[:c.n])
		switch {
		case c.err == io.EOF || c.err == io.ErrUnexpectedEOF:
		case c.err != nil:
			rerr = c.err
		default:
			free <- c.buf
			continue
		}
		bufPool.Put(c.buf)
	}
	close(free)
	for buf := range free {
		bufPool.Put(buf)
	}
	return rerr
}
