package bundle

import "testing"

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
