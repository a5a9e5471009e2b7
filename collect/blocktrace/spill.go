package blocktrace

import (
	"io"
	"os"
	"sync"
)

// spill is an append-only byte store: an unlinked file in the first of
// the spill directories that takes one (gone with the collector however
// it ends), or memory when none does. It keeps a trace out of the heap.
type spill struct {
	mu   sync.Mutex
	f    *os.File
	mem  []byte
	size int64
	// Dir is where the file is, "" in memory.
	Dir string
}

func newSpill(dirs []string) *spill {
	s := &spill{}
	for _, d := range dirs {
		f, err := os.CreateTemp(d, ".iorca-trace-*")
		if err != nil {
			continue
		}
		os.Remove(f.Name())
		s.f, s.Dir = f, d
		break
	}
	return s
}

// append adds b and returns its offset. A failed write (a full /dev/shm)
// is an error: the capture stops there, as at its byte bound.
func (s *spill) append(b []byte) (int64, error) {
	s.mu.Lock()
	off := s.size
	s.mu.Unlock()
	if s.f != nil {
		if _, err := s.f.WriteAt(b, off); err != nil {
			return 0, err
		}
	} else {
		s.mem = append(s.mem, b...)
	}
	s.mu.Lock()
	s.size += int64(len(b))
	s.mu.Unlock()
	return off, nil
}

// Len is the bytes appended so far.
func (s *spill) Len() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// ReadAt reads what was appended; it may run beside append (one writer).
func (s *spill) ReadAt(b []byte, off int64) (int, error) {
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

// Reader reads the whole spill from its start.
func (s *spill) Reader() io.Reader { return io.NewSectionReader(s, 0, s.Len()) }

func (s *spill) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.mem = nil
}
