package rules

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
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

// The issue 24 samples beside the others: each mechanism rule fires on
// its own incident only.
var mechanismSamples = append([]string{"mmap-msync", "sync-caller", "overlay-slow-disk", "dirty-throttled"}, samples...)

// firesOn runs one rule (Check, or After on the other rules' findings)
// on the samples and returns those it fired on.
func firesOn(t *testing.T, r *Rule, names []string) map[string][]content.Finding {
	out := map[string][]content.Finding{}
	for _, s := range names {
		c := window.New(sampleModel(t, s), window.Defaults())
		var fs []content.Finding
		if r.Check != nil {
			fs = r.Check(c)
		} else {
			for _, f := range Check(c) {
				if f.ID == r.ID {
					fs = append(fs, f)
				}
			}
		}
		if len(fs) > 0 {
			out[s] = fs
		}
	}
	return out
}

// mmap-msync: the mapped journal of the mmap-msync sample, named by its
// maps, with its msyncs a second and their time; nowhere else.
func TestMmapMsync(t *testing.T) {
	got := firesOn(t, mmapMsync, mechanismSamples)
	if len(got) != 1 || got["mmap-msync"] == nil {
		t.Fatalf("mmap-msync fired on %v", mapKeys(got))
	}
	f := got["mmap-msync"][0]
	if !strings.HasSuffix(f.Subjects.Path, "/journal.dat") || f.Confidence != content.High {
		t.Errorf("finding names %q (%v)", f.Subjects.Path, f.Confidence)
	}
	rate, _ := f.Figure(FigMsyncsPerS)
	us, _ := f.Figure("msync_avg_us")
	wchar, _ := f.Figure("wchar")
	wb, _ := f.Figure("write_bytes")
	if rate < 5 || us <= 0 || wchar != 0 || wb <= 0 {
		t.Errorf("figures: %.0f msyncs/s of %.0f µs, wchar %.0f, write_bytes %.0f", rate, us, wchar, wb)
	}
	if share, _ := f.Figure(FigDeviceSharePct); share < 50 {
		t.Errorf("its share of the device: %.0f %%", share)
	}
	// Without maps (a bundle from before issue 24) the file is unknown,
	// and said so; the finding stands on the msyncs.
	m := sampleModel(t, "mmap-msync")
	c := window.New(m, window.Defaults())
	for _, tv := range c.Targets {
		saved := tv.Target.Maps
		tv.Target.Maps = nil
		defer func() { tv.Target.Maps = saved }()
	}
	fs := checkMmapMsync(c)
	if len(fs) != 1 || fs[0].Subjects.Path != "" || !strings.Contains(fs[0].Title, "writes a file through a shared mapping") {
		t.Errorf("without maps: %+v", fs)
	}
}

// sync-caller: the snapshot agent of the sync-caller sample (the shell
// loop, not its short-lived sync processes), the writers whose pages it
// forced out, and syncfs advice for a sync() caller.
func TestSyncCaller(t *testing.T) {
	got := firesOn(t, syncCaller, mechanismSamples)
	if len(got) != 1 || got["sync-caller"] == nil {
		t.Fatalf("sync-caller fired on %v", mapKeys(got))
	}
	f := got["sync-caller"][0]
	c := window.New(sampleModel(t, "sync-caller"), window.Defaults())
	if p := c.ByPID[f.Subjects.PIDs[0]]; p == nil || p.Proc.Comm != "snapshot-agent" {
		t.Fatalf("subject %v is not the agent", f.Subjects.PIDs)
	}
	if !strings.Contains(f.Title, "calls sync()") || !strings.Contains(f.Summary, "(ingest)") {
		t.Errorf("title %q, summary %q", f.Title, f.Summary)
	}
	if rate, _ := f.Figure(FigSyncCallsPerS); rate < 1 || rate > 5 {
		t.Errorf("%.1f calls a second; the loop sleeps 200 ms between calls that take about as long", rate)
	}
	if forced, _ := f.Figure("forced_pct"); forced < 30 {
		t.Errorf("forced writeback %.0f %% of the device", forced)
	}
	if len(f.Mitigations) != 3 || !strings.Contains(f.Mitigations[0].Action, "less often") || !strings.Contains(f.Mitigations[1].How, "syncfs") || !strings.Contains(f.Mitigations[2].How, "fsfreeze") {
		t.Errorf("mitigations %+v", f.Mitigations)
	}
	// A writer whose pages it forced out waits for it by the measure
	// io-stalls uses too (appWaited), not on one tick's sighting:
	// metrics-writer was seen once in D state in this capture.
	s := c.DeviceTimes["loop0"].Find(f.Subjects.PIDs[0])
	var mw *model.ProcIO
	for i := range c.Procs {
		if c.Procs[i].Proc.Comm == "metrics-writer" {
			mw = &c.Procs[i]
		}
	}
	if s == nil || mw == nil {
		t.Fatalf("no share of loop0 for the agent (%v) or no metrics-writer (%v)", s, mw)
	}
	if w := writersWaits(c, s); strings.Contains(w, "metrics-writer") != appWaited(c, mw) {
		t.Errorf("writers' waits %q, with metrics-writer waiting by appWaited: %v", w, appWaited(c, mw))
	}
	mw.DStates = max(mw.DStates, 2)
	if w := writersWaits(c, s); !appWaited(c, mw) || !strings.Contains(w, "(metrics-writer) in ") {
		t.Errorf("metrics-writer in D state in %d ticks: writers' waits %q", mw.DStates, w)
	}
}

// device-holder: made only when no finding names how the device's holder
// makes it wait. On the sync-caller sample without sync-caller it names
// the agent's forced writeback; with it, and on samples whose culprit
// has a cause, nothing.
func TestDeviceHolderOnlyWithoutAMechanism(t *testing.T) {
	got := firesOn(t, deviceHolder, mechanismSamples)
	if len(got) != 0 {
		t.Errorf("device-holder fired on %v: their culprits have a mechanism", mapKeys(got))
	}
	c := window.New(sampleModel(t, "sync-caller"), window.Defaults())
	var others []content.Finding
	for _, f := range Check(c) {
		if f.ID != "sync-caller" {
			others = append(others, f)
		}
	}
	fs := afterDeviceHolder(c, others)
	if len(fs) != 1 {
		t.Fatalf("without sync-caller: %d device-holder findings", len(fs))
	}
	if p := c.ByPID[fs[0].Subjects.PIDs[0]]; p == nil || p.Proc.Comm != "snapshot-agent" || !strings.Contains(fs[0].Title, "its sync() calls force") {
		t.Errorf("device-holder: %s", fs[0].Title)
	}
}

func mapKeys(m map[string][]content.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSmallWritesSeverityFollowsDeviceCost: small appends that fill the
// same dirty page and hold no device time cost syscalls, not IO (info);
// small writes each synced or written back before the next cost a page
// each (warning).
func TestSmallWritesSeverityFollowsDeviceCost(t *testing.T) {
	want := map[string]content.Severity{
		"sync-caller": content.Info, "copytruncate-rotation": content.Info, "mmap-msync": content.Info,
		"overlay-sync-logger": content.Warning, "fsync-storm": content.Warning, "xfs-sync-logger": content.Warning,
	}
	for s, sev := range want {
		fs := checkOn(t, smallWrites, s, window.Defaults())
		if len(fs) == 0 {
			t.Errorf("%s: no small-writes", s)
			continue
		}
		if fs[0].Severity != sev {
			t.Errorf("%s: small-writes %s, want %s: %s", s, fs[0].Severity, sev, fs[0].Summary)
		}
	}
}

// The XFS logger's wait for a log force is told from the block trace when
// no wait-channel sample caught a thread in it (a few ticks on a busy
// machine can miss it): the trace charges the logger the log writes its
// syncs forced. With the samples as captured, the caught wait says it.
func TestSyncMechanismFromTheTraceWhenNoSampleCaughtIt(t *testing.T) {
	mechanism := func(m *model.Model) (sampled, traced string) {
		for _, f := range syncWrites.Check(window.New(m, window.Defaults())) {
			for _, e := range f.Evidence {
				switch {
				case strings.Contains(e.What, "caught waiting in"):
					sampled = e.What
				case e.Member == bundle.BlockTraceMember && strings.Contains(e.What, "its syncs forced"):
					traced = e.What
				}
			}
		}
		return sampled, traced
	}
	if sampled, traced := mechanism(sampletest.Model(t, "xfs-sync-logger")); !strings.Contains(sampled, "forces the XFS log") || traced != "" {
		t.Errorf("as captured: sampled %q, traced %q; want the sample's words alone", sampled, traced)
	}
	m := sampletest.Load(t, sampletest.Path(t, "xfs-sync-logger"))
	for _, tk := range m.Ticks {
		for pid, ths := range tk.Threads {
			for i := range ths {
				ths[i].Stack, ths[i].Wchan = "", ""
			}
			tk.Threads[pid] = ths
		}
	}
	if sampled, traced := mechanism(m); sampled != "" || !strings.Contains(traced, "log writes its syncs forced on loop0") || !strings.Contains(traced, "forces the XFS log") {
		t.Errorf("no sample caught the wait: sampled %q, traced %q; want the trace's words", sampled, traced)
	}
}
