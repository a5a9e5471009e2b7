package mechanisms

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 24, item 1: a journal kept in a shared mapping and msynced
// (MS_SYNC) after every record, on a slow disk (10 ms a write), with a
// buffered logger beside it. It makes no write() call: wchar stays flat
// while write_bytes and the device climb. The report names the mapped
// journal as the culprit and its msyncs as the mechanism, with the file
// its maps name, never the stalls that follow.
func TestMsyncJournal(t *testing.T) {
	mnt, dev := slowExt4(t, "10ms")
	journal := filepath.Join(mnt, "journal.dat")
	j := workload.StartProgram(t, "mapped-journal", "--file", journal, "--size", "512", "--sync", "msync", "--rate", "100", "--max-bytes", "64MiB")
	workload.StartProgram(t, "app-logger", "--file", filepath.Join(mnt, "app.log"), "--size", "200", "--rate", "50")
	r, md := captureReport(t)
	checkVerdict(t, r, dev, j.Process.Pid, "mmap-msync")
	reporttest.CheckFindings(t, r, nil, []string{"sync-writes"})
	for _, f := range r.Findings {
		if f.ID == "mmap-msync" && (f.Subjects.Path != journal || !strings.Contains(f.Summary, "msync(MS_SYNC)")) {
			t.Errorf("mmap-msync names %q, want the mapped file %s and its msyncs: %s", f.Subjects.Path, journal, f.Summary)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
