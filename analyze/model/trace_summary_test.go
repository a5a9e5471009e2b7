package model

import (
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/strace"
)

// An fsync still in progress when strace detached (a hand-made trace: its
// entry printed <unfinished ...> and no resumption follows) is no 0 µs
// call: the mean is over the calls that returned, and the open one is
// counted as running at least until the detach the collector recorded.
func TestSummarizeUnfinishedAtDetach(t *testing.T) {
	text := "100 10:00:00.000000 write(3</d/wal>, \"x\", 4096) = 4096 <0.000010>\n" +
		"100 10:00:00.000020 fdatasync(3</d/wal>) = 0 <0.100000>\n" +
		"100 10:00:00.200000 write(3</d/wal>, \"x\", 4096) = 4096 <0.000010>\n" +
		"100 10:00:00.200020 fdatasync(3</d/wal>) = 0 <0.120000>\n" +
		"100 10:00:00.400000 write(3</d/wal>, \"x\", 4096) = 4096 <0.000010>\n" +
		"100 10:00:00.400020 fdatasync(3</d/wal> <unfinished ...>\n"
	tr := strace.Parse([]byte(text))
	// Attached at 09:59:59.95 UTC for 0.6 s; the trace's clock is UTC+2.
	attach := time.Date(2026, 1, 1, 7, 59, 59, 950e6, time.UTC)
	s := SummarizeUntil(tr, 0.6, attach.Add(600*time.Millisecond))
	f := s.Files[0]
	if f.Syncs != 3 || f.SyncLat.Calls != 2 || f.SyncLat.Open != 1 {
		t.Fatalf("syncs %d, latency %+v", f.Syncs, f.SyncLat)
	}
	if got := f.SyncLat.AvgUS(); got != 110000 {
		t.Errorf("mean %v µs, want 110000 (the two that returned)", got)
	}
	// Detach at 10:00:00.55 on the trace's clock: 149.98 ms after the
	// open call began.
	if f.SyncLat.OpenUS != 149980 {
		t.Errorf("open call ran %d µs by the detach, want 149980", f.SyncLat.OpenUS)
	}
	want := "110000 µs each on average (over the 2 that returned; 1 more was still in progress when the trace ended, after at least 150.0 ms)"
	if got := f.SyncLat.Mean(); got != want {
		t.Errorf("Mean() = %q, want %q", got, want)
	}
	// The per-syscall table and the file agree: one mean per set of calls.
	for _, st := range s.Syscalls {
		if st.Name == "fdatasync" && st.Latency() != f.SyncLat {
			t.Errorf("fdatasync stat latency %+v, file %+v", st.Latency(), f.SyncLat)
		}
	}
	// Without the detach time the trace's last line bounds it.
	if l := Summarize(tr, 0.6).Files[0].SyncLat; l.OpenUS != 0 || l.Open != 1 || l.AvgUS() != 110000 {
		t.Errorf("without detach: %+v", l)
	}
}
