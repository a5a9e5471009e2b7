package rules

import (
	"fmt"
	"sort"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
)

// writeAmplification compares the bytes a process caused to be written
// to the block layer (write_bytes, charged a page at a time when a page
// is dirtied) with the bytes it handed to write() (wchar). write_bytes
// many times wchar is amplification: tiny writes that each dirty (or,
// synced, rewrite) a whole page. The other way round (wchar much larger)
// is page-cache absorption, overwrite, or writes to pipes and sockets, and
// is not reported here.
var writeAmplification = Rule{ID: "write-amplification", Check: checkWriteAmplification}

func checkWriteAmplification(c *Context) []Finding {
	var out []Finding
	for i := range c.Procs {
		pio := &c.Procs[i]
		p, io := pio.Proc, pio.Delta.IO
		if p.Kernel || io.WChar <= 0 || pio.Seconds <= 0 {
			continue
		}
		// On a saturated device it holds, amplification costs whatever
		// the byte rate: each write waits for its page, journal and flush.
		_, _, holds := c.HoldsSaturated(p.PID)
		if float64(io.WriteBytes)/pio.Seconds < c.Thresholds.AmplificationMinBytesPerSec && !holds {
			continue
		}
		ratio := float64(io.WriteBytes) / float64(io.WChar)
		if ratio < c.Thresholds.AmplificationRatio {
			continue
		}
		avg := 0.0
		if io.SyscW > 0 {
			avg = float64(io.WChar) / float64(io.SyscW)
		}
		f := Finding{
			ID: "write-amplification", Severity: Warning, Confidence: High, Score: ratio,
			Title:    fmt.Sprintf("%s makes the disk write %.0f× the bytes it writes", Name(p), ratio),
			Summary:  fmt.Sprintf("%s handed %s to write() but caused %s of block writes (write_bytes/wchar = %.1f): each %.0f-byte write costs a whole page.", Name(p), human(float64(io.WChar)), human(float64(io.WriteBytes)), ratio, avg),
			Subjects: Subjects{PIDs: []int{p.PID}, Command: Cmdline(p)},
			Evidence: []Evidence{{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.tickSpan(),
				What: fmt.Sprintf("/proc/%d/io over %.1f s: write_bytes +%d vs wchar +%d in %d syscalls (%.0f bytes each); ratio %.1f, i.e. block bytes exceed syscall bytes (not page-cache absorption, which would make it below 1)",
					p.PID, pio.Seconds, io.WriteBytes, io.WChar, io.SyscW, avg, ratio),
				Figures: map[string]float64{"ratio": ratio, "write_bytes": float64(io.WriteBytes), "wchar": float64(io.WChar), "syscw": float64(io.SyscW)}}},
			Mitigations: []Mitigation{
				{Horizon: ShortTerm, Action: "Write in page-sized or larger pieces", How: "Buffer records in user space and write 64 KiB at a time; avoid syncing each record", Effect: fmt.Sprintf("Block writes fall towards the %s actually written, about %.0f× less", human(float64(io.WChar)), ratio)},
			},
		}
		if p.Container != nil {
			f.Subjects.Container = p.Container.Name
		}
		// The device side, per record: what the block trace saw the
		// device do for it — its own requests, and its part of the
		// writeback, journal commits and cache flushes it caused.
		if perRecord, ok := devicePerWrite(c, pio); ok {
			f.Evidence = append(f.Evidence, perRecord)
			f.Summary += " " + perRecord.What + "."
		}
		out = append(out, f)
	}
	return out
}

// devicePerWrite is what the device did per write() call of a process,
// from the block trace: requests and bytes, its own and those it caused.
func devicePerWrite(c *Context, pio *model.ProcIO) (Evidence, bool) {
	bt := c.Model.BlockTrace
	io := pio.Delta.IO
	if bt == nil || io.SyscW == 0 || pio.Seconds <= 0 {
		return Evidence{}, false
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
		return Evidence{}, false
	}
	reqs, bytes := s.CausedRequests/writes, s.CausedBytes/writes
	return Evidence{Member: bundle.BlockTraceMember, What: fmt.Sprintf("On %s the block trace counts %.1f requests and %s written per write() call of %.0f bytes (%.0f× its bytes, with the writeback, journal commits and cache flushes it caused)",
		best.Device, reqs, human(bytes), avg, bytes/max(avg, 1)),
		Figures: map[string]float64{"requests_per_write": reqs, "device_bytes_per_write": bytes}}, true
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
