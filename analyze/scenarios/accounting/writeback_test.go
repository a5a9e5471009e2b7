package accounting

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21, item 4: writeback is credited by what the flushers wrote, not
// by how many pages each task dirtied. A buffered writer and an O_DSYNC
// appender share a slow disk whose dirty pages are bounded so that the
// flushers write during the capture. The appender dirties pages too, but
// each of its writes cleans them at once: the flushers write only the
// buffered writer's file (writeback_single_inode says which inode), so the
// writeback is the buffered writer's, and the appender's time is its own
// requests and the journal commits its syncs force.
func TestWritebackCreditedByWhatFlushersWrote(t *testing.T) {
	slow, mnt := workload.WritebackDisk(t, "10ms")
	export := workload.StartProgram(t, "export", "--file", filepath.Join(mnt, "export.csv"), "--size", "65536", "--sync", "none", "--rate", "64", "--max-bytes", "256MiB")
	appender := workload.StartProgram(t, "appender", "--file", filepath.Join(mnt, "events.log"), "--size", "512", "--sync", "odsync", "--rate", "20")
	cfg := livetest.Config(t, 8*time.Second)
	cfg.SelectAfter = 3 * time.Second
	path := livetest.Capture(t, cfg, 0)
	m := livetest.Load(t, path)
	if m.BlockTrace == nil {
		t.Fatal("no block trace")
	}
	w := window.New(m, window.Defaults())
	dev := filepath.Base(slow)
	dt := w.DeviceTimes[dev]
	if dt == nil {
		t.Fatalf("no device time for %s", dev)
	}
	es, as := dt.Find(export.Process.Pid), dt.Find(appender.Process.Pid)
	if es == nil || as == nil {
		t.Fatalf("export %+v, appender %+v", es, as)
	}
	if len(m.BlockTrace.Written) == 0 {
		t.Fatal("the flushers wrote nothing during the capture: the scenario did not happen")
	}
	if es.WritebackNS <= 0 || as.WritebackNS > 0.02*dt.BusyNS {
		t.Errorf("writeback: export %.0f %% of %s, the appender %.0f %% (its pages are clean by writeback time)",
			es.WritebackNS/dt.BusyNS*100, dev, as.WritebackNS/dt.BusyNS*100)
	}
	if as.DirectNS <= 0 || as.JournalNS <= 0 {
		t.Errorf("the appender's own requests %.0f ns and journal commits %.0f ns: want both", as.DirectNS, as.JournalNS)
	}
	if t.Failed() || testing.Verbose() {
		_, md := reporttest.Analyze(t, path)
		t.Logf("export: %.0f %% (writeback %.0f %%); appender: %.0f %% (own %.0f %%, journal %.0f %%, writeback %.0f %%)\n%s",
			dt.Fraction(es)*100, es.WritebackNS/dt.BusyNS*100, dt.Fraction(as)*100, as.DirectNS/dt.BusyNS*100, as.JournalNS/dt.BusyNS*100, as.WritebackNS/dt.BusyNS*100, md)
	}
}

// Issue 21: a dirtier known from before the trace began. A buffered
// writer dirties 32 MiB on the test's own loop-device ext4, then goes
// quiet with the file still open; the collector starts after it and
// traces for 40 s, long enough for the flushers to write the pages once
// they are dirty_expire_centisecs (30 s by default, left as it is) old.
// No writeback_dirty_folio in the trace names a dirtier: the collector's
// scan of open descriptors when the trace ends finds the writer holding
// the inode open for writing, and the writeback is charged to it — in
// the model, in the report's words and in biotop — not to a kworker.
func TestPreTraceDirtier(t *testing.T) {
	mnt, dev := workload.LoopExt4(t, 256)
	file := filepath.Join(mnt, "quiet.dat")
	w := workload.StartProgram(t, "quiet-writer", "--file", file, "--size", "1048576", "--rate", "16", "--for", "2s", "--hold")
	waitWritten(t, file, 30<<20)
	cfg := livetest.Config(t, 40*time.Second)
	cfg.Strace = false
	path := livetest.Capture(t, cfg, 0)
	m := livetest.Load(t, path)
	if m.BlockTrace == nil {
		t.Fatal("no block trace")
	}
	pid := w.Process.Pid
	found := false
	for _, ow := range m.OpenWriters {
		found = found || ow.PID == pid
	}
	if !found {
		t.Fatalf("the bundle's open writers %+v do not name the writer %d", m.OpenWriters, pid)
	}
	name := filepath.Base(dev)
	dt := window.New(m, window.Defaults()).DeviceTimes[name]
	if dt == nil {
		t.Fatalf("no device time on %s: the flushers did not write during the capture", name)
	}
	// The writeback's bytes are the writer's; what kernel threads keep is
	// the journal's commits and cache flushes, which no synchronous
	// writer forced (ext4 allocating the delayed blocks at writeback).
	s := dt.Find(pid)
	if s == nil || s.WritebackNS <= 0 || s.OpenedNS < 0.99*s.WritebackNS || s.CausedBytes < 1<<20 {
		t.Fatalf("the writer holds %+v of %s, want the writeback of the file it held open", s, name)
	}
	for _, k := range dt.Shares {
		if k.Kernel && float64(k.Bytes) > 0.1*s.CausedBytes {
			t.Errorf("%s keeps %d bytes of %s's requests, the writer %.0f", k.Task.Comm, k.Bytes, name, s.CausedBytes)
		}
	}
	// Without the scan (an older bundle) the same writeback is a kworker's.
	m.OpenWriters = nil
	if old := m.DeviceTimes()[name]; old.Find(pid) != nil {
		t.Errorf("without open writers the writer still holds %+v", old.Find(pid))
	}
	var top, errb bytes.Buffer
	if code := reporttest.Iorca([]string{"replay", path, "biotop", strconv.Itoa(pid)}, &top, &errb); code != 0 {
		t.Fatalf("replay biotop: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(top.String(), "quiet-writer") {
		t.Errorf("biotop for PID %d does not show the writer:\n%s", pid, top.String())
	}
	// The words a finding about the device would use for the share.
	if how := window.ShareHow(dt, s); !strings.Contains(how, "held open for writing, dirtied before the trace began") {
		t.Errorf("the share's evidence %q does not say the file was held open", how)
	}
	_, md := reporttest.Analyze(t, path)
	if t.Failed() || testing.Verbose() {
		t.Logf("%s: writer %.0f %% (opened %.0f %%)\n%s\n%s", name, dt.Fraction(s)*100, s.OpenedNS/dt.BusyNS*100, top.String(), md)
	}
}

// waitWritten waits until file holds at least n bytes in the page cache
// (its size): the writer has dirtied them.
func waitWritten(t *testing.T, file string, n int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if fi, err := os.Stat(file); err == nil && fi.Size() >= n {
			time.Sleep(time.Second) // its --for ends: nothing more is dirtied
			return
		}
	}
	t.Fatalf("%s did not reach %d bytes", file, n)
}
