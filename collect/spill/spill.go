// Package spill keeps the collector's bulk text out of its heap: an
// append-only store in an unlinked file in the first of the spill
// directories that takes one (gone with the collector however it ends),
// or memory when none does. The block trace's pages and text and each
// strace's output go through one, so that the collector's memory stays
// flat however much they capture.
package spill

import (
	"io"
	"os"
	"sync"
)

// File is an append-only byte store. One goroutine appends; others may
// read what was appended meanwhile.
type File struct {
	mu   sync.Mutex
	f    *os.File
	mem  []byte
	size int64
	// Dir is where the file is, "" in memory.
	Dir string
}

// New makes a store in the first of dirs where an unlinked file can be
// created, or in memory when none can (or dirs is empty).
func New(dirs ...string) *File {
	s := &File{}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		f, err := os.CreateTemp(d, ".iorca-spill-*")
		if err != nil {
			continue
		}
		os.Remove(f.Name())
		s.f, s.Dir = f, d
		break
	}
	return s
}

// Append adds b and returns its offset. A failed write (a full /dev/shm)
// is an error and adds nothing: the caller stops its capture there, as at
// its byte bound.
func (s *File) Append(b []byte) (int64, error) {
	s.mu.Lock()
	off := s.size
	s.mu.Unlock()
	if s.f != nil {
		if _, err := s.f.WriteAt(b, off); err != nil {
			return 0, err
		}
	} else {
		s.mu.Lock()
		s.mem = append(s.mem, b...)
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.size += int64(len(b))
	s.mu.Unlock()
	return off, nil
}

// Write is Append as an io.Writer.
func (s *File) Write(b []byte) (int, error) {
	if _, err := s.Append(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Len is the bytes appended so far.
func (s *File) Len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// ReadAt reads what was appended; it may run beside Append.
func (s *File) ReadAt(b []byte, off int64) (int, error) {
	if s.f != nil {
		return s.f.ReadAt(b, off)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if off >= int64(len(s.mem)) {
		return 0, io.EOF
	}
	n := copy(b, s.mem[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

// Reader reads the first n bytes from the start (n < 0: all appended so
// far); each call starts again.
func (s *File) Reader(n int64) io.Reader {
	if n < 0 {
		n = s.Len()
	}
	return io.NewSectionReader(s, 0, n)
}

// Close releases the file (or the memory). Closing twice, or a nil File,
// is harmless.
func (s *File) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.mem = nil
}
