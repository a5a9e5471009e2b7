package collector

import (
	"os"
	"testing"

	"github.com/iorca/iorca/collect/redact"
	"github.com/iorca/iorca/internal/procfs"
)

// BenchmarkTick samples one tick of this machine's real /proc and /sys:
// every process's stat and io, the system files, the cgroups. It reports
// the processes walked per tick; divide ns/op by it for the cost per
// process. The first tick (which also fills the process table) is not
// timed.
func BenchmarkTick(b *testing.B) {
	lg := newLedger()
	data, _ := os.ReadFile("/proc/self/mountinfo")
	mounts, _ := procfs.ParseMountinfo(data)
	s := &sampler{ledger: lg, table: newProcTable(&redact.Redactor{}), cgroups: newCgroupSet(mounts), self: os.Getpid()}
	s.tick(0)
	s.procsSampled = 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.tick(i + 1)
	}
	b.ReportMetric(float64(s.procsSampled)/float64(b.N), "procs/op")
}
