package model

import "github.com/iorca/iorca/internal/procfs"

// Counters are one process's cumulative IO counters at one moment.
type Counters struct {
	IO    procfs.PIDIO
	HasIO bool
	// BlkioTicks is /proc/PID/stat field 42 (clock ticks of block-IO
	// delay).
	BlkioTicks uint64
	// MajFlt is /proc/PID/stat field 12: page faults that read from disk
	// (swap-ins, or pages of mapped files).
	MajFlt uint64
}

// PidstatD holds the columns of pidstat -d for one process over one
// interval (pidstat.c write_pid_io_stats; REFERENCE-IO.md 3.4).
type PidstatD struct {
	KBRdPS, KBWrPS, KBCcwrPS float64
	// IODelay is the block-IO delay in clock ticks over the interval.
	IODelay uint64
}

// PidstatDBetween computes pidstat -d from two samples itvCS centiseconds
// apart (the /proc/uptime delta). A zero prev is what pidstat uses for a
// process it had not seen before.
func PidstatDBetween(prev, cur Counters, itvCS uint64) PidstatD {
	if itvCS == 0 {
		itvCS = 1
	}
	itv := float64(itvCS)
	// S_VALUE on unsigned counters: a backwards step wraps, as in C.
	sv := func(p, c int64) float64 { return float64(uint64(c)-uint64(p)) / itv * 100 }
	return PidstatD{
		KBRdPS:   sv(prev.IO.ReadBytes, cur.IO.ReadBytes) / 1024,
		KBWrPS:   sv(prev.IO.WriteBytes, cur.IO.WriteBytes) / 1024,
		KBCcwrPS: sv(prev.IO.CancelledWriteBytes, cur.IO.CancelledWriteBytes) / 1024,
		IODelay:  cur.BlkioTicks - prev.BlkioTicks,
	}
}

// Active reports whether pidstat -d would show the process in an interval
// report: some bytes or delay changed.
func (p PidstatD) Active() bool {
	return p.KBRdPS != 0 || p.KBWrPS != 0 || p.KBCcwrPS != 0 || p.IODelay != 0
}
