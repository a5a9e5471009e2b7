package bundle

import (
	"bytes"
	"testing"
)

// A raw block trace's cap bounds its pages, and the member is their text,
// about twice as large: the bound follows (a CI run refused a live bundle
// whose 32 MiB of pages had decoded to 41 MiB of text). A trace read as
// text keeps the cap plus a margin, and neither passes the reader's own
// bound, whatever the manifest claims.
func TestBlockTraceBoundFollowsItsReader(t *testing.T) {
	lim := DefaultLimits
	m := &Manifest{Options: Options{BlockTraceMaxBytes: 32 << 20}, BlockTrace: &BlockTraceInfo{Reader: ReaderRaw}}
	if b, _ := lim.Bound(m, BlockTraceMember); b < 3*32<<20 || b > 2*lim.MaxTrace {
		t.Errorf("raw pages: bound %d, want the text of 32 MiB of pages (x%d), within %d", b, RawTextFactor, 2*lim.MaxTrace)
	}
	m.BlockTrace.Reader = "trace_pipe"
	if b, _ := lim.Bound(m, BlockTraceMember); b < 32<<20 || b > 34<<20+64<<10 {
		t.Errorf("text: bound %d, want 32 MiB plus a margin", b)
	}
	m.Options.BlockTraceMaxBytes, m.BlockTrace.Reader = 1<<40, ReaderRaw
	if b, _ := lim.Bound(m, BlockTraceMember); b != 2*lim.MaxTrace {
		t.Errorf("a manifest claiming a 1 TiB cap: bound %d, want %d", b, 2*lim.MaxTrace)
	}
}

// A buffer reused for members that creep up in size, as a capture's ticks
// do (a few bytes a tick), grows once, not once a member: grown to one
// member's exact size, it copied the whole of the next into a new buffer
// (a 2-minute bundle of 2,000 processes: 120 copies of 0.7 MiB).
func TestReadIntoReusedBufferGrowsOnce(t *testing.T) {
	buf := new([]byte)
	grew := 0
	for size := 3 << 20; size < 3<<20+120*40; size += 40 {
		before := cap(*buf)
		data, err := readInto(buf, bytes.NewReader(make([]byte, size)), int64(size))
		if err != nil || len(data) != size {
			t.Fatalf("%d bytes: read %d, %v", size, len(data), err)
		}
		if cap(*buf) != before {
			grew++
		}
	}
	// From nothing: 1 MiB, then growth times that, then room to spare.
	if grew > 3 {
		t.Errorf("the buffer grew %d times over 120 members a little larger each", grew)
	}
}
