package blocktrace

import (
	"encoding/binary"
	"fmt"
)

// The event header's type_len values that are not data
// (events/header_event; kernel/trace/ring_buffer.c).
const (
	typePadding    = 29 // the rest of the page (time_delta 0) or a discarded event
	typeTimeExtend = 30 // a delta too large for 27 bits
	typeTimeStamp  = 31 // an absolute time stamp
	// maxDataType is the largest type_len that gives a data event's
	// length in 4-byte words; 0 means the length is in array[0].
	maxDataType = 28
)

// The commit word's top bits: the kernel sets them on a page read after
// events were lost (overwritten before they were read), and stores their
// count after the data when there is room.
const (
	missedEvents = 1 << 31
	missedStored = 1 << 30
)

// tsMSB are the top bits an absolute time stamp (59 bits) takes from the
// page's time stamp (ring_buffer.c rb_fix_abs_ts).
const tsMSB = uint64(0xf8) << 56

// pageIter walks the events of one ring-buffer page, as read from
// per_cpu/cpuN/trace_pipe_raw.
type pageIter struct {
	data []byte // the page's data, cut at its commit
	pos  int
	ts   uint64
	// Lost is the count of events lost before this page: 0 for none, -1
	// when the kernel flagged a loss without its count.
	Lost int64
}

// newPageIter checks a page's header and returns an iterator over it.
func newPageIter(h pageHeader, page []byte) (*pageIter, error) {
	if len(page) < h.DataOff || len(page) < h.CommitOff+h.CommitSize {
		return nil, fmt.Errorf("ring-buffer page of %d bytes: shorter than its %d-byte header", len(page), h.DataOff)
	}
	var commit uint64
	if h.CommitSize == 8 {
		commit = binary.LittleEndian.Uint64(page[h.CommitOff:])
	} else {
		commit = uint64(binary.LittleEndian.Uint32(page[h.CommitOff:]))
	}
	n := int(commit &^ (missedEvents | missedStored) & 0x0fffffff)
	if h.DataOff+n > len(page) {
		return nil, fmt.Errorf("ring-buffer page: commit %d past the page's %d data bytes", n, len(page)-h.DataOff)
	}
	p := &pageIter{data: page[h.DataOff : h.DataOff+n], ts: binary.LittleEndian.Uint64(page[h.TimestampOff:])}
	switch {
	case commit&missedStored != 0 && h.DataOff+n+8 <= len(page):
		p.Lost = int64(binary.LittleEndian.Uint64(page[h.DataOff+n:]))
	case commit&missedEvents != 0:
		p.Lost = -1
	}
	return p, nil
}

// next returns the next data event's time stamp and record (the event's
// common fields and its own); ok is false at the end of the page.
func (p *pageIter) next() (ts uint64, rec []byte, ok bool, err error) {
	for p.pos < len(p.data) {
		if len(p.data)-p.pos < 4 {
			return 0, nil, false, fmt.Errorf("ring-buffer page: %d stray bytes at data offset %d", len(p.data)-p.pos, p.pos)
		}
		hdr := binary.LittleEndian.Uint32(p.data[p.pos:])
		typeLen, delta := hdr&31, uint64(hdr>>5)
		array := func() (uint32, error) {
			if len(p.data)-p.pos < 8 {
				return 0, fmt.Errorf("ring-buffer page: event header of type %d cut at data offset %d", typeLen, p.pos)
			}
			return binary.LittleEndian.Uint32(p.data[p.pos+4:]), nil
		}
		switch {
		case typeLen == typePadding:
			if delta == 0 {
				return 0, nil, false, nil // the rest of the page is padding
			}
			// A discarded event: skipped, its delta not counted (the
			// kernel's reader does the same).
			a, err := array()
			if err != nil {
				return 0, nil, false, err
			}
			if err := p.skip(4 + int(a)); err != nil {
				return 0, nil, false, err
			}
		case typeLen == typeTimeExtend, typeLen == typeTimeStamp:
			a, err := array()
			if err != nil {
				return 0, nil, false, err
			}
			v := uint64(a)<<27 | delta
			if typeLen == typeTimeExtend {
				p.ts += v
			} else {
				if p.ts&tsMSB != 0 {
					v |= p.ts & tsMSB
				}
				p.ts = v
			}
			p.pos += 8
		default:
			start, n := p.pos+4, int(typeLen)*4
			if typeLen == 0 {
				a, err := array()
				if err != nil {
					return 0, nil, false, err
				}
				if a < 4 {
					return 0, nil, false, fmt.Errorf("ring-buffer page: event length %d at data offset %d", a, p.pos)
				}
				start, n = p.pos+8, int(a)-4
			}
			if start+n > len(p.data) {
				return 0, nil, false, fmt.Errorf("ring-buffer page: event of %d bytes at data offset %d runs past the commit %d", n, p.pos, len(p.data))
			}
			p.ts += delta
			p.pos = start + (n+3)&^3
			return p.ts, p.data[start : start+n], true, nil
		}
	}
	return 0, nil, false, nil
}

func (p *pageIter) skip(n int) error {
	if n <= 0 || p.pos+n > len(p.data) {
		return fmt.Errorf("ring-buffer page: padding of %d bytes at data offset %d runs past the commit %d", n, p.pos, len(p.data))
	}
	p.pos += n
	return nil
}
