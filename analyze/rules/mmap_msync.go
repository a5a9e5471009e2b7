package rules

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// FigMsyncsPerS is a target's MS_SYNC msync calls a second (traced).
const FigMsyncsPerS = "msyncs_per_s"

// mmapMsync reports a process that writes a file through a shared
// mapping and msyncs it with MS_SYNC: page faults dirty the mapping (no
// write() call, so wchar stays flat while write_bytes climbs), and each
// msync writes the range's dirty pages back and waits for them, with the
// journal commit and cache flush that make them durable. Evidence: the
// msync calls and their time in strace, the file from the target's maps,
// write_bytes against wchar, kernel stacks in writeback waits, its share
// of the device's time.
var mmapMsync = &Rule{ID: "mmap-msync",
	Role: content.Cause, Check: checkMmapMsync, PerApp: true, CountsCalls: true,
	Deciding: [][]Condition{{
		{Figure: FigMsyncsPerS, Threshold: func(t window.Thresholds) float64 { return t.SyncMinPerSec }, What: "msyncs a second"},
		deviceShareCondition,
	}},
	Traced: &Traced{Figure: "msyncs", What: "MS_SYNC msyncs"},
	Shows:  Syncs,
	Clause: func(f *content.Finding) string { return " " + f.Title + "." },
	Watch:  []Watch{WatchProcess, AlertSyncStorm},
}

func checkMmapMsync(c *window.Window) []content.Finding {
	var out []content.Finding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		st := tv.Target.Info.Strace
		if p == nil || tv.Summary == nil || tv.Summary.Msyncs == nil || tv.Summary.Msyncs.Sync == 0 || st == nil || st.TracedSeconds <= 0 {
			continue
		}
		ms := tv.Summary.Msyncs
		files := tv.Target.MsyncFiles()
		path := ""
		if len(files) > 0 {
			path = files[0].Path
			if _, mem := c.InMemory(tv, path); mem {
				continue // msync of a tmpfs or shm mapping waits for no device
			}
		}
		rate := float64(ms.Sync) / st.TracedSeconds
		cost, costly := msyncCost(c, tv, path)
		if rate < c.Thresholds.SyncMinPerSec && !costly {
			continue
		}
		out = append(out, msyncFinding(c, tv, files, rate, cost, costly))
	}
	return out
}

// msyncCost is the evidence that a process holds a saturated device
// (through the file it msyncs, when its maps name it).
func msyncCost(c *window.Window, tv *window.TargetView, path string) (content.Evidence, bool) {
	if path != "" {
		return costly(c, tv, path)
	}
	dev, frac, ok := c.HoldsSaturated(tv.Target.Process.PID)
	if !ok {
		return content.Evidence{}, false
	}
	return content.Evidence{Member: c.DeviceTimeSource(), Ticks: c.TickSpan(),
		What:    fmt.Sprintf("it holds %.0f %% of the time of %s, which is saturated", frac*100, dev),
		Figures: map[string]float64{FigDeviceSharePct: frac * 100}}, true
}

func msyncFinding(c *window.Window, tv *window.TargetView, files []model.MappedFile, rate float64, cost content.Evidence, costly bool) content.Finding {
	p := tv.Target.Process
	ms := tv.Summary.Msyncs
	st := tv.Target.Info.Strace
	what := "a file"
	if len(files) > 0 {
		what = files[0].Path
	}
	lat := ms.Lat.Mean()
	f := content.Finding{
		ID: "mmap-msync", Severity: content.Warning, Confidence: content.High, Score: rate,
		Title: fmt.Sprintf("%s writes %s through a shared mapping and msyncs it %.0f times a second: each msync(MS_SYNC) writes the pages back and waits", window.Name(p), what, rate),
		Summary: fmt.Sprintf("%s stores into a shared memory mapping of %s: each first store to a clean page faults and dirties it, with no write() call. It then calls msync(MS_SYNC) %.0f times a second on ranges of %s on average; each call writes the range's dirty pages back and waits until they (and, on a journalling filesystem, the commit and cache flush that make them durable) are on stable storage, %s.",
			window.Name(p), what, rate, prose.Bytes(ms.AvgRange()), lat),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: strings.TrimPrefix(what, "a file")},
		Evidence: []content.Evidence{{Member: st.Member,
			What:    fmt.Sprintf("strace: %d msync calls in %.1f s, %d with MS_SYNC (%.0f a second), %s; they asked for %s in all, %s per call", ms.Calls, st.TracedSeconds, ms.Sync, rate, lat, prose.Bytes(float64(ms.RangeBytes)), prose.Bytes(ms.AvgRange())),
			Figures: map[string]float64{FigMsyncsPerS: rate, FigMsyncs: float64(ms.Sync), FigMsyncAvgUS: ms.Lat.AvgUS(), FigMsyncAvgBytes: ms.AvgRange()},
			Lines:   exampleLines(tv.Target, ms.FirstLine, 1)}},
		Mitigations: msyncMitigations(p, syncJournal(c, tv, what)),
	}
	if p.Container != nil {
		f.Subjects.Container = p.Container.Name
	}
	if len(files) > 0 {
		var names []string
		for _, mf := range files {
			names = append(names, fmt.Sprintf("%s (mapped %s shared and writable, %s of it msynced)", mf.Path, prose.Bytes(float64(mf.MapBytes)), prose.Bytes(float64(mf.Bytes))))
		}
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.TargetMember(p.PID) + fmt.Sprintf(" (/proc/%d/maps)", p.PID),
			What: "the msynced address ranges lie in " + prose.JoinAnd(names)})
	} else {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.TargetMember(p.PID),
			What: "the file behind the msynced addresses is not known: the bundle holds no /proc/PID/maps of it (collected before issue 24)"})
	}
	if io := tv.IO; io != nil && io.Seconds > 0 {
		d := io.Delta.IO
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
			What:    fmt.Sprintf("/proc/%d/io over %.1f s: write_bytes +%d (pages it dirtied through the mapping) against wchar +%d in %d write calls: the data never passes through write()", p.PID, io.Seconds, d.WriteBytes, d.WChar, d.SyscW),
			Figures: map[string]float64{FigWriteBytes: float64(d.WriteBytes), FigWchar: float64(d.WChar)}})
	}
	if e, ok := deviceTimeOf(c, tv, what); ok {
		f.Evidence = append(f.Evidence, e)
		f.Summary += " " + perMsyncCost(c, tv, what, ms)
	}
	if w := writebackWaits(c, p.PID); w != "" {
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/task/*/wchan, stack)", Ticks: c.TickSpan(), What: w})
	}
	if costly {
		f.Evidence = append(f.Evidence, cost)
	}
	if n := len(ms.Failed); n > 0 {
		f.Summary += fmt.Sprintf(" Some of its msyncs failed (%s).", strings.Join(sortedKeys(ms.Failed), ", "))
	}
	return f
}

// deviceTimeOf quotes a process's share of the device its file is on:
// how much of the device's time its requests held, and as what.
func deviceTimeOf(c *window.Window, tv *window.TargetView, path string) (content.Evidence, bool) {
	dev, s := holderShare(c, tv, path)
	if s == nil {
		return content.Evidence{}, false
	}
	dt := c.DeviceTimes[dev]
	what := fmt.Sprintf("it holds %.0f %% of %s's time%s; its own requests: %d in %.1f s, %s each on average", dt.Fraction(s)*100, dev, window.ShareHow(dt, s), s.Requests, dt.Seconds, prose.Bytes(float64(s.Bytes)/max(float64(s.Requests), 1)))
	return content.Evidence{Member: c.DeviceTimeSource(), What: what, Figures: map[string]float64{FigDeviceSharePct: dt.Fraction(s) * 100}}, true
}

// holderShare is a target's share of the device its file is on (of the
// device that hurts when the file is not known), nil without one.
func holderShare(c *window.Window, tv *window.TargetView, path string) (string, *model.Share) {
	dev := ""
	if pl, ok := c.Place(tv, path); ok {
		dev = pl.Device
	} else if h := c.Hurting(); len(h) > 0 {
		dev = h[0]
	}
	if dt := c.DeviceTimes[dev]; dt == nil || dt.BusyNS <= 0 || dt.Seconds <= 0 {
		return "", nil
	}
	return dev, c.ShareOf(tv.Target.Process.PID, dev)
}

// writebackWaitSites are the kernel functions a task waits in while it
// writes a file range back and waits for it (msync, fsync, sync_file_range):
// filemap_write_and_wait_range and file_write_and_wait_range start and
// wait for the range, folio_wait_writeback (wait_on_page_writeback
// before folios) waits for one page, jbd2_log_wait_commit for ext4's
// journal commit.
var writebackWaitSites = []string{"filemap_write_and_wait_range", "file_write_and_wait_range", "__filemap_fdatawait_range", "folio_wait_writeback", "wait_on_page_writeback", "jbd2_log_wait_commit", "submit_bio_wait"}

// writebackWaits says in how many of a process's samples in D state its
// threads were writing a range back and waiting for it, and where.
func writebackWaits(c *window.Window, pid int) string {
	inD, in := 0, 0
	where := map[string]int{}
	for k := c.From; k <= c.To; k++ {
		for _, th := range c.Model.Ticks[k].Threads[pid] {
			if th.Stat.State != 'D' {
				continue
			}
			inD++
			for _, site := range writebackWaitSites {
				if th.Wchan == site || strings.Contains(th.Stack, site) {
					in++
					where[site]++
					break
				}
			}
		}
	}
	if in == 0 {
		return ""
	}
	var sites []string
	for _, s := range sortedKeys(where) {
		sites = append(sites, fmt.Sprintf("%s (%d)", s, where[s]))
	}
	return fmt.Sprintf("its threads were caught writing back and waiting in %d of %d samples in D state: %s", in, inD, strings.Join(sites, ", "))
}

// msyncMitigations are the ways to make a mapped journal's durability
// cheaper, mildest first.
func msyncMitigations(p *model.Process, j model.Journal) []content.Mitigation {
	return []content.Mitigation{
		{Horizon: content.ShortTerm, Key: advice.SyncLessKey(p), Action: "msync larger ranges less often", How: "One msync(MS_SYNC) per batch of records or on a timer (group commit) instead of one per record: each call costs the device a write of every dirty page in the range, a " + j.Commit + " and a cache flush, however few bytes changed", Effect: "The same records for a fraction of the device round-trips; each waits for the batch's flush instead of its own"},
		{Horizon: content.ShortTerm, Action: "Use MS_ASYNC, or no msync, where the data may lose its last seconds in a crash", How: "On Linux MS_ASYNC starts nothing and waits for nothing: the kernel already tracks the mapping's dirty pages and writes them back within vm.dirty_expire_centisecs (30 s by default) in large batches", Effect: "The writer stops waiting on the device; writeback writes each page once per interval instead of once per msync"},
		{Horizon: content.LongTerm, Action: "If each record must be durable, write it as a log append rather than through the mapping", How: "A write-ahead log of records appended with write() to a preallocated file opened O_DSYNC (or O_DIRECT|O_DSYNC with block-aligned records), concurrent records grouped into one write; the mapping then serves reads", Effect: "One data write and a cache flush per commit, no page faults and no whole-page writeback per record"},
	}
}

// perMsyncCost says what the device did for the msyncs: its own requests
// (whole pages, whatever the records' size) and the journal commits and
// cache flushes they forced.
func perMsyncCost(c *window.Window, tv *window.TargetView, path string, ms *model.Msyncs) string {
	dev, s := holderShare(c, tv, path)
	if s == nil {
		return ""
	}
	dt := c.DeviceTimes[dev]
	out := fmt.Sprintf("On %s its own requests were %.0f a second of %s on average (whole pages, for ranges of %s)", dev, float64(s.Requests)/dt.Seconds, prose.Bytes(float64(s.Bytes)/max(float64(s.Requests), 1)), prose.Bytes(ms.AvgRange()))
	if extra := (s.JournalNS + s.FlushNS) / dt.BusyNS * 100; extra >= 1 {
		out += fmt.Sprintf(", and the %s and cache flushes its msyncs forced took %.0f %% of the device's time", syncJournal(c, tv, path).Commits, extra)
	}
	return out + "."
}
