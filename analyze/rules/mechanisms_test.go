package rules

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// checkOn runs one rule on one sample with thresholds th.
func checkOn(t *testing.T, r *Rule, sample string, th window.Thresholds) []content.Finding {
	return r.Check(window.New(sampleModel(t, sample), th))
}

// The unpacker of file-by-file-fsync is one finding for its pattern,
// listing its directories, and no sync-writes finding for its files; the
// rule stays silent on every other sample, and on its own sample once
// its rate is below the bound and the device is not saturated.
func TestFileByFileSync(t *testing.T) {
	fs := checkOn(t, fileByFileSync, "file-by-file-fsync", window.Defaults())
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(fs), fs)
	}
	f := fs[0]
	if !strings.Contains(f.Title, "unpacker") || !strings.HasSuffix(f.Subjects.Path, "/usr/share/app") {
		t.Errorf("title %q, path %q", f.Title, f.Subjects.Path)
	}
	if n, _ := f.Figure(FigDurableFiles); n < 10 {
		t.Errorf("%v files made durable in the trace", n)
	}
	for _, s := range checkOn(t, syncWrites, "file-by-file-fsync", window.Defaults()) {
		if s.Subjects.PIDs[0] == f.Subjects.PIDs[0] {
			t.Errorf("sync-writes about the unpacker as well: %s", s.Title)
		}
	}
	for _, s := range append(samples, "metadata-scan") {
		if got := checkOn(t, fileByFileSync, s, window.Defaults()); len(got) > 0 {
			t.Errorf("fired on %s: %s", s, got[0].Title)
		}
	}
	th := window.Defaults()
	th.SyncMinPerSec, th.DeviceSharePct = 1000, 100
	if got := checkOn(t, fileByFileSync, "file-by-file-fsync", th); len(got) > 0 {
		t.Errorf("fired below its bounds: %s", got[0].Title)
	}
}

// find on metadata-scan is a metadata scan on the saturated loop device,
// with its M-flagged reads and readahead, its trace's tree and the idle
// priority advice; no other sample has one.
func TestMetadataScan(t *testing.T) {
	fs := checkOn(t, metadataScan, "metadata-scan", window.Defaults())
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(fs), fs)
	}
	f := fs[0]
	if !strings.Contains(f.Title, "(find)") || f.Subjects.Device != "loop0" {
		t.Errorf("title %q, device %q", f.Title, f.Subjects.Device)
	}
	if pct, _ := f.Figure(FigMetaReadsPct); pct < 90 {
		t.Errorf("metadata reads %.0f %% of its reads", pct)
	}
	var ionice, prune, atime bool
	for _, m := range f.Mitigations {
		ionice = ionice || strings.Contains(m.How, "ionice -c3")
		prune = prune || strings.Contains(m.How, "PRUNEPATHS")
		atime = atime || strings.Contains(m.Action, "noatime")
	}
	if !ionice || !prune || !atime {
		t.Errorf("mitigations: ionice %v, prune %v, noatime %v", ionice, prune, atime)
	}
	for _, s := range append(samples, "file-by-file-fsync", "dirty-throttled", "overlay-slow-disk") {
		if got := checkOn(t, metadataScan, s, window.Defaults()); len(got) > 0 {
			t.Errorf("fired on %s: %s", s, got[0].Title)
		}
	}
	th := window.Defaults()
	th.MetaReadsMinPerSec, th.DeviceSharePct = 1000, 100
	if got := checkOn(t, metadataScan, "metadata-scan", th); len(got) > 0 {
		t.Errorf("fired below its bounds: %s", got[0].Title)
	}
}
