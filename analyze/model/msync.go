package model

import (
	"sort"
	"strconv"
	"strings"

	"github.com/iorca/iorca/analyze/strace"
)

// Msyncs sums a trace's msync(2) calls: msync names an address range,
// not a file, so the ranges are kept (merged) for the target's maps to
// name the file behind them (Target.MsyncFiles).
type Msyncs struct {
	// Calls counts every msync; Sync those with MS_SYNC (each writes the
	// range back and waits for it), Async those with MS_ASYNC only.
	Calls, Sync, Async int
	// Lat is the time of the MS_SYNC calls.
	Lat Latency
	// RangeBytes sums the lengths the MS_SYNC calls asked for.
	RangeBytes int64
	// Ranges are the address ranges msynced, merged where they touch,
	// at most maxRanges of them (further ones widen the last).
	Ranges []AddrRange
	// FirstLine cites the first MS_SYNC call.
	FirstLine int
	// Failed counts the failed calls by errno.
	Failed map[string]int
}

// AddrRange is [Start, End) of a process's address space.
type AddrRange struct{ Start, End uint64 }

// maxRanges bounds the msync ranges kept per trace.
const maxRanges = 64

// AvgRange is the mean length an MS_SYNC call asked for, in bytes.
func (m *Msyncs) AvgRange() float64 {
	if m == nil || m.Sync == 0 {
		return 0
	}
	return float64(m.RangeBytes) / float64(m.Sync)
}

// add counts one msync call.
func (m *Msyncs) add(c *strace.Syscall, end strace.Timestamp) {
	m.Calls++
	flags := ""
	if len(c.Args) > 2 {
		flags = c.Args[2]
	}
	if c.Errno != "" {
		if m.Failed == nil {
			m.Failed = map[string]int{}
		}
		m.Failed[c.Errno]++
	}
	if !strings.Contains(flags, "MS_SYNC") {
		if strings.Contains(flags, "MS_ASYNC") {
			m.Async++
		}
		return
	}
	m.Sync++
	m.Lat.add(c, end)
	if m.FirstLine == 0 {
		m.FirstLine = c.Line
	}
	addr, okA := hexArg(c, 0)
	n, okN := c.IntArg(1)
	if !okA || !okN || n <= 0 {
		return
	}
	m.RangeBytes += n
	// The kernel writes whole pages: the range ends on a page boundary
	// (4 KiB, the smallest page; on a larger-page machine the range
	// reads short by less than a page).
	m.merge(AddrRange{addr, (addr + uint64(n) + 4095) &^ 4095})
}

// merge adds a range to Ranges, joining those it overlaps or touches.
func (m *Msyncs) merge(r AddrRange) {
	i := sort.Search(len(m.Ranges), func(i int) bool { return m.Ranges[i].End >= r.Start })
	j := i
	for j < len(m.Ranges) && m.Ranges[j].Start <= r.End {
		r.Start, r.End = min(r.Start, m.Ranges[j].Start), max(r.End, m.Ranges[j].End)
		j++
	}
	if i == j && len(m.Ranges) >= maxRanges {
		// Bounded: the nearest kept range grows to cover it.
		k := min(i, len(m.Ranges)-1)
		m.Ranges[k].Start, m.Ranges[k].End = min(m.Ranges[k].Start, r.Start), max(m.Ranges[k].End, r.End)
		return
	}
	m.Ranges = append(m.Ranges[:i], append([]AddrRange{r}, m.Ranges[j:]...)...)
}

// hexArg reads argument i as an address (0x-prefixed hex, or decimal).
func hexArg(c *strace.Syscall, i int) (uint64, bool) {
	if i >= len(c.Args) {
		return 0, false
	}
	s := strings.TrimSpace(c.Args[i])
	base := 10
	if rest, ok := strings.CutPrefix(s, "0x"); ok {
		s, base = rest, 16
	}
	v, err := strconv.ParseUint(s, base, 64)
	return v, err == nil
}

// MappedFile is a file a target msynced through a shared writable
// mapping, and how much of its msynced address space lay in it.
type MappedFile struct {
	Path string
	// Bytes is the length of the msynced ranges inside its mappings.
	Bytes uint64
	// MapBytes is the size of its shared writable mappings.
	MapBytes uint64
}

// MsyncFiles names the files behind a target's msynced ranges, from its
// maps: the shared writable file mappings that hold them, most msynced
// first. Nil without maps (an older bundle) or without MS_SYNC calls.
func (t *Target) MsyncFiles() []MappedFile {
	s := t.Summary()
	if s == nil || s.Msyncs == nil || len(t.Maps) == 0 {
		return nil
	}
	by := map[string]*MappedFile{}
	for _, mp := range t.Maps {
		if !mp.SharedWritable() || !strings.HasPrefix(mp.Path, "/") {
			continue
		}
		f := by[mp.Path]
		if f == nil {
			f = &MappedFile{Path: mp.Path}
			by[mp.Path] = f
		}
		f.MapBytes += mp.End - mp.Start
		for _, r := range s.Msyncs.Ranges {
			if lo, hi := max(r.Start, mp.Start), min(r.End, mp.End); lo < hi {
				f.Bytes += hi - lo
			}
		}
	}
	var out []MappedFile
	for _, f := range by {
		if f.Bytes > 0 {
			out = append(out, *f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bytes != out[j].Bytes {
			return out[i].Bytes > out[j].Bytes
		}
		return out[i].Path < out[j].Path
	})
	return out
}
