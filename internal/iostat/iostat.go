// Package iostat is the arithmetic of iostat -x over two samples of
// /proc/diskstats, as sysstat computes it. The analyzer's model and the
// collector's trigger share it, so that a trigger on "util>80" fires on
// the figure the report will show.
package iostat

import (
	"math"

	"github.com/iorca/iorca/internal/procfs"
)

// Stat holds the columns of iostat -x (and of iostat -x -s, the short
// form) for one device over one interval, computed as sysstat 12.x does
// (iostat.c write_ext_stat, rd_stats.c compute_ext_disk_stats;
// REFERENCE-IO.md 1.5). Sizes are kB, times ms, %util a percentage.
type Stat struct {
	RPS, RkBPS, RrqmPS, RrqmPct, RAwait, RareqSz float64
	WPS, WkBPS, WrqmPS, WrqmPct, WAwait, WareqSz float64
	DPS, DkBPS, DrqmPS, DrqmPct, DAwait, DareqSz float64
	FPS, FAwait                                  float64
	AquSz, Util                                  float64
	// The short form (-s): tps counts reads, writes and discards;
	// unmerged flushes are counted as writes by the kernel.
	TPS, KBPS, RqmPS, Await, AreqSz float64
}

// Between computes iostat -x for one device from the previous and
// the current sample, itvCS centiseconds apart (the /proc/uptime delta, as
// sysstat uses). A zero prev gives the "since boot" report. When the
// device's counters went down (it was removed and added again), prev is
// taken as zero, as sysstat does.
func Between(prev, cur procfs.DiskStat, itvCS uint64) Stat {
	if itvCS == 0 {
		itvCS = 1 // sysstat's get_interval never divides by zero
	}
	if Reregistered(prev, cur) {
		prev = procfs.DiskStat{}
	}
	itv := float64(itvCS)
	// rate is sysstat's S_VALUE with its guard: a counter that went down
	// gives 0 for the interval.
	rate := func(p, c uint64) float64 {
		if c < p {
			return 0
		}
		return float64(c-p) / itv * 100
	}
	// Millisecond fields are 32-bit in the kernel (%u): their difference
	// is taken modulo 2^32, which is exact across one wrap.
	ms := func(p, c uint64) float64 { return float64(uint32(c - p)) }
	var x Stat
	dRIOs, dWIOs, dDIOs := int64(cur.ReadIOs-prev.ReadIOs), int64(cur.WriteIOs-prev.WriteIOs), int64(cur.DiscardIOs-prev.DiscardIOs)

	x.RPS = rate(prev.ReadIOs, cur.ReadIOs)
	x.WPS = rate(prev.WriteIOs, cur.WriteIOs)
	x.DPS = rate(prev.DiscardIOs, cur.DiscardIOs)
	x.FPS = rate(prev.FlushIOs, cur.FlushIOs)
	x.RkBPS = rate(prev.ReadSectors, cur.ReadSectors) / 2
	x.WkBPS = rate(prev.WriteSectors, cur.WriteSectors) / 2
	x.DkBPS = rate(prev.DiscardSectors, cur.DiscardSectors) / 2
	x.RrqmPS = rate(prev.ReadMerges, cur.ReadMerges)
	x.WrqmPS = rate(prev.WriteMerges, cur.WriteMerges)
	x.DrqmPS = rate(prev.DiscardMerges, cur.DiscardMerges)
	x.RrqmPct = mergePct(prev.ReadMerges, cur.ReadMerges, prev.ReadIOs, cur.ReadIOs)
	x.WrqmPct = mergePct(prev.WriteMerges, cur.WriteMerges, prev.WriteIOs, cur.WriteIOs)
	x.DrqmPct = mergePct(prev.DiscardMerges, cur.DiscardMerges, prev.DiscardIOs, cur.DiscardIOs)
	if cur.ReadIOs > prev.ReadIOs {
		x.RAwait = ms(prev.ReadTicks, cur.ReadTicks) / float64(dRIOs)
		x.RareqSz = float64(cur.ReadSectors-prev.ReadSectors) / float64(dRIOs) / 2
	}
	if cur.WriteIOs > prev.WriteIOs {
		x.WAwait = ms(prev.WriteTicks, cur.WriteTicks) / float64(dWIOs)
		x.WareqSz = float64(cur.WriteSectors-prev.WriteSectors) / float64(dWIOs) / 2
	}
	if cur.DiscardIOs > prev.DiscardIOs {
		x.DAwait = ms(prev.DiscardTicks, cur.DiscardTicks) / float64(dDIOs)
		x.DareqSz = float64(cur.DiscardSectors-prev.DiscardSectors) / float64(dDIOs) / 2
	}
	if cur.FlushIOs > prev.FlushIOs {
		x.FAwait = ms(prev.FlushTicks, cur.FlushTicks) / float64(cur.FlushIOs-prev.FlushIOs)
	}
	// aqu-sz and %util are S_VALUE of time_in_queue and io_ticks (ms) over
	// itv (cs). sysstat prints 0 when such a counter went down; a 32-bit
	// counter that was in its upper half has wrapped, and its modular
	// difference is the true one.
	x.AquSz = msRate(prev.TimeInQueue, cur.TimeInQueue, itv) / 1000
	x.Util = msRate(prev.IOTicks, cur.IOTicks, itv) / 10

	nrPrev := prev.ReadIOs + prev.WriteIOs + prev.DiscardIOs
	nrCur := cur.ReadIOs + cur.WriteIOs + cur.DiscardIOs
	x.TPS = rate(nrPrev, nrCur)
	x.KBPS = rate(prev.ReadSectors+prev.WriteSectors+prev.DiscardSectors, cur.ReadSectors+cur.WriteSectors+cur.DiscardSectors) / 2
	x.RqmPS = rate(prev.ReadMerges+prev.WriteMerges+prev.DiscardMerges, cur.ReadMerges+cur.WriteMerges+cur.DiscardMerges)
	if nrCur > nrPrev {
		n := float64(nrCur - nrPrev)
		x.Await = (ms(prev.ReadTicks, cur.ReadTicks) + ms(prev.WriteTicks, cur.WriteTicks) + ms(prev.DiscardTicks, cur.DiscardTicks)) / n
		x.AreqSz = float64((cur.ReadSectors-prev.ReadSectors)+(cur.WriteSectors-prev.WriteSectors)+(cur.DiscardSectors-prev.DiscardSectors)) / n / 2
	}
	return x
}

// msRate is the per-second rate of a 32-bit millisecond counter.
func msRate(p, c uint64, itv float64) float64 {
	switch {
	case c >= p:
		return float64(c-p) / itv * 100
	case p >= 1<<31 && p <= math.MaxUint32:
		return float64(uint32(c-p)) / itv * 100
	}
	return 0
}

func mergePct(pm, cm, pi, ci uint64) float64 {
	if cm < pm || ci < pi {
		return 0
	}
	dm, di := float64(cm-pm), float64(ci-pi)
	if dm+di == 0 {
		return 0
	}
	return dm / (dm + di) * 100
}

// Reregistered reports sysstat's test for a device removed and added again
// between two samples: the sum of its IOs went down, and each sector
// counter was zero before or went down too.
func Reregistered(prev, cur procfs.DiskStat) bool {
	sumPrev := prev.ReadIOs + prev.WriteIOs + prev.DiscardIOs + prev.FlushIOs
	sumCur := cur.ReadIOs + cur.WriteIOs + cur.DiscardIOs + cur.FlushIOs
	return sumCur < sumPrev &&
		(prev.ReadSectors == 0 || cur.ReadSectors < prev.ReadSectors) &&
		(prev.WriteSectors == 0 || cur.WriteSectors < prev.WriteSectors) &&
		(prev.DiscardSectors == 0 || cur.DiscardSectors < prev.DiscardSectors)
}
