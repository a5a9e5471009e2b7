package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// metadataScan reports a process walking a directory tree on a cold
// cache (du, find, updatedb, a backup's or an indexer's scan): its disk
// time is small random reads of inode tables and directory blocks, not
// file data. Evidence: its read requests flagged REQ_META (M in the
// block trace's rwbs), read_bytes against rchar in /proc/PID/io (those
// reads are no read() call's), getdents64 and stat calls in its trace.
// Anyone else with latency-sensitive reads on the device queues behind
// them (io-victims names them).
var metadataScan = &Rule{ID: "metadata-scan",
	Role: content.Cause, Check: checkMetadataScan, PerApp: true, CountsCalls: true,
	Deciding: [][]Condition{{
		{Figure: "meta_reads_per_s", Threshold: func(t window.Thresholds) float64 { return t.MetaReadsMinPerSec }, What: "metadata reads a second"},
		deviceShareCondition,
	}},
	Clause: func(f *content.Finding) string { return " " + f.Title + "." },
	Watch:  []Watch{WatchProcess},
}

// metaReads are one process's read requests on one device.
type metaReads struct {
	pid, reads, meta, ahead int
	bytes, metaBytes        int64
	aheadBytes, heldNS      int64
}

// minMetaShare is the part of a process's read requests that must be
// metadata for its reads to be a scan, not file data with some inodes.
const minMetaShare = 0.5

func checkMetadataScan(c *window.Window) []content.Finding {
	bt := c.Model.BlockTrace
	if bt == nil || bt.Seconds() <= 0 {
		return nil
	}
	var out []content.Finding
	hurting := map[string]bool{}
	for _, d := range c.Hurting() {
		hurting[d] = true
	}
	byDev := readsByDevice(c, bt)
	for _, dev := range sortedKeys(byDev) {
		if !hurting[dev] {
			continue // a scan of a device that serves everyone in time is no one's problem
		}
		for _, r := range byDev[dev] {
			pio := c.ByPID[r.pid]
			if pio == nil || pio.Proc == nil || r.meta == 0 {
				continue
			}
			scan := r.meta
			if notCalls(pio) {
				// Its reads are no read() call's, so neither is their
				// readahead: ext4 reads inode tables (inode_readahead_blks)
				// and directories ahead, without the metadata flag.
				scan += r.ahead
			} else {
				r.ahead = 0
			}
			if float64(scan) < minMetaShare*float64(r.reads) || float64(r.meta) < minMetaShare/2*float64(r.reads) {
				continue
			}
			rate := float64(scan) / bt.Seconds()
			share := c.DeviceShare(r.pid, dev) * 100
			if rate < c.Thresholds.MetaReadsMinPerSec && share < c.Thresholds.DeviceSharePct {
				continue
			}
			out = append(out, metadataScanFinding(c, dev, r, pio, rate, share))
		}
	}
	return out
}

// readsByDevice groups the block trace's read requests by device and
// process, each device's processes by metadata reads, most first.
func readsByDevice(c *window.Window, bt *model.BlockTrace) map[string][]*metaReads {
	by := map[string]map[int]*metaReads{}
	for i := range bt.Requests {
		q := &bt.Requests[i]
		if !q.Read() || q.PID <= 0 {
			continue
		}
		dev := c.Model.DiskName(q.Dev)
		if by[dev] == nil {
			by[dev] = map[int]*metaReads{}
		}
		r := by[dev][q.PID]
		if r == nil {
			r = &metaReads{pid: q.PID}
			by[dev][q.PID] = r
		}
		r.reads++
		r.bytes += q.Bytes
		r.heldNS += q.HeldNS
		switch {
		case q.Meta():
			r.meta++
			r.metaBytes += q.Bytes
		case q.Readahead():
			r.ahead++
			r.aheadBytes += q.Bytes
		}
	}
	out := map[string][]*metaReads{}
	for dev, m := range by {
		for _, r := range m {
			out[dev] = append(out[dev], r)
		}
		sort.Slice(out[dev], func(i, j int) bool {
			a, b := out[dev][i], out[dev][j]
			if a.meta != b.meta {
				return a.meta > b.meta
			}
			return a.pid < b.pid
		})
	}
	return out
}

func metadataScanFinding(c *window.Window, dev string, r *metaReads, pio *model.ProcIO, rate, share float64) content.Finding {
	p := pio.Proc
	secs := c.Model.BlockTrace.Seconds()
	avg := float64(r.metaBytes) / float64(r.meta)
	scanPct := prose.Pct(float64(r.meta+r.ahead), float64(r.reads))
	ahead := ""
	if r.ahead > 0 {
		ahead = fmt.Sprintf("; and %d read ahead of them, %s each (%s)", r.ahead, prose.Bytes(float64(r.aheadBytes)/float64(r.ahead)), metaReadahead(c.Model.FSTypeOn(dev)))
	}
	f := content.Finding{
		ID: "metadata-scan", Severity: content.Warning, Confidence: content.High, Score: rate,
		Title: fmt.Sprintf("%s scans a directory tree on a cold cache: %.0f metadata reads a second (inode tables, directories) on %s", window.Name(p), rate, dev),
		Summary: fmt.Sprintf("%s reads filesystem metadata, not file data: %.0f %% of its %d read requests on %s were inode table and directory blocks, %.0f a second. "+
			"Walking a tree whose inodes and directories are not in memory costs a small random read per inode table block and directory block, one after another, and every other reader of %s queues behind them.",
			window.Name(p), scanPct, r.reads, dev, rate, dev),
		Subjects: content.Subjects{PIDs: []int{p.PID}, Command: window.Cmdline(p), Device: dev},
		Evidence: []content.Evidence{{Member: bundle.BlockTraceMember, What: fmt.Sprintf("%s: %d read requests by PID %d in %.1f s of block trace: %d flagged M (REQ_META, read on demand), %s each%s",
			dev, r.reads, p.PID, secs, r.meta, prose.Bytes(avg), ahead),
			Figures: map[string]float64{FigMetaReadsPerS: rate, FigMetaReadsPct: scanPct}}},
	}
	if share > 0 {
		f.Summary += fmt.Sprintf(" It holds %.0f %% of %s's time.", share, dev)
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.DeviceTimeSource(), What: fmt.Sprintf("%s holds %.0f %% of the time of %s", window.Name(p), share, dev),
			Figures: map[string]float64{FigDeviceSharePct: share}})
	}
	if io := pio.Delta.IO; io.ReadBytes > 0 {
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/PID/io)", Ticks: c.TickSpan(),
			What: fmt.Sprintf("/proc/%d/io over %.1f s: read_bytes +%s against rchar +%s in %d read calls: %s", p.PID, pio.Seconds, prose.Bytes(float64(io.ReadBytes)), prose.Bytes(float64(io.RChar)), io.SyscR, readsNotCalls(io.ReadBytes, io.RChar))})
	}
	root := ""
	if tv := c.Target(p.PID); tv != nil {
		root = scanCalls(tv, &f)
		atimeAdvice(c, tv, root, &f)
	}
	f.Mitigations = append(scanMitigations(c, p, dev, root), f.Mitigations...)
	if p.Container != nil {
		f.Subjects.Container = p.Container.Name
	}
	return f
}

// notCalls reports a process whose disk reads are not what its read()
// calls returned: read_bytes (bytes it caused to be read from a disk)
// above rchar (bytes its read calls returned, from cache or not).
func notCalls(pio *model.ProcIO) bool {
	return pio.Delta.IO.ReadBytes > pio.Delta.IO.RChar
}

// readsNotCalls says what read_bytes beyond rchar means.
func readsNotCalls(readBytes, rchar int64) string {
	if readBytes > rchar {
		return "it read more from the disk than its read() calls returned, so the disk reads were not file data it asked for: metadata the kernel read to resolve its paths, directory listings and stats"
	}
	return "its read() calls account for its disk reads as well"
}

// scanCalls cites the scan's directory listings and stats from its
// trace, and returns the tree it listed ("" without a trace).
func scanCalls(tv *window.TargetView, f *content.Finding) string {
	s, tr := tv.Summary, tv.Target.Info.Strace
	if s == nil || tr == nil || tr.TracedSeconds <= 0 {
		return ""
	}
	calls := map[string]int{}
	for _, st := range s.Syscalls {
		switch st.Name {
		case "getdents64", "newfstatat", "statx", "fstatat64", "lstat", "stat":
			calls[st.Name] = st.Calls
		}
	}
	if calls["getdents64"] == 0 {
		return ""
	}
	var parts []string
	for _, n := range sortedKeys(calls) {
		parts = append(parts, fmt.Sprintf("%d %s", calls[n], n))
	}
	root := s.ListedTree()
	f.Evidence = append(f.Evidence, content.Evidence{Member: tr.Member,
		What: fmt.Sprintf("strace over %.1f s: %s; %s listed under %s", tr.TracedSeconds, strings.Join(parts, ", "), prose.Plural(len(s.Listed), "directory"), root)})
	f.Summary += fmt.Sprintf(" Its trace lists %s under %s.", prose.Plural(len(s.Listed), "directory"), root)
	return root
}

// atimeAdvice adds noatime when the scanned filesystem updates access
// times: reading a directory then dirties its inode (relatime: once a
// day, or after a change), and the scan writes as well as reads.
func atimeAdvice(c *window.Window, tv *window.TargetView, root string, f *content.Finding) {
	pl, ok := c.Place(tv, root)
	if root == "" || !ok {
		return
	}
	opts := "," + pl.Mount.Options + ","
	if strings.Contains(opts, ",noatime,") {
		return
	}
	mode := "atime"
	if strings.Contains(opts, ",relatime,") {
		mode = "relatime"
	}
	// A small gain against the scan's own reads: long term.
	f.Mitigations = append(f.Mitigations, content.Mitigation{Horizon: content.LongTerm, Action: "Mount " + pl.Mount.MountPoint + " noatime",
		How:    fmt.Sprintf("It is mounted %s (mountinfo): each directory the scan lists gets its access time updated (relatime: when older than a day or than its last change), an inode dirtied and journalled; noatime (or nodiratime) in its fstab entry stops that", mode),
		Effect: "The scan only reads; no inode writes or " + model.JournalOf(pl.HostMount.FSType).Commits + " follow it"})
}

// scanMitigations are how to keep a scan off the device's latency: a
// lower IO priority where the scheduler honours it, fewer trees to
// walk, another time.
func scanMitigations(c *window.Window, p *model.Process, dev, root string) []content.Mitigation {
	sched := ""
	if b := c.Model.Blocks[dev]; b != nil {
		sched = b.Scheduler
	}
	how := fmt.Sprintf("ionice -c3 -p %d (now; in the job that starts it, ionice -c3 nice -n19 in front of its command, or IOSchedulingClass=idle in its systemd unit)", p.PID)
	switch sched {
	case "bfq", "mq-deadline":
		how += fmt.Sprintf("; %s's %s scheduler honours the idle class", dev, sched)
	default:
		how += fmt.Sprintf("; %s's scheduler is %s, which ignores IO priorities: switch it to bfq (or mq-deadline) first (bfq in /sys/block/%s/queue/scheduler)", dev, orDash(sched), dev)
	}
	tree := "the trees it does not need"
	if root != "" {
		tree = root + " where it is not needed"
	}
	return []content.Mitigation{
		{Horizon: content.Immediate, Action: "Run the scan at idle IO priority", How: how, Commands: []string{fmt.Sprintf("ionice -c3 -p %d", p.PID), idlePrefix}, Effect: "Its metadata reads go to the device only when no one else is waiting: other readers' latency returns"},
		{Horizon: content.ShortTerm, Action: "Scan less", How: "Exclude " + tree + " (updatedb: PRUNEPATHS and PRUNEFS in /etc/updatedb.conf; find/du: -xdev and -prune), and schedule the scan off-peak or less often",
			Effect: "Fewer inode table and directory blocks read from the disk"},
		{Horizon: content.LongTerm, Action: "Keep the metadata in memory, or off the shared device", How: "Enough memory that the dentry and inode caches hold the tree between scans (vm.vfs_cache_pressure below 100 favours them), or the many-small-files tree on its own device",
			Effect: "A rescan is served from memory"},
	}
}

// metaReadahead says why a scan's reads come with read-ahead ones, naming
// the filesystem's own knob only where it has one (ext4's is a mount
// option; XFS and btrfs have none to name).
func metaReadahead(fstype string) string {
	const why = "a filesystem reads metadata ahead of what it needs"
	if ra := model.JournalOf(fstype).MetaReadahead; ra != "" {
		return why + ": " + ra + ", directory readahead"
	}
	return why + ": directory and inode readahead"
}
