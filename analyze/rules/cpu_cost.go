package rules

import (
	"fmt"
	"sort"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/units"
	"github.com/iorca/iorca/report/content"
)

// cpuCost reports a process whose IO costs CPU rather than device time:
// hundreds of thousands of small read and write syscalls a second (a
// runtime shim copying a container's stdout to its log, say) can keep a
// CPU busy in the kernel while the device, with the page cache in
// between, writes almost nothing. Evidence: the process's utime+stime
// (/proc/PID/stat) and its syscall counts (/proc/PID/io), the node's CPU
// from /proc/stat.
var cpuCost = &Rule{ID: "cpu-cost",
	Role: content.Cause, Check: checkCPUCost, PerApp: true, CountsCalls: true,
	Deciding: [][]Condition{{{Figure: FigCPUPct, Threshold: func(t window.Thresholds) float64 { return t.CPUPct }, What: "% of a CPU"}}},
	Clause:   cpuCostClause,
}

// minIOSyscallsPerSec is the syscall rate below which CPU is not blamed on
// IO: a process computing something while writing a little is not an IO
// cost.
const minIOSyscallsPerSec = 1000

// minSysShare is the share of a process's CPU that must be system time
// for its CPU to be blamed on its IO calls: copying buffers in and out of
// the kernel is system time, and a compiler that reads its sources and
// writes its objects spends its CPU in user space, however many calls it
// makes.
const minSysShare = 0.5

// maxBytesPerCall is the average bytes a read or write call may move for
// the calls to be small: below a page, the fixed cost of each call (entry,
// locking, a partial page copied) outweighs its bytes, and larger buffers
// would save the CPU.
const maxBytesPerCall = 4096

// ioCPUHog is a process whose CPU its IO calls cost.
type ioCPUHog struct {
	pio                         int
	cpu, syscalls, sys, perCall float64
}

// ioCPUHogs are the processes that use a CPU share over the threshold,
// mostly in the kernel, making many small read and write calls.
func ioCPUHogs(c *window.Window) []ioCPUHog {
	hz := c.Model.Manifest.Host.UserHZ
	var hogs []ioCPUHog
	for i := range c.Procs {
		p := &c.Procs[i]
		if p.Proc.Kernel || p.Seconds <= 0 || p.CPUTicks == 0 {
			continue
		}
		io := p.Delta.IO
		calls := io.SyscW + io.SyscR
		if calls <= 0 {
			continue
		}
		h := ioCPUHog{pio: i, cpu: p.CPUPct(hz), syscalls: float64(calls) / p.Seconds,
			sys:     float64(p.SysTicks) / float64(p.CPUTicks),
			perCall: float64(io.RChar+io.WChar) / float64(calls)}
		if h.cpu >= c.Thresholds.CPUPct && h.syscalls >= minIOSyscallsPerSec && h.sys >= minSysShare && h.perCall < maxBytesPerCall {
			hogs = append(hogs, h)
		}
	}
	return hogs
}

func checkCPUCost(c *window.Window) []content.Finding {
	hogs := ioCPUHogs(c)
	sort.Slice(hogs, func(i, j int) bool { return hogs[i].cpu > hogs[j].cpu })
	var out []content.Finding
	busy, kernel, nodeOK := advice.NodeCPU(c)
	for _, h := range hogs {
		p := &c.Procs[h.pio]
		io := p.Delta.IO
		f := content.Finding{
			ID: "cpu-cost", Severity: content.Warning, Confidence: content.High, Score: h.cpu,
			Title:    fmt.Sprintf("%s spends %.0f %% of a CPU on %.0f IO syscalls a second", window.Name(p.Proc), h.cpu, h.syscalls),
			Summary:  fmt.Sprintf("%s used %.0f %% of a CPU over %.0f s, %.0f %% of it in the kernel, while making %.0f read and write syscalls a second of %.0f bytes each on average (%s a second handed to write()): its IO costs CPU, in the kernel copying small buffers, more than device time.", window.Name(p.Proc), h.cpu, p.Seconds, h.sys*100, h.syscalls, h.perCall, units.FormatBytes(int64(float64(io.WChar)/p.Seconds))),
			Subjects: content.Subjects{PIDs: []int{p.Proc.PID}, Command: window.Cmdline(p.Proc)},
			Evidence: []content.Evidence{
				{Member: c.TicksMembers() + " (/proc/PID/stat, /proc/PID/io)", Ticks: c.TickSpan(),
					What:    fmt.Sprintf("%sutime+stime +%d clock ticks in %.1f s (%.0f %% of a CPU), stime +%d (%.0f %%); syscw +%d, syscr +%d moving rchar+wchar %s (%.0f bytes a call)", procFiles(p.Proc), p.CPUTicks, p.Seconds, h.cpu, p.SysTicks, h.sys*100, io.SyscW, io.SyscR, units.FormatBytes(io.RChar+io.WChar), h.perCall),
					Figures: map[string]float64{FigCPUPct: h.cpu, FigSyscallsPerS: h.syscalls, FigSystemSharePct: h.sys * 100, FigBytesPerCall: h.perCall}},
			},
			Mitigations: []content.Mitigation{
				{Horizon: content.ShortTerm, Key: advice.BufferKey(p.Proc), Subject: window.Name(p.Proc), Generic: true, Action: "Make fewer, larger IO calls in " + window.Name(p.Proc), How: "Buffer before writing (64 KiB or more per write); for a container's stdout, log less or through a buffered logger inside the container", Effect: "The same bytes for a fraction of the CPU"},
			},
		}
		if p.Proc.Container != nil {
			f.Subjects.Container = p.Proc.Container.Name
		}
		if nodeOK {
			f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/stat)", Ticks: c.TickSpan(),
				What:    fmt.Sprintf("the node was %.0f %% busy over its %d CPUs, %.0f %% in the kernel (system, irq, softirq)", busy, c.Model.Manifest.Host.CPUs, kernel),
				Figures: map[string]float64{FigNodeBusyPct: busy, FigNodeKernelPct: kernel}})
			f.Summary += fmt.Sprintf(" The node was %.0f %% busy, %.0f %% in the kernel.", busy, kernel)
		}
		out = append(out, f)
	}
	return out
}

// cpuCostClause says, in a verdict about the process, the CPU its IO
// calls cost.
func cpuCostClause(f *content.Finding) string {
	if v, ok := f.Figure(FigCPUPct); ok {
		return fmt.Sprintf(" It spends %.0f %% of a CPU on it.", v)
	}
	return ""
}

// procFiles names where a process's counters were read: its own
// /proc/PID files, or for the children a process reaped unseen, the
// share of its reaper's cumulative fields they added.
func procFiles(p *model.Process) string {
	if p.ReapedBy != 0 {
		return fmt.Sprintf("/proc/%d/stat cutime+cstime (cstime for stime) and /proc/%d/io, what its exited children added: ", p.ReapedBy, p.ReapedBy)
	}
	return fmt.Sprintf("/proc/%d/stat and /proc/%d/io: ", p.PID, p.PID)
}
