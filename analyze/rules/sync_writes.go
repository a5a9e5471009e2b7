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

// syncWrites reports synchronous writes, and only with proof: a file open
// with O_SYNC or O_DSYNC (fdinfo flags) that is being written, or fsync /
// fdatasync following writes to the same descriptor in the trace. A high
// write latency alone is not proof and is not claimed.
var syncWrites = &Rule{ID: "sync-writes",
	Role: content.Cause, Check: checkSyncWrites, PerApp: true, CountsCalls: true,
	Deciding: [][]Condition{{
		{Figure: FigWritesPerS, Threshold: func(t window.Thresholds) float64 { return t.SyncMinPerSec }, What: "synchronous writes a second"},
		{Figure: FigSyncsPerS, Threshold: func(t window.Thresholds) float64 { return t.SyncMinPerSec }, What: "syncs a second"},
		deviceShareCondition,
	}},
	Traced: &Traced{Figure: FigSyncAfterWrite, What: "syncs after a write"},
	Shows:  Syncs,
	Clause: func(f *content.Finding) string { return " " + f.Title + "." },
	Watch:  []Watch{WatchProcess, AlertContainerWrites, AlertSyncStorm},
}

func checkSyncWrites(c *window.Window) []content.Finding {
	var out []fileFinding
	for _, tv := range c.Targets {
		p := tv.Target.Process
		if p == nil {
			continue
		}
		traced := tv.Summary != nil && tv.Target.Info.Strace != nil && tv.Target.Info.Strace.TracedSeconds > 0
		written := map[string]*model.FileIO{}
		if traced {
			for _, f := range tv.Summary.Files {
				written[f.Path] = f
			}
		}
		done := map[string]bool{}
		// O_SYNC / O_DSYNC descriptors.
		for _, fd := range tv.Target.FDs {
			if fd.Info == nil || !fd.Info.Flags.Writable() || !(fd.Info.Flags.Sync() || fd.Info.Flags.DSync()) || !strings.HasPrefix(fd.Path, "/") {
				continue
			}
			if _, mem := c.InMemory(tv, fd.Path); mem {
				continue // a sync on tmpfs waits for no device; cpu-cost weighs the calls
			}
			flag := "O_DSYNC"
			if fd.Info.Flags.Sync() {
				flag = "O_SYNC"
			}
			var rate float64
			conf, why := content.High, ""
			f := written[fd.Path]
			switch {
			case traced && f != nil && f.Writes > 0:
				rate = c.WriteRate(tv, f)
			case traced:
				continue // traced, and not written: open O_SYNC but idle
			case tv.IO != nil && tv.IO.Seconds > 0 && tv.IO.Delta.IO.SyscW > 0 && len(writableFiles(tv.Target)) == 1:
				rate = float64(tv.IO.Delta.IO.SyscW) / tv.IO.Seconds
				conf, why = content.Medium, "no strace: the writes are inferred from /proc/PID/io and this being the only file open for writing"
			default:
				continue
			}
			cost, costly := costly(c, tv, fd.Path)
			if rate < c.Thresholds.SyncMinPerSec && !costly {
				continue
			}
			done[fd.Path] = true
			fnd := content.Finding{
				ID: "sync-writes", Severity: content.Warning, Confidence: conf, ConfidenceWhy: why, Score: rate,
				Title:    fmt.Sprintf("%s writes %s with %s: every write waits for the disk", window.Name(p), fd.Path, flag),
				Summary:  fmt.Sprintf("%s has %s open with %s (fd %d) and writes it %.0f times a second; each write returns only once its data is on stable storage.", window.Name(p), fd.Path, flag, fd.Num, rate),
				Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: fd.Path},
				Evidence: []content.Evidence{{Member: bundle.TargetMember(p.PID) + fmt.Sprintf(" (/proc/%d/fdinfo/%d)", p.PID, fd.Num),
					What:    fmt.Sprintf("fd %d -> %s, flags 0%o = %s", fd.Num, fd.Path, uint64(fd.Info.Flags), fd.Info.Flags.Names(c.Model.Manifest.Host.Arch)),
					Figures: map[string]float64{FigWritesPerS: rate}}},
				Mitigations: syncMitigations(p, fd.Path, flag, failedAll(f), syncJournal(c, tv, fd.Path)),
			}
			if f != nil && f.FirstWriteLine > 0 {
				fnd.Evidence = append(fnd.Evidence, content.Evidence{Member: tv.Target.Info.Strace.Member,
					What:  fmt.Sprintf("strace: %d writes to it in %.1f s, %s%s", f.Writes, tv.Target.Info.Strace.TracedSeconds, f.WriteLat.Mean(), syncLatencyNote(f)),
					Lines: traceLines(tv.Target, f.TypicalWriteLines()[:min(2, len(f.TypicalWriteLines()))])})
			}
			if costly {
				fnd.Evidence = append(fnd.Evidence, cost)
			}
			syncMechanism(c, tv, fnd.Subjects.Path, f != nil && len(f.Failed) > 0, &fnd)
			failedNote(c, tv, f, &fnd)
			fnd.Subjects.Container, _ = subjectContainer(c, p, fnd.Subjects.Path)
			name, flag := window.Name(p), flag
			calls := 0
			if f != nil {
				calls = f.Writes
			}
			out = append(out, fileFinding{Finding: fnd, Mechanism: flag, Calls: calls, Rate: rate,
				Title: func(files string, _ float64) string {
					return fmt.Sprintf("%s writes %s with %s: every write waits for the disk", name, files, flag)
				}})
		}
		if !traced {
			continue
		}
		// write followed by fsync/fdatasync.
		for _, f := range tv.Summary.Files {
			rate := c.SyncRate(tv, f)
			if done[f.Path] || f.Kind != "file" || f.Writes == 0 || f.SyncAfterWrite == 0 || tv.Summary.Durable.Has(f.Path, f.Syncs) {
				continue
			}
			if _, mem := c.InMemory(tv, f.Path); mem {
				continue
			}
			cost, costly := costly(c, tv, f.Path)
			if rate < c.Thresholds.SyncMinPerSec && !costly {
				continue
			}
			fnd := content.Finding{
				ID: "sync-writes", Severity: content.Warning, Confidence: content.High, Score: rate,
				Title:    fmt.Sprintf("%s syncs %s after its writes, %.0f times a second", window.Name(p), f.Path, rate),
				Summary:  fmt.Sprintf("%s called fsync/fdatasync on %s %d times in %.1f s, %d of them right after a write: each waits for the data (and for fsync the metadata) to reach stable storage.", window.Name(p), f.Path, f.Syncs, tv.Target.Info.Strace.TracedSeconds, f.SyncAfterWrite),
				Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Path: f.Path},
				Evidence: []content.Evidence{{Member: tv.Target.Info.Strace.Member,
					What:    fmt.Sprintf("strace: %d writes then %d syncs (%d directly after a write), syncs %s%s", f.Writes, f.Syncs, f.SyncAfterWrite, f.SyncLat.Mean(), syncLatencyNote(f)),
					Figures: map[string]float64{FigSyncsPerS: rate, FigSyncAfterWrite: float64(f.SyncAfterWrite)},
					Lines:   exampleLines(tv.Target, f.FirstSyncLine-1, 2)}},
				Mitigations: syncMitigations(p, f.Path, "fsync", failedAll(f), syncJournal(c, tv, f.Path)),
			}
			if costly {
				fnd.Evidence = append(fnd.Evidence, cost)
			}
			syncMechanism(c, tv, fnd.Subjects.Path, f != nil && len(f.Failed) > 0, &fnd)
			failedNote(c, tv, f, &fnd)
			fnd.Subjects.Container, _ = subjectContainer(c, p, fnd.Subjects.Path)
			name := window.Name(p)
			out = append(out, fileFinding{Finding: fnd, Mechanism: "fsync", Calls: f.Syncs, Rate: rate,
				Title: func(files string, rate float64) string {
					return fmt.Sprintf("%s syncs %s after its writes, %.0f times a second in all", name, files, rate)
				}})
		}
	}
	return mergePerProcess(out)
}

// syncLatencyNote says what a synchronous call's time measures: the
// device's latency when the calls succeeded; when they failed (EIO,
// EROFS) they may never have reached the device, and the time is the
// failure's.
func syncLatencyNote(f *model.FileIO) string {
	n := 0
	for _, k := range f.Failed {
		n += k
	}
	switch {
	case n == 0:
		return " (a synchronous call's latency is the device's)"
	case n >= f.Writes+f.Syncs:
		return fmt.Sprintf(" (all %d failed: a failed call's time is how fast it failed, not a device latency)", n)
	}
	return fmt.Sprintf(" (%d of them failed: their time is how fast they failed, not a device latency)", n)
}

// failedAll reports a file whose traced writes and syncs all failed.
func failedAll(f *model.FileIO) bool {
	if f == nil || len(f.Failed) == 0 {
		return false
	}
	n := 0
	for _, k := range f.Failed {
		n += k
	}
	return n >= f.Writes+f.Syncs
}

// failedNote says when the synchronous writes a finding describes failed:
// they no longer wait for the disk, they fail (kernel-io-errors says why).
func failedNote(c *window.Window, tv *window.TargetView, f *model.FileIO, fnd *content.Finding) {
	if f == nil || len(f.Failed) == 0 {
		return
	}
	n := 0
	var errs []string
	for _, e := range sortedKeys(f.Failed) {
		n += f.Failed[e]
		errs = append(errs, e)
	}
	fnd.Summary += fmt.Sprintf(" But %d of its traced writes and syncs to it failed (%s): see kernel-io-errors.", n, strings.Join(errs, ", "))
	fnd.Evidence = append(fnd.Evidence, content.Evidence{Member: tv.Target.Info.Strace.Member,
		What:    fmt.Sprintf("%d of the traced writes and syncs to %s failed (%s)", n, f.Path, strings.Join(errs, ", ")),
		Figures: map[string]float64{FigFailedCalls: float64(n)}})
	if failedAll(f) {
		// They wait for no device: they fail. The device is the cause,
		// and syncing less is no remedy for it.
		fnd.Severity = content.Info
		// The title says what was seen: the calls traced, from when
		// the trace began, not every call the process made.
		head, _, _ := strings.Cut(fnd.Title, ":")
		fnd.Title = fmt.Sprintf("%s: all %d traced %s%s failed (%s)", head, n, tracedCalls(f), traceSince(c, tv), strings.Join(errs, ", "))
	}
}

// tracedCalls names the calls of a file the trace counted.
func tracedCalls(f *model.FileIO) string {
	switch {
	case f.Syncs == 0:
		return "writes"
	case f.Writes == 0:
		return "syncs"
	}
	return "writes and syncs"
}

// traceSince says from when in the capture a target was traced (""
// when the trace began with it).
func traceSince(c *window.Window, tv *window.TargetView) string {
	tr := tv.Target.Info.Strace
	if tr == nil || tr.Start.MonoNS == 0 {
		return ""
	}
	at := float64(tr.Start.MonoNS-c.Model.Manifest.Start.MonoNS) / 1e9
	if at < 0.05 {
		return ""
	}
	return fmt.Sprintf(" from +%.1f s on", at)
}

// programSync is the durability setting of programs known to sync every
// commit: the knob their own documentation gives, which an operator turns
// rather than patching the program.
var programSync = map[string]content.Mitigation{
	"postgres": {Horizon: content.ShortTerm, Action: "Let PostgreSQL group its commits, or commit asynchronously where some loss is acceptable",
		How:    "commit_delay = 1000 with commit_siblings = 5 (one WAL flush for concurrent commits); synchronous_commit = off per session or role for data that may lose its last ~200 ms (never corrupts); pg_wal on its own device",
		Effect: "Fewer WAL flushes for the same commits: each backend waits less on the device"},
	"mysqld": {Horizon: content.ShortTerm, Action: "Relax InnoDB's flush per commit where some loss is acceptable",
		How:    "innodb_flush_log_at_trx_commit = 2 (flush once a second; a crash of the OS loses up to a second) and sync_binlog = 0 or N; or keep them at 1 and group commits with binlog_group_commit_sync_delay",
		Effect: "One log flush a second instead of one per commit"},
	"redis-server": {Horizon: content.ShortTerm, Action: "Use appendfsync everysec instead of always",
		How:    "appendfsync everysec in redis.conf (at most a second of writes lost on a crash)",
		Effect: "One AOF fsync a second instead of one per write"},
	"etcd": {Horizon: content.LongTerm, Action: "Give etcd's WAL a device with low fsync latency",
		How:    "A dedicated SSD (etcd's documentation asks for a 99th percentile fdatasync under 10 ms); --wal-dir on it",
		Effect: "Raft commits stop waiting on a shared device"},
}

func init() {
	programSync["postmaster"] = programSync["postgres"]
	programSync["mariadbd"] = programSync["mysqld"]
}

// syncMitigations are the ways to make synchronous writes cheaper: a
// known program's own setting (its file format is not the operator's to
// change) and a device for its log, else how a program's log can sync
// less or more cheaply; and the filesystem's own way to make each sync
// cheap, where it has one (journal.Device).
func syncMitigations(p *model.Process, path, how string, failed bool, journal model.Journal) []content.Mitigation {
	if failed {
		// Its writes fail on a failed device: syncing less would only
		// lose more; kernel-io-errors says what to do.
		return nil
	}
	out := programSyncMitigations(p, path, how)
	if r := journal.Device; r.Action != "" {
		out = append(out, content.Mitigation{Horizon: content.LongTerm, Action: r.Action, How: r.How, Effect: r.Effect})
	}
	return out
}

// programSyncMitigations are syncMitigations that hold on any filesystem.
func programSyncMitigations(p *model.Process, path, how string) []content.Mitigation {
	device := content.Mitigation{Horizon: content.LongTerm, Action: "If every record must be durable, give the log a device built for it", How: "A separate device for the log, ideally with power-loss protection so that flushes are cheap", Effect: "Sync latency no longer adds to the shared device's queue"}
	if m, ok := programSync[p.Comm]; ok {
		return []content.Mitigation{m, device}
	}
	if advice.LogKind(path) == "log" {
		// A record log needs no line-by-line durability: reloading its
		// logger buffered is the first step, before any cap.
		return []content.Mitigation{
			{Horizon: content.Immediate, Key: advice.BufferKey(p), Subject: path, Action: "Reload the logger of " + path + " with buffered writes",
				How:    "Reopen it without " + how + " (a lost line in a crash is a line, not corruption): " + strings.ToLower(advice.BufferHow(p, path)[:1]) + advice.BufferHow(p, path)[1:],
				Effect: "Each line stops waiting for the device: the service's requests stop waiting on their log lines"},
		}
	}
	// Syncing less: without the flag, or with the call made once per
	// batch. A log whose every record must be durable (a WAL) keeps its
	// syncs: only grouping concurrent commits makes them fewer.
	less := content.Mitigation{Horizon: content.ShortTerm, Key: advice.SyncLessKey(p), Subject: path,
		Action: "Stop syncing every record of " + path + " unless it must survive a crash",
		How:    "Open it without " + how + " and call fdatasync on a timer, or once per batch of records",
		Effect: "Writes stop waiting for the device one by one"}
	if how == "fsync" {
		less.How = "Call fdatasync once per batch of records or on a timer instead of after each write"
	}
	if advice.LogKind(path) == "wal" {
		// The same step as buffering its small writes: one row.
		less = content.Mitigation{Horizon: content.ShortTerm, Key: advice.BufferKey(p), Subject: path,
			Action: "Sync " + path + " once per batch of records, not once per record",
			How:    "Group commit: the records that arrive while one sync runs are written and synced together by the next; a single committer does the same by gathering the records queued for a few milliseconds before each write and sync, and acknowledging each after its batch's sync (the WAL keeps its durability; a record waits at most that interval)",
			Effect: "One sync per batch of records instead of one per record, whether the records come from many sessions or one"}
	}
	return []content.Mitigation{
		less,
		{Horizon: content.LongTerm, Action: "If each record must be durable, make each sync cheap", How: "Write the log into preallocated segments (fallocate and zero-fill ahead, then overwrite: an fdatasync of an overwrite in allocated blocks needs no journal commit, an appending one must log the size change), or open it O_DIRECT|O_DSYNC with block-aligned writes (one device write per record, no page cache, no separate fsync)", Effect: "One data write and a cache flush per sync instead of data, journal commit and flushes"},
		device,
	}
}

// syncMechanism says how a synchronous write waits, from what the bundle
// holds, in the words of the filesystem the file is on (model.Journal):
// the kernel stacks of the process's threads sampled in D state (an ext4
// fsync or O_SYNC write waits in jbd2_log_wait_commit for the journal
// commit, an XFS one in xlog_wait_on_iclog for a log force) or, when no
// sample caught the wait, the block trace's charge of the commits its
// syncs forced (not when failed: some traced write or sync to the file
// failed), and the device's write cache mode (with a volatile "write
// back" cache every commit also flushes it).
func syncMechanism(c *window.Window, tv *window.TargetView, path string, failed bool, f *content.Finding) {
	pid := tv.Target.Info.PID
	journal := syncJournal(c, tv, path)
	inD, inCommit := 0, 0
	symbol := ""
	for k := c.From; k <= c.To; k++ {
		for _, th := range c.Model.Ticks[k].Threads[pid] {
			if th.Stat.State != 'D' {
				continue
			}
			inD++
			if journal.WaitsOnCommit(th.Stack) || journal.WaitsOnCommit(th.Wchan) {
				inCommit++
				if symbol == "" {
					symbol = waitSymbol(journal, th.Wchan, th.Stack)
				}
			}
		}
	}
	var parts []string
	if inCommit > 0 {
		parts = append(parts, fmt.Sprintf("its threads were caught waiting in %s in %d of %d samples in D state: %s", symbol, inCommit, inD, journal.SyncWaits))
	}
	pl, placed := c.Place(tv, path)
	if inCommit == 0 && placed && !failed {
		// No sample caught a thread in the wait (a few ticks on a busy
		// machine can miss it): the block trace says the same when it
		// charges the process commits its syncs forced on the file's
		// device. Not for a file whose writes failed: the commits then
		// may be from before they did.
		if dt, sh := c.DeviceTimes[pl.Device], c.ShareOf(pid, pl.Device); dt != nil && sh != nil && sh.JournalNS > 0 && dt.BusyNS > 0 {
			f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.BlockTraceMember, Ticks: c.TickSpan(),
				What: fmt.Sprintf("the block trace charges it the %s its syncs forced on %s (%.0f %% of the device's time): %s", journal.Commits, pl.Device, prose.Pct(sh.JournalNS, dt.BusyNS), journal.SyncWaits)})
		}
	}
	if placed {
		if b := c.Model.Blocks[pl.Device]; b != nil {
			switch wc := b.Settings["queue/write_cache"]; wc {
			case "write back":
				parts = append(parts, fmt.Sprintf("%s has a volatile write cache (write back), so each %s also flushes it", pl.Device, journal.Commit))
			case "write through":
				parts = append(parts, fmt.Sprintf("%s's write cache is write through: %s need no cache flush", pl.Device, journal.Commits))
			}
			parts = append(parts, flushesBeneath(c, pl.Device, b)...)
		}
	}
	if len(parts) == 0 {
		return
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/task/*/stack) and " + bundle.HostMember + " (queue/write_cache)", Ticks: c.TickSpan(),
		What: strings.Join(parts, "; ")})
}

// flushesBeneath says where a loop device's cache flushes go: a loop
// device over a file (without direct IO) serves each flush as an fsync of
// its backing file, so the disk beneath takes the syncs too.
func flushesBeneath(c *window.Window, dev string, b *model.Block) []string {
	if b.BackingFile == "" {
		return nil
	}
	x, ok := c.Devices[dev]
	if !ok || x.FPS <= 0 {
		return nil
	}
	var out []string
	for _, l := range c.Model.Lowers(dev) {
		if lx, ok := c.Devices[l]; ok && lx.FPS > 0 {
			out = append(out, fmt.Sprintf("%s is a loop device over %s: each of its %.0f cache flushes a second is an fsync of that file, and %s beneath it flushed %.0f times a second", dev, b.BackingFile, x.FPS, l, lx.FPS))
		}
	}
	return out
}

// syncJournal is the journal of the filesystem a synchronous writer's
// file is on (on the host: an overlay's upper layer's), the generic one
// when the bundle does not say.
func syncJournal(c *window.Window, tv *window.TargetView, path string) model.Journal {
	if pl, ok := c.Place(tv, path); ok {
		return model.JournalOf(pl.HostMount.FSType)
	}
	return model.JournalOf("")
}

// waitSymbol is the journal function a waiting thread shows: its wchan
// when that is one, else the first one its stack holds.
func waitSymbol(j model.Journal, wchan, stack string) string {
	if j.WaitsOnCommit(wchan) {
		return wchan
	}
	for _, line := range strings.Split(stack, "\n") {
		for _, sym := range j.WaitSymbols {
			if strings.Contains(line, sym) {
				return sym
			}
		}
	}
	return j.WaitSymbols[0]
}
