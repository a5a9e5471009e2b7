package rules

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/iorca/iorca/analyze/advice"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// fileByFileSync reports a process that makes files durable one at a
// time: each written, fsynced, (usually) renamed over its final name and
// its directory fsynced (package managers unpacking, object stores,
// configuration writers, git). It is one pattern, not one synchronous
// writer per file: each file costs a data write, a journal commit and a
// cache flush for itself and another for its directory. Evidence: the
// sequence in strace (from the -y descriptor paths), the device's
// flushes and journal commits in the block trace.
var fileByFileSync = &Rule{ID: "file-by-file-sync",
	Role: content.Cause, Check: checkFileByFileSync, PerApp: true, CountsCalls: true,
	Deciding: [][]Condition{{
		{Figure: FigFilesPerS, Threshold: func(t window.Thresholds) float64 { return t.SyncMinPerSec }, What: "files made durable a second"},
		deviceShareCondition,
	}},
	Traced: &Traced{Figure: FigDurableFiles, What: "files written, synced and their directory synced"},
	Shows:  Syncs,
	Clause: func(f *content.Finding) string { return " " + f.Title + "." },
	Watch:  []Watch{WatchProcess, AlertSyncStorm},
}

// minDurableFiles is how many files the trace must show made durable one
// by one (distinct files): two could be a program saving its state.
const minDurableFiles = 3

func checkFileByFileSync(c *window.Window) []content.Finding {
	var out []content.Finding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		tr := tv.Target.Info.Strace
		if p == nil || tv.Summary == nil || tr == nil || tr.TracedSeconds <= 0 {
			continue
		}
		d := tv.Summary.Durable
		if d == nil || len(d.Paths) < minDurableFiles {
			continue
		}
		dirs := d.SortedDirs()
		if _, mem := c.InMemory(tv, dirs[0]); mem {
			continue // a sync on tmpfs waits for no device
		}
		rate := filesRate(c, tv, d)
		cost, costly := costly(c, tv, dirs[0])
		if rate < c.Thresholds.SyncMinPerSec && !costly {
			continue
		}
		out = append(out, fileByFileFinding(c, tv, d, rate, cost, costly))
	}
	return out
}

// filesRate is how many files a second the process made durable,
// untraced: the traced rate scaled as its writes were (strace slows a
// syscall-heavy process down).
func filesRate(c *window.Window, tv *window.TargetView, d *model.Durable) float64 {
	secs := tv.Target.Info.Strace.TracedSeconds
	traced := float64(d.Files) / secs
	if d.Writes == 0 {
		return traced
	}
	return traced * c.WriteRate(tv, &model.FileIO{Writes: d.Writes}) / (float64(d.Writes) / secs)
}

func fileByFileFinding(c *window.Window, tv *window.TargetView, d *model.Durable, rate float64, cost content.Evidence, costly bool) content.Finding {
	p := tv.Target.Process
	tr := tv.Target.Info.Strace
	dirs := d.SortedDirs()
	root := model.CommonDir(dirs)
	if len(dirs) == 1 {
		root = dirs[0]
	}
	perFile := float64(d.Writes) / float64(d.Files)
	syncsPerFile := float64(d.FileSyncLat.Calls+d.FileSyncLat.Open+d.DirSyncLat.Calls+d.DirSyncLat.Open) / float64(d.Files)
	steps, costs := durableSteps(d, syncJournal(c, tv, root))
	f := content.Finding{
		ID: "file-by-file-sync", Severity: content.Warning, Confidence: content.High, Score: rate,
		Title: fmt.Sprintf("%s makes files durable one by one under %s, %.0f files a second: each file is %s", window.Name(p), root, rate, steps),
		Summary: fmt.Sprintf("%s: %.1f syncs per file, a file's fsync %s%s. "+
			"Its trace shows %s made durable in %.1f s, in %s, each before the next; untraced it makes %.0f a second. "+
			"Durability is paid file by file where one sync for the whole batch would do.",
			costs, syncsPerFile, model.FormatUS(d.FileSyncLat.AvgUS()), dirSyncNote(d), prose.Plural(d.Files, "file"), tr.TracedSeconds, prose.Plural(len(dirs), "directory"), rate),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: root},
		Evidence: []content.Evidence{{Member: tr.Member,
			What: fmt.Sprintf("strace: %s written (%.1f writes, %s each on average), each fsynced after its writes; %d of them renamed after their sync; %s of their directories after them; file syncs %s%s",
				prose.Plural(d.Files, "file"), perFile, prose.Bytes(float64(d.WriteBytes)/float64(d.Files)), d.Renames, prose.Plural(d.DirSyncs, "sync"), d.FileSyncLat.Mean(), dirSyncMean(d)),
			Figures: map[string]float64{FigDurableFiles: float64(d.Files), FigFilesPerS: rate, FigSyncsPerFile: syncsPerFile},
			Lines:   traceLines(tv.Target, d.Lines)},
			{Member: tr.Member, What: "the directories, with the files made durable in each: " + dirListing(d)}},
		Mitigations: fileByFileMitigations(root, syncJournal(c, tv, root)),
	}
	if e, ok := flushesPerFile(c, tv, root, rate); ok {
		f.Evidence = append(f.Evidence, e)
	}
	if costly {
		f.Evidence = append(f.Evidence, cost)
	} else if e, ok := heldShare(c, tv, root); ok {
		f.Evidence = append(f.Evidence, e)
	}
	syncMechanism(c, tv, root, false, &f) // the pattern counts only syncs that succeeded
	if p.Container != nil {
		f.Subjects.Container = p.Container.Name
	}
	return f
}

// durableSteps says what each file goes through and what that costs, in
// the words of the filesystem's journal j.
func durableSteps(d *model.Durable, j model.Journal) (steps, cost string) {
	each := "Each file costs its data write, a " + j.Commit + " and a cache flush"
	switch {
	case d.DirSyncs == 0:
		return "written, fsynced and renamed over its final name", each + " (the rename itself is made durable by the next " + j.Commit + ")"
	case d.Renames == 0:
		return "written, fsynced, and its directory fsynced", each + ", and its directory's sync another " + j.Commit + " and flush"
	}
	return "written, fsynced, renamed and its directory fsynced", each + ", and its directory's sync another " + j.Commit + " and flush"
}

// dirSyncNote is the directory syncs' latency, "" without any.
func dirSyncNote(d *model.Durable) string {
	if d.DirSyncs == 0 {
		return ""
	}
	return ", a directory's " + model.FormatUS(d.DirSyncLat.AvgUS())
}

// dirSyncMean is the directory syncs' mean, "" without any.
func dirSyncMean(d *model.Durable) string {
	if d.DirSyncs == 0 {
		return ""
	}
	return ", directory syncs " + d.DirSyncLat.Mean()
}

// dirListing lists the directories with their files, by tree (the
// directories' parent) when there are many.
func dirListing(d *model.Durable) string {
	if len(d.Dirs) <= maxListed {
		var parts []string
		for _, dir := range d.SortedDirs() {
			parts = append(parts, fmt.Sprintf("%s (%d)", dir, d.Dirs[dir]))
		}
		return strings.Join(parts, ", ")
	}
	return byTree(d.Dirs, filepath.Dir, func(tree string, n, dirs int) string {
		return fmt.Sprintf("%s/… (%s in %s)", tree, prose.Plural(n, "file"), prose.Plural(dirs, "directory"))
	})
}

// flushesPerFile is what the block trace shows each file cost its
// device: cache flushes and journal commits over the trace against the
// files the process made durable in that time.
func flushesPerFile(c *window.Window, tv *window.TargetView, path string, rate float64) (content.Evidence, bool) {
	bt := c.Model.BlockTrace
	pl, ok := c.Place(tv, path)
	if bt == nil || !ok || rate <= 0 || bt.Seconds() <= 0 {
		return content.Evidence{}, false
	}
	flushes := 0
	for i := range bt.Requests {
		r := &bt.Requests[i]
		if r.Flush() && c.Model.DiskName(r.Dev) == pl.Device {
			flushes++
		}
	}
	commits := 0
	for dev, n := range bt.Commits {
		if c.Model.DiskName(dev) == pl.Device {
			commits += n
		}
	}
	if flushes == 0 && commits == 0 {
		return content.Evidence{}, false
	}
	files := rate * bt.Seconds()
	e := content.Evidence{Member: "block trace (" + pl.Device + ")",
		What: fmt.Sprintf("%s saw %d requests carrying a cache flush or FUA in %.1f s, about %.1f flushes per file at %.0f files a second (whoever asked for them; the flushes count the block layer's flush steps around each commit block)",
			pl.Device, flushes, bt.Seconds(), float64(flushes)/files, rate),
		Figures: map[string]float64{FigFlushesPerFile: float64(flushes) / files}}
	if commits > 0 {
		// Counted from jbd2_end_commit: only a jbd2 journal has them.
		e.What = fmt.Sprintf("%s saw %d requests carrying a cache flush or FUA and %d jbd2 journal commits in %.1f s, about %.1f flushes and %.1f commits per file at %.0f files a second (whoever asked for them; the flushes count the block layer's flush steps around each commit block)",
			pl.Device, flushes, commits, bt.Seconds(), float64(flushes)/files, float64(commits)/files, rate)
		e.Figures[FigCommitsPerFile] = float64(commits) / files
	}
	return e, true
}

// heldShare is the share of its device's time the process holds when the
// device is not saturated (costly says it when it is).
func heldShare(c *window.Window, tv *window.TargetView, path string) (content.Evidence, bool) {
	pl, ok := c.Place(tv, path)
	if !ok {
		return content.Evidence{}, false
	}
	share := c.DeviceShare(tv.Target.Process.PID, pl.Device) * 100
	if share < 1 {
		return content.Evidence{}, false
	}
	x := c.Devices[pl.Device]
	return content.Evidence{Member: c.DeviceTimeSource(), Ticks: c.TickSpan(),
		What:    fmt.Sprintf("%s holds %.0f %% of the time of %s (%%util %.0f, await %.1f ms): its files' data, the %s their syncs force and the cache flushes", window.Name(tv.Target.Process), share, pl.Device, x.Util, x.Await, syncJournal(c, tv, path).Commits),
		Figures: map[string]float64{FigDeviceSharePct: share}}, true
}

// fileByFileMitigations are what a storage engineer does about durability
// paid file by file: pay it once per batch, or where the tree can be
// rebuilt, not at all.
func fileByFileMitigations(root string, j model.Journal) []content.Mitigation {
	once := content.Mitigation{Horizon: content.ShortTerm, Action: "Make the batch durable once instead of each file",
		How:    "Write (and rename) every file of the batch, then one syncfs(2) of the filesystem or one fsync per file and directory at the end; many tools have a switch for this (a deferred or batched fsync)",
		Effect: "One " + j.Commit + " and one cache flush for the batch instead of two per file: the writer runs at the device's bandwidth, not its flush latency"}
	if advice.Pasteable(root) {
		cmd := advice.Shell("sync", "-f", root)
		once.How = "Write (and rename) every file of the batch, then one syncfs(2) of the filesystem (" + cmd + ") or one fsync per file and directory at the end; many tools have a switch for this (a deferred or batched fsync)"
		once.Commands = []string{cmd}
	}
	return []content.Mitigation{
		once,
		{Horizon: content.ShortTerm, Action: "Unpack on a fast scratch area, then move into place",
			How:    "Extract the tree where a sync is cheap (tmpfs, local NVMe, a filesystem whose device has no volatile cache), then move it with one rename or copy and one sync at the end",
			Effect: "The slow device sees one sequential write and one flush instead of a flush per file"},
		{Horizon: content.LongTerm, Action: "Drop per-file syncs for trees that can be rebuilt",
			How:    "For build roots, caches and image builds that are recreated after a crash, disable the syncs (LD_PRELOAD libeatmydata, or the tool's unsafe-io option)",
			Effect: "No flush per file at all; a crash loses a tree that is rebuilt anyway"},
	}
}
