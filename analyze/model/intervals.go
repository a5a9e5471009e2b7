package model

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iorca/iorca/internal/procfs"
)

// Span returns the wall time of the first and the last tick.
func (m *Model) Span() (time.Time, time.Time) {
	if len(m.Ticks) == 0 {
		return m.Manifest.Start.Wall, m.Manifest.End.Wall
	}
	return m.Ticks[0].Wall, m.Ticks[len(m.Ticks)-1].Wall
}

// ParseAt reads a moment given as a time of day ("06:10:02", taken on
// the capture's UTC date), an RFC 3339 time, or an offset from the first
// tick ("+12s"), and returns the index of the last tick at or before it.
// A moment outside the capture is an error that gives the span.
func (m *Model) ParseAt(s string) (int, error) {
	if len(m.Ticks) == 0 {
		return 0, fmt.Errorf("the bundle has no ticks")
	}
	first, last := m.Span()
	var at time.Time
	switch {
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return 0, fmt.Errorf("--at %q: %v", s, err)
		}
		at = first.Add(d)
	default:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			var tod time.Time
			var err2 error
			for _, layout := range []string{"15:04:05.999999999", "15:04:05", "15:04"} {
				if tod, err2 = time.Parse(layout, s); err2 == nil {
					break
				}
			}
			if err2 != nil {
				return 0, fmt.Errorf("--at %q: want HH:MM:SS, an RFC 3339 time, or +DURATION from the start", s)
			}
			y, mo, d := first.UTC().Date()
			t = time.Date(y, mo, d, tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), time.UTC)
			if t.Before(first.Add(-12 * time.Hour)) {
				t = t.Add(24 * time.Hour) // the capture crossed midnight
			}
		}
		at = t
	}
	const slack = 500 * time.Millisecond
	if at.Before(first.Add(-slack)) || at.After(last.Add(slack)) {
		return 0, fmt.Errorf("--at %s is outside the capture, which spans %s to %s UTC (ticks 0-%d)",
			s, first.UTC().Format("2006-01-02 15:04:05"), last.UTC().Format("15:04:05"), len(m.Ticks)-1)
	}
	i := sort.Search(len(m.Ticks), func(i int) bool { return m.Ticks[i].Wall.After(at.Add(slack)) })
	return max(i-1, 0), nil
}

// CheckTick returns an error giving the valid range when n is not a tick.
func (m *Model) CheckTick(n int) error {
	if n < 0 || n >= len(m.Ticks) {
		return fmt.Errorf("--tick %d is outside the capture: ticks 0-%d", n, len(m.Ticks)-1)
	}
	return nil
}

// Seconds is the time between two ticks, by the monotonic clock.
func (m *Model) Seconds(from, to int) float64 {
	return float64(m.Ticks[to].Mono-m.Ticks[from].Mono) / 1e9
}

// itvCS is the /proc/uptime delta between two ticks in centiseconds, as
// sysstat measures intervals; it falls back to the monotonic clock when a
// tick has no uptime.
func (m *Model) itvCS(from, to int) uint64 {
	a, b := m.Ticks[from], m.Ticks[to]
	if a.HasUptime && b.HasUptime && b.Uptime.Centiseconds > a.Uptime.Centiseconds {
		return b.Uptime.Centiseconds - a.Uptime.Centiseconds
	}
	return uint64(max((b.Mono-a.Mono)/1e7, 1))
}

// DeviceIostat computes iostat -x for every device between two ticks,
// from /proc/diskstats. Devices present only in the later tick start
// from zero, as in iostat.
func (m *Model) DeviceIostat(from, to int) map[string]Iostat {
	out := map[string]Iostat{}
	itv := m.itvCS(from, to)
	for name, cur := range m.Ticks[to].Disks {
		out[name] = IostatBetween(m.Ticks[from].Disks[name], cur, itv)
	}
	return out
}

// WholeDisks lists the devices of /sys/block (disks, loop, dm, md: not
// partitions) that have a size, sorted; they are what "the device" means
// in a finding.
func (m *Model) WholeDisks() []string {
	var out []string
	for name, b := range m.Blocks {
		// An unattached loop device has no sectors and no IO.
		if b.SizeSectors > 0 || b.Settings["size"] == "" {
			out = append(out, name)
		}
	}
	if len(out) == 0 && len(m.Ticks) > 0 {
		for name := range m.Ticks[0].SysBlock {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// DeviceName returns the name of the device with number dev.
func (m *Model) DeviceName(dev procfs.Dev) string {
	for _, b := range m.Blocks {
		if b.Dev == dev {
			return b.Name
		}
	}
	if len(m.Ticks) > 0 {
		for _, d := range m.Ticks[0].Disks {
			if d.Major == dev.Major && d.Minor == dev.Minor {
				return d.Name
			}
		}
	}
	return dev.String()
}

// DiskName returns the whole disk that holds the device with number dev:
// the device itself when it is one, else the disk a partition belongs to
// (vda1 → vda, nvme0n1p2 → nvme0n1, mmcblk0p1 → mmcblk0). A file's writes
// are the disk's: /sys/block, the block trace and iostat's device rows
// speak of whole disks.
func (m *Model) DiskName(dev procfs.Dev) string { return m.diskOf(m.DeviceName(dev)) }

// diskOf is DiskName by the device's name: a dm or md device's slave may
// be a partition.
func (m *Model) diskOf(name string) string {
	if _, ok := m.Blocks[name]; ok || len(m.Blocks) == 0 {
		return name
	}
	best := ""
	for disk := range m.Blocks {
		rest, ok := strings.CutPrefix(name, disk)
		if !ok || len(disk) <= len(best) {
			continue
		}
		rest = strings.TrimPrefix(rest, "p")
		if rest != "" && strings.Trim(rest, "0123456789") == "" {
			best = disk
		}
	}
	if best == "" {
		return name
	}
	return best
}

// ProcIO is what one process did between two ticks.
type ProcIO struct {
	Proc *Process
	// Delta holds the counter increments; Seconds the time they took.
	Delta   Counters
	Seconds float64
	// Started is true when the process began during the window, so its
	// counters are taken from zero.
	Started bool
	// MaxThreadBlkio is the largest per-thread block-IO delay (ticks),
	// known for targets only; iotop-c's IO% uses the max over threads.
	MaxThreadBlkio uint64
	// DStates counts the ticks in which the process was in D state.
	DStates int
	Samples int
	// CPUTicks is the user+system CPU time it used (clock ticks), and
	// SysTicks its system part.
	CPUTicks, SysTicks uint64
}

// CPUPct is the share of one CPU the process used over the window.
func (p ProcIO) CPUPct(userHZ int) float64 {
	if p.Seconds <= 0 || userHZ <= 0 {
		return 0
	}
	return float64(p.CPUTicks) / float64(userHZ) / p.Seconds * 100
}

// WriteRate and ReadRate are bytes per second over the window.
func (p ProcIO) WriteRate() float64 { return rate(p.Delta.IO.WriteBytes, p.Seconds) }

// ReadRate is read_bytes per second.
func (p ProcIO) ReadRate() float64 { return rate(p.Delta.IO.ReadBytes, p.Seconds) }

func rate(v int64, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(v) / s
}

// DiskBytes is read_bytes + write_bytes.
func (p ProcIO) DiskBytes() int64 { return p.Delta.IO.ReadBytes + p.Delta.IO.WriteBytes }

// Activity ranks processes busiest first, the one ordering every view of
// "who does the IO" uses: disk bytes, plus wchar at a 1/1024 weight, so
// that a process that moves bytes through pipes or the page cache only
// (a runtime shim copying a container's stdout) ranks too, below any
// process that moves as much to disk.
func (p ProcIO) Activity() int64 { return p.DiskBytes() + p.Delta.IO.WChar/1024 }

// Active reports whether the process read or wrote anything.
func (p ProcIO) Active() bool { return p.DiskBytes() != 0 || p.Delta.IO.WChar != 0 }

// SortByActivity orders ps busiest first by Activity, then by PID.
func SortByActivity(ps []ProcIO) {
	sort.SliceStable(ps, func(i, j int) bool {
		if a, b := ps[i].Activity(), ps[j].Activity(); a != b {
			return a > b
		}
		return ps[i].Proc.PID < ps[j].Proc.PID
	})
}

// ProcessIO returns every process's IO between two ticks. A process
// sampled at the first tick starts from that sample; one that started
// after it (by its start time) starts from zero, so a writer born during
// the capture is counted in full; one first seen later without having
// started later starts from its first sample.
func (m *Model) ProcessIO(from, to int) []ProcIO {
	hz := uint64(max(m.Manifest.Host.UserHZ, 1))
	fromCS := m.Ticks[from].Uptime.Centiseconds
	var out []ProcIO
	for _, p := range m.Procs {
		lo, hi := max(from, p.First), min(to, p.Last)
		base, ok1 := m.PointAt(p, lo)
		end, ok2 := m.PointAt(p, hi)
		if lo > hi || !ok1 || !ok2 {
			continue
		}
		pio := ProcIO{Proc: p, Samples: hi - lo + 1, DStates: p.dTicks(lo, hi)}
		startCS := p.Start * 100 / hz
		if base.Tick > from && m.Ticks[from].HasUptime && startCS > fromCS {
			pio.Started = true
			pio.Delta = end.Counters
			pio.CPUTicks, pio.SysTicks = end.CPUTicks, end.SysTicks
			pio.Seconds = float64(end.Mono-m.Ticks[from].Mono) / 1e9
		} else {
			pio.Delta = Counters{IO: subIO(end.IO, base.IO), HasIO: end.HasIO && base.HasIO, BlkioTicks: end.BlkioTicks - base.BlkioTicks, MajFlt: end.MajFlt - base.MajFlt}
			pio.CPUTicks, pio.SysTicks = end.CPUTicks-base.CPUTicks, end.SysTicks-base.SysTicks
			pio.Seconds = float64(end.Mono-base.Mono) / 1e9
		}
		if pio.Delta.BlkioTicks > m.blkioBound(p.Start, hi) {
			pio.Delta.BlkioTicks = 0
		}
		if pio.Seconds <= 0 {
			pio.Seconds = m.Seconds(from, to)
		}
		pio.MaxThreadBlkio = m.maxThreadBlkio(p.PID, from, to)
		out = append(out, pio)
	}
	return out
}

func subIO(a, b procfs.PIDIO) procfs.PIDIO {
	return procfs.PIDIO{
		RChar: a.RChar - b.RChar, WChar: a.WChar - b.WChar, SyscR: a.SyscR - b.SyscR, SyscW: a.SyscW - b.SyscW,
		ReadBytes: a.ReadBytes - b.ReadBytes, WriteBytes: a.WriteBytes - b.WriteBytes,
		CancelledWriteBytes: a.CancelledWriteBytes - b.CancelledWriteBytes,
	}
}

// maxThreadBlkio is the largest increase of any one thread's block-IO
// delay between two ticks, from the per-thread samples of targets; an
// increase no wait could have made (blkioBound), or a thread id reused
// by a new thread (its figure smaller), counts nothing.
func (m *Model) maxThreadBlkio(pid, from, to int) uint64 {
	first := map[int]uint64{}
	var best uint64
	for k := from; k <= to; k++ {
		for _, th := range m.Ticks[k].Threads[pid] {
			v, ok := first[th.TID]
			if !ok {
				first[th.TID] = th.Stat.DelayAcctBlkioTicks
				continue
			}
			if d := th.Stat.DelayAcctBlkioTicks - v; th.Stat.DelayAcctBlkioTicks >= v && d <= m.blkioBound(th.Stat.StartTime, k) {
				best = max(best, d)
			}
		}
	}
	return best
}

// blkioBound is the most block-IO delay (clock ticks of /proc/PID/stat
// field 42) a task started at start (clock ticks after boot) can have
// counted by tick k: no more than it has lived, nor, when the collector
// turned delay accounting on, than the time since (with a second's
// slack for the switch before the first tick). A wait that began while
// accounting was off ends counted from time zero — field 42 jumps by
// about the uptime (seen on a go build: "49089.6 s blocked on IO in 4
// s") — and such a figure says nothing.
func (m *Model) blkioBound(start uint64, k int) uint64 {
	hz := uint64(max(m.Manifest.Host.UserHZ, 1))
	bound := uint64(math.MaxUint64)
	if t := m.Ticks[k]; t.HasUptime {
		now := t.Uptime.Centiseconds * hz / 100
		bound = now - min(start, now)
	}
	if da := m.Manifest.DelayAcct; da != nil && da.Enabled && da.Before != "1" && len(m.Ticks) > 0 {
		on := uint64(max(m.Ticks[k].Mono-m.Ticks[0].Mono, 0))*hz/1e9 + hz
		bound = min(bound, on)
	}
	return bound
}

// IOPercent is iotop's IO column: the share of wall time spent waiting
// for block IO, from the delay-accounting ticks (per-thread max when
// known, as iotop-c -P does, else the leader's own field 42).
func (p ProcIO) IOPercent(userHZ int) float64 {
	ticks := max(p.MaxThreadBlkio, p.Delta.BlkioTicks)
	if p.Seconds <= 0 || userHZ <= 0 {
		return 0
	}
	return min(100, float64(ticks)/(p.Seconds*float64(userHZ))*100)
}

// FormatTick names a tick for people: its index and UTC time.
func (m *Model) FormatTick(n int) string {
	return strconv.Itoa(n) + " (" + m.Ticks[n].Wall.UTC().Format("15:04:05") + ")"
}

// PSIShare is the share (percent) of the time from tick from to tick to in
// which some, and all, non-idle tasks were stalled on IO: the growth of
// /proc/pressure/io's totals over the span (Documentation/accounting/
// psi.rst). ok is false without PSI at either end, or when a total went
// down; full is 0 where the file has no "full" line.
func (m *Model) PSIShare(from, to int) (some, full float64, ok bool) {
	a, b := m.Ticks[from].PSI, m.Ticks[to].PSI
	s := m.Seconds(from, to)
	if a == nil || b == nil || a.Some == nil || b.Some == nil || s <= 0 || b.Some.TotalUS < a.Some.TotalUS {
		return 0, 0, false
	}
	some = float64(b.Some.TotalUS-a.Some.TotalUS) / (s * 1e6) * 100
	if a.Full != nil && b.Full != nil && b.Full.TotalUS >= a.Full.TotalUS {
		full = float64(b.Full.TotalUS-a.Full.TotalUS) / (s * 1e6) * 100
	}
	return some, full, true
}
