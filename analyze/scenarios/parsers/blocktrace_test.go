package parsers_test

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/samples/workload"
)

// The block trace and /proc/diskstats count the same requests: over the
// same seconds on a device of the test's own (an nbdkit disk that delays
// every write by 4 ms, written by fio with direct 4 KiB random writes at
// a steady rate), the trace's completed writes and their mean service
// time agree with the diskstats writes and write time (iostat's w/s and
// w_await) within a few percent.
func TestBlockTraceMatchesDiskstats(t *testing.T) {
	fio := workload.RequireTool(t, "fio")
	dev := workload.SlowDisk(t, 256, "delay", "wdelay=4ms")
	workload.Start(t, fio, "--name=steady", "--filename="+dev, "--rw=randwrite", "--bs=4k", "--direct=1",
		"--ioengine=psync", "--rate_iops=120", "--time_based", "--runtime=60", "--output=/dev/null")
	time.Sleep(time.Second)
	cfg := livetest.Config(t, 6*time.Second)
	cfg.Strace = false
	cfg.BlockTraceDuration = 8 * time.Second // the whole capture
	m := livetest.Load(t, livetest.Capture(t, cfg, 0))
	if m.BlockTrace == nil || len(m.BlockTrace.Requests) == 0 {
		t.Fatal("no block trace")
	}
	name := filepath.Base(dev)
	blk := m.Blocks[name]
	if blk == nil {
		t.Fatalf("no %s in the bundle", name)
	}
	compared := 0
	// Ticks 1 to the last, inside the trace: the diskstats frames' read
	// times bound each interval, and a request counts where it completed.
	for k := 2; k < len(m.Ticks); k++ {
		a, b := m.Ticks[k-1], m.Ticks[k]
		if a.DisksMono < m.BlockTrace.FirstNS || b.DisksMono > m.BlockTrace.LastNS {
			continue
		}
		da, db := a.Disks[name], b.Disks[name]
		writes := float64(db.WriteIOs - da.WriteIOs)
		wms := float64(db.WriteTicks - da.WriteTicks)
		var n, sum float64
		for _, r := range m.BlockTrace.Requests {
			if r.Dev == blk.Dev && r.Write() && r.CompleteNS > a.DisksMono && r.CompleteNS <= b.DisksMono {
				n++
				sum += float64(r.ServiceNS())
			}
		}
		if writes == 0 || n == 0 {
			t.Errorf("ticks %d-%d: %v diskstats writes, %v traced", k-1, k, writes, n)
			continue
		}
		compared++
		// One request may complete on either side of a diskstats read.
		if math.Abs(n-writes) > math.Max(2, 0.03*writes) {
			t.Errorf("ticks %d-%d: %v writes in diskstats, %v in the trace", k-1, k, writes, n)
		}
		traced, counted := sum/n/1e6, wms/writes
		// diskstats counts whole milliseconds per request.
		if math.Abs(traced-counted) > math.Max(1, 0.05*counted) {
			t.Errorf("ticks %d-%d: w_await %.2f ms from diskstats, %.2f ms from the trace", k-1, k, counted, traced)
		}
		t.Logf("ticks %d-%d: %v vs %v writes, %.2f vs %.2f ms", k-1, k, writes, n, counted, traced)
	}
	if compared < 3 {
		t.Errorf("only %d intervals inside the trace", compared)
	}
}
