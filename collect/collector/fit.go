package collector

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"testing/iotest"

	"github.com/iorca/iorca/collect/bundle"
)

// fit makes the bundle fit MaxBundleBytes. When it does not, it drops
// members in order of least use to a diagnosis — trace texts (largest
// first, each cut to its beginning when enough of it can stay), the
// kernel log, target descriptions, then the last ticks — and records each
// drop in the manifest. The members are already compressed as they will be
// written, so each size is exact and nothing is written until it fits.
func (c *collection) fit(m *bundle.Manifest) error {
	var dropped []string
	drops := c.dropOrder()
	for {
		m.Sources, m.Errors = c.ledger.finish()
		m.Bounds = append([]bundle.Bound(nil), c.bounds...)
		if len(dropped) > 0 {
			m.Bounds = append(m.Bounds, bundle.Bound{Name: "max-bundle-bytes", Limit: c.cfg.MaxBundleBytes,
				What: fmt.Sprintf("%d members dropped to fit the bound", len(dropped)), Dropped: dropped})
			if !m.Partial {
				for _, d := range dropped {
					if bundle.KindOf(d) == bundle.KindTick {
						m.Partial = true
						m.PartialReason = "ticks dropped to fit --max-bundle-bytes"
						break
					}
				}
			}
		}
		size, err := c.store.bundleSize(m)
		if err != nil {
			return err
		}
		if size <= c.cfg.MaxBundleBytes {
			return nil
		}
		over := size - c.cfg.MaxBundleBytes
		for over > 0 {
			if len(drops) == 0 {
				return fmt.Errorf("the bundle does not fit in --max-bundle-bytes %d even with every optional member dropped", c.cfg.MaxBundleBytes)
			}
			name := drops[0]
			z := c.store.size(name)
			if z == 0 {
				drops = drops[1:]
				continue
			}
			if cuttable(name) {
				// A trace is cut, keeping its beginning, rather than
				// lost whole: its first seconds are the evidence.
				if note, saved, ok := c.cutTrace(m, name, over); ok {
					over -= saved
					dropped = append(dropped, note)
					continue
				}
			}
			drops = drops[1:]
			over -= z
			c.store.remove(name)
			dropped = append(dropped, name)
			if cuttable(name) {
				c.markTraceDropped(m, name, 0, 0)
			}
		}
	}
}

// minTraceKeep is the least of a trace worth keeping rather than dropping.
const minTraceKeep = 16 << 10

// cutTrace shortens a stored trace by enough raw bytes to save about over
// compressed bytes, at a line boundary. It returns a note for the
// manifest, the compressed bytes saved, and false when what would remain
// is too short to keep. The trace is streamed twice from the store (to
// find the last line boundary, then to compress what is kept), never
// held whole: a block trace's text can be hundreds of MiB.
func (c *collection) cutTrace(m *bundle.Manifest, name string, over int64) (string, int64, bool) {
	raw, before := c.store.rawSize(name), c.store.size(name)
	if raw == 0 || before == 0 {
		return "", 0, false
	}
	ratio := float64(raw) / float64(before)
	keep := raw - int64(float64(over)*ratio*1.2) - 1
	if keep < minTraceKeep {
		return "", 0, false
	}
	cut, lines, ok := c.lineBoundary(name, keep)
	if !ok || cut < minTraceKeep {
		return "", 0, false
	}
	if _, ok := c.store.members[name]; !ok {
		return "", 0, false
	}
	var opened []io.Closer
	defer func() {
		for _, r := range opened {
			r.Close()
		}
	}()
	c.store.putFrom(name, cut, func() io.Reader {
		r, ok := c.store.open(name)
		if !ok {
			return iotest.ErrReader(fmt.Errorf("%s cannot be read back from the store", name))
		}
		opened = append(opened, r)
		return io.LimitReader(r, cut)
	})
	c.markTraceDropped(m, name, cut, lines)
	return fmt.Sprintf("%s (cut to %d of %d bytes)", name, cut, raw), before - c.store.size(name), true
}

// lineBoundary is the length of a member's longest prefix of at most
// limit bytes that ends a line, and how many lines it holds.
func (c *collection) lineBoundary(name string, limit int64) (int64, int, bool) {
	r, ok := c.store.open(name)
	if !ok {
		return 0, 0, false
	}
	defer r.Close()
	buf := make([]byte, 64<<10)
	var off, end int64
	lines := 0
	lr := io.LimitReader(r, limit)
	for {
		n, err := lr.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] == '\n' {
				lines++
				end = off + int64(i) + 1
			}
		}
		off += int64(n)
		if err == io.EOF {
			return end, lines, true
		}
		if err != nil {
			return 0, 0, false
		}
	}
}

// dropOrder lists the members that may be dropped, first to go first.
func (c *collection) dropOrder() []string {
	var traces, procs, ticks []string
	for _, name := range c.store.names() {
		switch bundle.KindOf(name) {
		case bundle.KindTrace:
			if bundle.IsTraceText(name) {
				traces = append(traces, name)
			}
		case bundle.KindTarget:
			procs = append(procs, name)
		case bundle.KindTick:
			ticks = append(ticks, name)
		}
	}
	sort.Slice(traces, func(i, j int) bool {
		if a, b := c.store.rawSize(traces[i]), c.store.rawSize(traces[j]); a != b {
			return a > b
		}
		return traces[i] < traces[j]
	})
	slices.Reverse(ticks) // the last ticks go first
	// The block trace goes after the syscall traces: it tells who holds
	// each device, which no other member does.
	out := append(traces, bundle.BlockTraceMember, bundle.KmsgMember)
	out = append(out, procs...)
	// Keep at least two ticks: one interval is the least an analysis needs.
	if len(ticks) > 2 {
		out = append(out, ticks[:len(ticks)-2]...)
	}
	return out
}

// cuttable reports the members that are cut to their beginning rather
// than dropped whole: the syscall traces and the block trace.
func cuttable(name string) bool { return bundle.IsTraceText(name) || name == bundle.BlockTraceMember }

// markTraceDropped updates the target whose trace text was cut to kept
// bytes, or dropped when kept is 0.
func (c *collection) markTraceDropped(m *bundle.Manifest, name string, kept int64, lines int) {
	if bt := m.BlockTrace; bt != nil && name == bundle.BlockTraceMember {
		bt.Status = bt.Status.Worse(bundle.StatusPartial)
		bt.Truncated = true
		bt.Bytes, bt.Lines = kept, lines
		return
	}
	for i := range m.Targets {
		if s := m.Targets[i].Strace; s != nil && s.Member == name {
			s.Status = bundle.StatusPartial
			s.Truncated = true
			s.Bytes, s.Lines = kept, lines
			if kept == 0 {
				s.Member = ""
			}
		}
	}
}
