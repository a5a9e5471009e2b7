package blocktrace

import (
	"fmt"

	"github.com/iorca/iorca/collect/spill"
)

// pageRef is where one page read from a CPU's trace_pipe_raw is in the
// spill: its header and committed data, the rest of the page cut.
type pageRef struct {
	off int64
	n   int32
}

// cpuStream walks the events of one CPU's pages in order.
type cpuStream struct {
	cpu   int
	pages []pageRef
	src   *spill.File
	hdr   pageHeader
	buf   []byte
	it    *pageIter
	// the event at the head
	ts  uint64
	rec []byte
	ok  bool
	// lost is the count to print before the head (-1 unknown).
	lost int64
}

// advance moves to the next event, loading pages as needed.
func (c *cpuStream) advance() error {
	for {
		if c.it != nil {
			ts, rec, ok, err := c.it.next()
			if err != nil {
				return fmt.Errorf("cpu %d: %w", c.cpu, err)
			}
			if ok {
				c.ts, c.rec, c.ok = ts, rec, true
				return nil
			}
		}
		if len(c.pages) == 0 {
			c.ok = false
			return nil
		}
		p := c.pages[0]
		c.pages = c.pages[1:]
		if cap(c.buf) < int(p.n) {
			c.buf = make([]byte, p.n)
		}
		c.buf = c.buf[:p.n]
		if _, err := c.src.ReadAt(c.buf, p.off); err != nil {
			return fmt.Errorf("cpu %d: read page at spill offset %d: %w", c.cpu, p.off, err)
		}
		it, err := newPageIter(c.hdr, c.buf)
		if err != nil {
			return fmt.Errorf("cpu %d: %w", c.cpu, err)
		}
		c.it = it
		if it.Lost != 0 {
			if c.lost > 0 && it.Lost > 0 {
				c.lost += it.Lost
			} else {
				c.lost = it.Lost
			}
		}
	}
}

// mergePages calls fn with every event of the CPUs' pages in time order,
// as trace_pipe merges the CPUs' buffers (the earliest first; a tie goes
// to the lower CPU). lost is called for a page that follows lost events.
func mergePages(src *spill.File, hdr pageHeader, cpus [][]pageRef, fn func(cpu int, ts uint64, rec []byte) error, lost func(cpu int, n int64) error) error {
	streams := make([]*cpuStream, 0, len(cpus))
	for cpu, pages := range cpus {
		s := &cpuStream{cpu: cpu, pages: pages, src: src, hdr: hdr}
		if err := s.advance(); err != nil {
			return err
		}
		if s.ok {
			streams = append(streams, s)
		}
	}
	for len(streams) > 0 {
		best := 0
		for i, s := range streams[1:] {
			if s.ts < streams[best].ts {
				best = i + 1
			}
		}
		s := streams[best]
		if s.lost != 0 && lost != nil {
			if err := lost(s.cpu, s.lost); err != nil {
				return err
			}
		}
		s.lost = 0
		if err := fn(s.cpu, s.ts, s.rec); err != nil {
			return err
		}
		if err := s.advance(); err != nil {
			return err
		}
		if !s.ok {
			streams = append(streams[:best], streams[best+1:]...)
		}
	}
	return nil
}
