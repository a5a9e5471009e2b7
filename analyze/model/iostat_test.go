package model

import (
	"math"
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// The millisecond fields of diskstats are 32-bit in the kernel (%u) and
// wrap after 2^32 ms (REFERENCE-IO.md 1.2, 1.8): across one wrap the
// difference is still exact.
func TestIostatAcrossTickWrap(t *testing.T) {
	prev := procfs.DiskStat{Stats: 17, WriteIOs: 1000, WriteSectors: 8000, WriteTicks: math.MaxUint32 - 99, IOTicks: math.MaxUint32 - 499, TimeInQueue: math.MaxUint32 - 999}
	cur := prev
	cur.WriteIOs += 100
	cur.WriteSectors += 800
	cur.WriteTicks = 100 // 200 ms later, wrapped
	cur.IOTicks = 100    // 600 ms of busy time, wrapped
	cur.TimeInQueue = 0  // 1000 ms of queue time, wrapped
	x := IostatBetween(prev, cur, 100)
	if x.WPS != 100 || x.WAwait != 2 || x.WkBPS != 400 || x.WareqSz != 4 {
		t.Errorf("rates %+v", x)
	}
	// %util and aqu-sz: sysstat would print 0.00 for the interval of a
	// wrap ("cur < prev"); iorca gives the true figure.
	if x.Util != 60 || x.AquSz != 1 {
		t.Errorf("util %.2f aqu %.2f, want 60 and 1", x.Util, x.AquSz)
	}
}

// A device removed and added again restarts from zero: sysstat then
// takes the previous sample as zero (iostat.c write_stats).
func TestIostatDeviceReregistered(t *testing.T) {
	prev := procfs.DiskStat{Stats: 11, ReadIOs: 5000, ReadSectors: 80000, WriteIOs: 3000, WriteSectors: 24000, IOTicks: 9000}
	cur := procfs.DiskStat{Stats: 11, ReadIOs: 10, ReadSectors: 160, WriteIOs: 20, WriteSectors: 160, IOTicks: 50}
	if !Reregistered(prev, cur) {
		t.Fatal("not detected")
	}
	x := IostatBetween(prev, cur, 200)
	if x.RPS != 5 || x.WPS != 10 || x.Util != 2.5 {
		t.Errorf("after re-registration: %+v", x)
	}
	if Reregistered(cur, prev) {
		t.Error("a normal increase taken for a re-registration")
	}
}
