package blocktrace

import (
	"bytes"
	"errors"
	"fmt"
	"syscall"

	"github.com/iorca/iorca/collect/spill"
	"github.com/iorca/iorca/internal/ftrace"
)

// textSource reads the instance's trace_pipe, the kernel's text, into a
// spill: the fallback where raw pages cannot be read or decoded.
type textSource struct {
	fd   int
	buf  []byte
	max  int64
	text *spill.File
	// followed is the offset Follow has read up to.
	followed int64
}

func openText(inst *instance, sp *spill.File, max int64) (*textSource, error) {
	fd, err := syscall.Open(inst.path("trace_pipe"), syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open trace_pipe: %w", err)
	}
	return &textSource{fd: fd, buf: make([]byte, 64<<10), max: max, text: sp}, nil
}

func (s *textSource) read() (bool, error) {
	n, err := syscall.Read(s.fd, s.buf)
	switch {
	case n > 0:
		return true, s.add(s.buf[:n])
	case err == nil || errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
		return false, nil
	default:
		return false, fmt.Errorf("read trace_pipe: %w", err)
	}
}

// add appends text; at the byte bound the text is cut at its last whole
// line and errBudget returned.
func (s *textSource) add(b []byte) error {
	have := s.text.Len()
	if have+int64(len(b)) > s.max {
		room := b[:s.max-have]
		if i := bytes.LastIndexByte(room, '\n'); i >= 0 {
			if _, err := s.text.Append(room[:i+1]); err != nil {
				return fmt.Errorf("spill the trace: %w", err)
			}
		}
		return errBudget
	}
	if _, err := s.text.Append(b); err != nil {
		return fmt.Errorf("spill the trace: %w", err)
	}
	return nil
}

// follow reads the whole lines appended since its last call.
func (s *textSource) follow(fn func(ftrace.Event)) error {
	end := s.text.Len()
	buf := make([]byte, 256<<10)
	for s.followed < end {
		n, err := s.text.ReadAt(buf[:min(int64(len(buf)), end-s.followed)], s.followed)
		if n == 0 {
			return err
		}
		chunk := buf[:n]
		last := bytes.LastIndexByte(chunk, '\n')
		if last < 0 {
			if n == len(buf) {
				s.followed += int64(n) // a line longer than the buffer: skipped
				continue
			}
			return nil // a line still being written
		}
		s.followed += int64(last + 1)
		for _, l := range bytes.Split(chunk[:last], []byte{'\n'}) {
			if e, ok := ftrace.ParseLine(l); ok && followed(e.Name) {
				fn(e)
			}
		}
	}
	return nil
}

func (s *textSource) finish(*comms) (*spill.File, int, int64, error) {
	lines := 0
	buf := make([]byte, 256<<10)
	for off := int64(0); off < s.text.Len(); {
		n, _ := s.text.ReadAt(buf, off)
		if n == 0 {
			break
		}
		lines += bytes.Count(buf[:n], []byte{'\n'})
		off += int64(n)
	}
	return s.text, lines, 0, nil
}

func (s *textSource) closeFiles() {
	if s.fd >= 0 {
		syscall.Close(s.fd)
		s.fd = -1
	}
}

// close leaves the spill: it is the text, released by Tracer.Close.
func (s *textSource) close() { s.closeFiles() }
