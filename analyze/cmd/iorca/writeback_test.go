package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
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
	slow, mnt := writebackDisk(t, "10ms")
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
		_, md := runReport(t, path)
		t.Logf("export: %.0f %% (writeback %.0f %%); appender: %.0f %% (own %.0f %%, journal %.0f %%, writeback %.0f %%)\n%s",
			dt.Fraction(es)*100, es.WritebackNS/dt.BusyNS*100, dt.Fraction(as)*100, as.DirectNS/dt.BusyNS*100, as.JournalNS/dt.BusyNS*100, as.WritebackNS/dt.BusyNS*100, md)
	}
}
