package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// writeAmplification reports a process whose writes cost the device many
// times their bytes. With the block trace that is measured: the requests
// and bytes the device wrote for it (its own, and its part of the
// writeback, journal commits and cache flushes it caused) per write()
// call, against the bytes of the call. Without it, the bytes it caused to
// be written (write_bytes, charged when a page cache folio is dirtied)
// against the bytes handed to write() (wchar): a small write dirties a
// whole page, and synced, rewrites it. write_bytes charges the whole
// folio each time a write dirties a clean one, and on kernels with large
// folios (ext4 since 6.16) one folio holds many pages: for writes of a
// page or more, a high write_bytes/wchar is that accounting more than
// the device's work, so without a trace it is info of medium confidence.
// The other way round (wchar much larger) is page-cache absorption,
// overwrite, or writes to pipes and sockets, and is not reported here.
var writeAmplification = &Rule{ID: "write-amplification",
	Role: content.Cause, Check: checkWriteAmplification, PerApp: true,
	Deciding: [][]Condition{{{Figure: FigRatio, Threshold: func(t window.Thresholds) float64 { return t.AmplificationRatio }, What: "times the bytes written"}}},
	Shows:    Amplified,
	Clause:   writeAmplificationClause,
	Watch:    []Watch{WatchProcess},
}

func checkWriteAmplification(c *window.Window) []content.Finding {
	var out []content.Finding
	page := c.PageSize()
	for i := range c.Procs {
		pio := &c.Procs[i]
		p, io := pio.Proc, pio.Delta.IO
		if p.Kernel || io.WChar <= 0 || io.SyscW <= 0 || pio.Seconds <= 0 {
			continue
		}
		// On a saturated device it holds, amplification costs whatever
		// the byte rate: each write waits for its page, journal and flush.
		_, _, holds := c.HoldsSaturated(p.PID)
		if float64(io.WriteBytes)/pio.Seconds < c.Thresholds.AmplificationMinBytesPerSec && !holds {
			continue
		}
		dirtied := float64(io.WriteBytes) / float64(io.WChar)
		avg := float64(io.WChar) / float64(io.SyscW)
		perRecord, journal, traced := devicePerWrite(c, pio)
		ratio := dirtied
		if traced {
			ratio = perRecord.Figures[FigDeviceBytesPerWrite] / max(avg, 1)
		}
		if ratio < c.Thresholds.AmplificationRatio {
			continue
		}
		counters := content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
			What: fmt.Sprintf("/proc/%d/io over %.1f s: write_bytes +%d vs wchar +%d in %d syscalls (%.0f bytes each); write_bytes/wchar %.1f: it dirtied more page cache than it handed to write() (page-cache absorption would make it below 1)",
				p.PID, pio.Seconds, io.WriteBytes, io.WChar, io.SyscW, avg, dirtied),
			Figures: map[string]float64{FigDirtiedRatio: dirtied, FigWriteBytes: float64(io.WriteBytes), FigWchar: float64(io.WChar), FigSyscw: float64(io.SyscW), FigAvgBytes: avg}}
		f := content.Finding{
			ID: "write-amplification", Severity: content.Warning, Confidence: content.High, Score: ratio,
			Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p)},
		}
		switch {
		case traced:
			perRecord.Figures[FigRatio] = ratio
			f.Title = fmt.Sprintf("%s makes the device write %.0f× the bytes it writes", window.Name(p), ratio)
			f.Summary = fmt.Sprintf("%s: each write() of %.0f bytes cost the device %.1f requests and %s (%s, from the block trace).", f.Title, avg, perRecord.Figures[FigRequestsPerWrite], prose.Bytes(perRecord.Figures[FigDeviceBytesPerWrite]), costParts(journal))
			f.Evidence = []content.Evidence{perRecord, counters}
		case avg < page:
			// Without a block trace write_bytes/wchar is pages dirtied,
			// not what the device wrote: the device's own bytes come
			// from iostat, for every writer on it.
			counters.Figures[FigRatio] = ratio
			f.Title = fmt.Sprintf("%s dirtied %.0f× the bytes it wrote", window.Name(p), ratio)
			f.Summary = fmt.Sprintf("%s handed %s to write() and dirtied %s of page cache (write_bytes/wchar = %.1f: pages dirtied, not what the device wrote): each %.0f-byte write dirties a whole %.0f-byte page.", window.Name(p), prose.Bytes(float64(io.WChar)), prose.Bytes(float64(io.WriteBytes)), ratio, avg, page)
			f.Evidence = []content.Evidence{counters}
			if dev, ok := deviceWrites(c, pio); ok {
				f.Summary += " Over the same window " + dev.What + "."
				f.Evidence = append(f.Evidence, dev)
			}
		default:
			// Writes of a page or more: the ratio is folio accounting
			// more than device work, and no trace says which.
			counters.Figures[FigRatio] = ratio
			f.Severity, f.Confidence = content.Info, content.Medium
			f.ConfidenceWhy = "no block trace, and for writes of a page or more write_bytes charges whole page-cache folios, not what the device wrote"
			f.Title = fmt.Sprintf("%s dirtied %.0f× the page cache it wrote", window.Name(p), ratio)
			f.Summary = fmt.Sprintf("%s handed %s to write() in %.0f-byte calls and was charged %s of write_bytes (%.1f×). write_bytes counts a whole page-cache folio each time a write dirties a clean one (again after each sync writes it back); with large folios that overstates the device's work, which only a block trace (the collector's default) measures.", window.Name(p), prose.Bytes(float64(io.WChar)), avg, prose.Bytes(float64(io.WriteBytes)), ratio)
			f.Evidence = []content.Evidence{counters}
		}
		if avg < page {
			f.Mitigations = []content.Mitigation{
				{Horizon: content.ShortTerm, Key: advice.BufferKey(p), Action: "Write in page-sized or larger pieces", How: "Buffer records in user space and write 64 KiB at a time; avoid syncing each record", Effect: fmt.Sprintf("The device's writes fall towards the %s actually written, about %.0f× less", prose.Bytes(float64(io.WChar)), ratio)},
			}
		} else if traced {
			f.Mitigations = []content.Mitigation{
				{Horizon: content.ShortTerm, Key: advice.SyncLessKey(p), Action: "Sync less often", How: "Each write already fills pages: what multiplies it is the " + journal.Commit + " and cache flush of each sync; batch several writes per sync (group commit)", Effect: fmt.Sprintf("Towards one data write per record instead of %.1f requests", perRecord.Figures[FigRequestsPerWrite])},
			}
		}
		if why, calm := devicesCope(c); calm { // never where it holds a saturated device: that hurts
			// Pages dirtied on a node whose disks cope are inefficiency,
			// not an incident: a shell's few hundred KiB of small
			// appends on an idle root disk made a quiet node read as
			// one with a problem.
			f.Severity = content.Info
			f.Summary += " " + why + ": its writes cost more than they need, not yet anything the node waits for."
		}
		if p.Container != nil {
			f.Subjects.Container = p.Container.Name
		}
		out = append(out, f)
	}
	return out
}

// devicePerWrite is what the device did per write() call of a process,
// from the block trace: requests and bytes, its own and those it caused.
func devicePerWrite(c *window.Window, pio *model.ProcIO) (content.Evidence, model.Journal, bool) {
	bt := c.Model.BlockTrace
	io := pio.Delta.IO
	none := model.JournalOf("")
	if bt == nil || io.SyscW == 0 || pio.Seconds <= 0 {
		return content.Evidence{}, none, false
	}
	writes := float64(io.SyscW) / pio.Seconds * bt.Seconds()
	avg := float64(io.WChar) / float64(io.SyscW)
	var best *model.DeviceTime
	var s *model.Share
	for _, name := range sortedKeys(c.DeviceTimes) {
		dt := c.DeviceTimes[name]
		if sh := dt.Find(pio.Proc.PID); sh != nil && (s == nil || sh.NS() > s.NS()) {
			best, s = dt, sh
		}
	}
	if s == nil || writes <= 0 || s.CausedRequests == 0 {
		return content.Evidence{}, none, false
	}
	journal := model.JournalOf(best.FSType)
	reqs, bytes := s.CausedRequests/writes, s.CausedBytes/writes
	// Only the kinds of request it caused are named: a sync writer's
	// journal commits are not "writeback".
	var kinds []string
	for _, k := range []struct {
		ns   float64
		name string
	}{{s.DirectNS, "its own requests"}, {s.WritebackNS, "the writeback of pages it dirtied"}, {s.JournalNS, "the " + journal.Commits + " its syncs forced"}, {s.FlushNS, "the cache flushes that wrote out its data"}} {
		if k.ns > 0 {
			kinds = append(kinds, k.name)
		}
	}
	return content.Evidence{Member: bundle.BlockTraceMember, What: fmt.Sprintf("On %s the block trace counts %.1f requests and %s written per write() call of %.0f bytes (%.0f× its bytes, counting %s)",
		best.Device, reqs, prose.Bytes(bytes), avg, bytes/max(avg, 1), prose.JoinAnd(kinds)),
		Figures: map[string]float64{FigRequestsPerWrite: reqs, FigDeviceBytesPerWrite: bytes}}, journal, true
}

// costParts names what a synchronous write costs the device, in its
// filesystem's words.
func costParts(j model.Journal) string { return "its data, " + j.Commits + " and cache flushes" }

// costPartsIn is the costParts a finding's summary gave, for the verdict's
// clause (which sees only the finding); the generic words when it gave
// none.
func costPartsIn(summary string) string {
	_, rest, ok := strings.Cut(summary, "(its data, ")
	parts, _, ok2 := strings.Cut(rest, ", from the block trace)")
	if !ok || !ok2 {
		return costParts(model.JournalOf(""))
	}
	return "its data, " + parts
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// WriteCost says what one write costs, from a write-amplification
// finding's figures: on the device, where the block trace measured it,
// else in the pages it dirties (false without either). The verdict's
// clause and the report's headline say it in these words.
func WriteCost(f *content.Finding) (string, bool) {
	if reqs, ok := f.Figure(FigRequestsPerWrite); ok {
		bytes, _ := f.Figure(FigDeviceBytesPerWrite)
		return fmt.Sprintf("Each write costs the device %.1f requests and %s", reqs, prose.Bytes(bytes)), true
	}
	if ratio, ok := f.Figure(FigRatio); ok {
		return fmt.Sprintf("Each write dirties %.0f times its bytes in whole pages", ratio), true
	}
	return "", false
}

// writeAmplificationClause says, in a verdict about the writer, what
// each write costs the device (WriteCost) and how it is known.
func writeAmplificationClause(f *content.Finding) string {
	cost, ok := WriteCost(f)
	if !ok {
		return ""
	}
	if _, traced := f.Figure(FigRequestsPerWrite); traced {
		return fmt.Sprintf(" %s (%s, from the block trace).", cost, costPartsIn(f.Summary))
	}
	s := " " + cost + " (write_bytes/wchar: pages dirtied, not what the device wrote)"
	for _, e := range f.Evidence {
		if _, ok := e.Figures[FigDeviceWkBPS]; ok {
			s += "; " + e.What
		}
	}
	return s + "."
}

// deviceWrites is the device's own write rate (iostat over the window)
// beside a process's write() rate, for the device that holds most of its
// time: without a block trace, what the device wrote is known only for
// all its writers together.
func deviceWrites(c *window.Window, pio *model.ProcIO) (content.Evidence, bool) {
	var dev string
	var best float64
	for _, name := range sortedKeys(c.DeviceTimes) {
		if f := c.DeviceShare(pio.Proc.PID, name); f > best {
			dev, best = name, f
		}
	}
	x, ok := c.Devices[dev]
	if !ok || pio.Seconds <= 0 {
		return content.Evidence{}, false
	}
	calls := float64(pio.Delta.IO.WChar) / pio.Seconds / 1024
	return content.Evidence{Member: c.TicksMembers() + " (/proc/diskstats)", Ticks: c.TickSpan(),
		What:    fmt.Sprintf("%s wrote %s kB/s (iostat, all writers) against the %s kB/s PID %d handed to write()", dev, thousands(x.WkBPS), thousands(calls), pio.Proc.PID),
		Figures: map[string]float64{FigDeviceWkBPS: x.WkBPS, FigWcharKBPS: calls}}, true
}

// thousands writes a whole number with thousands separators, as iostat's
// figures are quoted in prose.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
