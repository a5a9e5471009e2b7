package rules

import (
	"fmt"
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
		if p.Kernel || io.WChar <= 0 || pio.Seconds <= 0 || float64(io.WriteBytes)/pio.Seconds < c.Thresholds.AmplificationMinBytesPerSec {
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
		// The device side: what reached the disks the process writes to.
		var devW float64
		for _, x := range c.Devices {
			devW += x.WkBPS * 1024 * c.Seconds
		}
		if devW > 0 && c.UserWriteBytes > 0 {
			f.Evidence = append(f.Evidence, Evidence{Member: c.TicksMembers() + " (/proc/diskstats)", Ticks: c.tickSpan(),
				What: fmt.Sprintf("all whole devices wrote %s while all processes' write_bytes was %s (journal, metadata and loop devices add to the device side)", human(devW), human(float64(c.UserWriteBytes)))})
		}
		out = append(out, f)
	}
	return out
}
