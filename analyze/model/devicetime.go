package model

import (
	"math"
	"math/bits"
	"slices"
	"sort"

	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// DeviceTime is who holds one device's time: its busy time, each stretch
// held by one request in flight (hold.go) and charged to that request's
// cause.
type DeviceTime struct {
	Device string
	Dev    procfs.Dev
	// FSType is the type of the filesystems on it ("" for none or
	// several): the words its journal's requests are named in
	// (JournalOf).
	FSType string
	// BusyNS is the time the device had requests in flight: the sum of
	// the held times of its requests, never more than the wall time.
	BusyNS   float64
	Requests int
	Bytes    int64
	// Shares are the causes, largest first.
	Shares []*Share
	// Service and Queue are the latency distributions of the device's
	// requests (biolatency's: issue to completion, insert to issue).
	Service, Queue Histogram
	// Seconds is the span of the trace the figures cover.
	Seconds float64
}

// Share is one cause's part of a device's time.
type Share struct {
	Task Task
	// Process is the process of Task.PID in the capture, nil when it
	// was not sampled (it lived only between two ticks) or is a kernel
	// thread left as the cause.
	Process *Process
	// Kernel is true when the time stays with a kernel thread: no user
	// process could be found behind its requests.
	Kernel bool
	// DirectNS is the busy time its own requests held (synchronous,
	// direct, reads); WritebackNS the writeback of pages it dirtied;
	// JournalNS the journal commits its synchronous writes forced;
	// FlushNS the cache flushes that wrote out its data, whoever asked for
	// them. They are its load on the device.
	DirectNS, WritebackNS, JournalNS, FlushNS float64
	// OpenedNS is the part of WritebackNS charged to it as the task
	// that held open for writing a file whose pages no traced write
	// dirtied: they were dirtied before the trace began (the collector's
	// open-writers scan).
	OpenedNS float64
	// ForcedNS is the writeback of others' dirty pages that its sync()
	// or syncfs() calls forced out: the flushers wrote them then because
	// it asked, and it waited for them (syncforce.go). ForcedOf says whose
	// pages they were, by the time each producer's part held.
	ForcedNS float64
	ForcedOf map[Task]float64
	// StackedNS is its part of the time a stacking driver's requests held
	// on this device (stack.go): a loop device's worker and the flushers
	// writing its backing file, for the requests it sent the device above.
	StackedNS float64
	// Through names the devices above whose time it holds here through
	// a stack ("loop1").
	Through []string
	// WaitNS is how long its own requests waited — queued in the
	// scheduler, and in flight behind others' — on top of the time they
	// held: what the device made it wait, not its load.
	WaitNS float64
	// Requests and Bytes are its own requests'; Latency their residence
	// (issue to completion), as biolatency measures it.
	Requests int
	Bytes    int64
	Latency  Histogram
	// CausedRequests and CausedBytes add to its own requests its part of
	// the writeback and journal requests charged to it (fractions, by the
	// same weights as the time): what the device did for it in all.
	CausedRequests, CausedBytes float64
}

// MeanWaitMS is how long each of its own requests waited, on average, in
// milliseconds.
func (s *Share) MeanWaitMS() float64 {
	if s.Requests == 0 {
		return 0
	}
	return s.WaitNS / float64(s.Requests) / 1e6
}

// NS is the share's whole device time.
func (s *Share) NS() float64 {
	return s.DirectNS + s.WritebackNS + s.JournalNS + s.FlushNS + s.StackedNS + s.ForcedNS
}

// Fraction is the share's part of the device's time, 0 to 1.
func (d *DeviceTime) Fraction(s *Share) float64 {
	if d.BusyNS <= 0 {
		return 0
	}
	return s.NS() / d.BusyNS
}

// Find returns the share of a process, nil when it has none.
func (d *DeviceTime) Find(pid int) *Share {
	for _, s := range d.Shares {
		if s.Task.PID == pid && !s.Kernel {
			return s
		}
	}
	return nil
}

// Histogram counts latencies in power-of-two microsecond buckets, as
// bcc's biolatency prints them: bucket i holds [2^i, 2^(i+1)) µs.
type Histogram struct {
	Buckets [32]int64
	Count   int64
	SumNS   float64
}

// Add counts one latency.
func (h *Histogram) Add(ns int64) {
	us := uint64(max(ns, 0) / 1000)
	i := 0
	if us > 0 {
		i = bits.Len64(us) - 1
	}
	h.Buckets[min(i, len(h.Buckets)-1)]++
	h.Count++
	h.SumNS += float64(ns)
}

// MeanMS is the mean latency in milliseconds.
func (h *Histogram) MeanMS() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.SumNS / float64(h.Count) / 1e6
}

// Percentile is the upper bound (ms) of the bucket holding the p-th
// percentile (0 < p <= 100).
func (h *Histogram) Percentile(p float64) float64 {
	if h.Count == 0 {
		return 0
	}
	need := int64(math.Ceil(float64(h.Count) * p / 100))
	var n int64
	for i, c := range h.Buckets {
		n += c
		if n >= need {
			return float64(uint64(1)<<(i+1)) / 1000
		}
	}
	return 0
}

// DeviceTimes charges every traced request's held time (its part of the
// device's busy time, hold.go) to its cause, per device: the task that
// queued it for synchronous and direct IO and
// reads; for writeback (queued by a kworker), the tasks that dirtied
// pages on that device, by their share of the pages dirtied; for journal
// commits (queued by jbd2, XFS's log workers, btrfs's threads), the tasks whose synchronous writes forced
// them, by their share of the device's synchronous writes. Time that no
// user task explains stays with the kernel thread that queued it.
func (m *Model) DeviceTimes() map[string]*DeviceTime {
	if m.BlockTrace == nil {
		return nil
	}
	return m.DeviceTimesBetween(0, math.MaxInt64)
}

// DeviceTimesBetween is DeviceTimes for the requests that completed in
// (fromNS, toNS] of CLOCK_MONOTONIC: one interval of the capture. The
// dirtiers' and sync writers' weights are those of the whole trace.
func (m *Model) DeviceTimesBetween(fromNS, toNS int64) map[string]*DeviceTime {
	bt := m.BlockTrace
	if bt == nil {
		return nil
	}
	seconds := bt.Seconds()
	if toNS != math.MaxInt64 {
		seconds = float64(min(toNS, bt.LastNS)-max(fromNS, bt.FirstNS)) / 1e9
	}
	byPID := map[int]*Process{}
	for _, p := range m.Procs {
		byPID[p.PID] = p // the last one seen with that PID
	}
	out := map[string]*DeviceTime{}
	ch := m.charger()
	shares := map[string]map[Task]*Share{}
	share := func(dt *DeviceTime, t Task, kernel bool) *Share {
		if a, ok := ch.alias[t]; ok {
			t = a // a sync(1) run by an agent: the agent's
		}
		if shares[dt.Device] == nil {
			shares[dt.Device] = map[Task]*Share{}
		}
		// One share per process: threads of it may carry other names.
		key := Task{PID: t.PID}
		if kernel {
			key = t
		}
		s := shares[dt.Device][key]
		if s == nil {
			s = &Share{Task: t, Kernel: kernel}
			if !kernel {
				s.Process = byPID[t.PID]
				if s.Process != nil {
					s.Task.Comm = s.Process.Comm
				}
			}
			shares[dt.Device][key] = s
		}
		return s
	}
	for i := range bt.Requests {
		r := &bt.Requests[i]
		if r.CompleteNS <= fromNS || r.CompleteNS > toNS {
			continue
		}
		name := m.DeviceName(r.Dev)
		dt := out[name]
		if dt == nil {
			dt = &DeviceTime{Device: name, Dev: r.Dev, Seconds: seconds, FSType: m.FSTypeOn(name)}
			out[name] = dt
		}
		ns := float64(r.HeldNS)
		dt.BusyNS += ns
		dt.Requests++
		dt.Bytes += r.Bytes
		dt.Service.Add(r.ServiceNS())
		dt.Queue.Add(r.QueueNS())
		if caller, ok := ch.forced[r]; ok {
			// Writeback a sync() forced: the caller's time; the pages are
			// the producers' (the weights writeback would have used).
			s := share(dt, caller, false)
			s.ForcedNS += ns
			s.CausedRequests++
			s.CausedBytes += float64(r.Bytes)
			if _, weights := ch.of(r); len(weights) > 0 {
				if s.ForcedOf == nil {
					s.ForcedOf = map[Task]float64{}
				}
				spread(weights, func(t Task, frac float64) { s.ForcedOf[ch.aliasOf(t)] += ns * frac })
			}
			continue
		}
		switch kind, weights := ch.of(r); kind {
		case ownRequest:
			s := share(dt, r.Task(), false)
			s.DirectNS += ns
			s.WaitNS += float64(r.WaitNS())
			s.Requests++
			s.Bytes += r.Bytes
			s.CausedRequests++
			s.CausedBytes += float64(r.Bytes)
			s.Latency.Add(r.ServiceNS())
		case journalRequest, writebackRequest, flushRequest:
			spread(weights, func(t Task, frac float64) {
				s := share(dt, t, t.PID == 0)
				switch kind {
				case journalRequest:
					s.JournalNS += ns * frac
				case writebackRequest:
					s.WritebackNS += ns * frac
					s.OpenedNS += ns * frac * ch.openedPart(r.Dev, t)
				default:
					s.FlushNS += ns * frac
				}
				s.CausedRequests += frac
				s.CausedBytes += frac * float64(r.Bytes)
			})
		default:
			s := share(dt, Task{Comm: kernelName(r.Comm)}, true)
			s.DirectNS += ns
			s.WaitNS += float64(r.WaitNS())
			s.Requests++
			s.Bytes += r.Bytes
			s.Latency.Add(r.ServiceNS())
		}
	}
	m.throughStacks(out, share, shares)
	for name, dt := range out {
		for _, s := range shares[name] {
			dt.Shares = append(dt.Shares, s)
		}
		sort.Slice(dt.Shares, func(i, j int) bool {
			a, b := dt.Shares[i], dt.Shares[j]
			if a.NS() != b.NS() {
				return a.NS() > b.NS()
			}
			return a.Task.PID < b.Task.PID
		})
	}
	return out
}

// A request is charged as one of these kinds (charger.of).
const (
	// ownRequest: a user task's own request (synchronous, direct, a read).
	ownRequest = iota
	// journalRequest: a journal commit, or a cache flush the block layer
	// issued for one, charged to the synchronous writers that forced it.
	journalRequest
	// writebackRequest: a kworker writing back pages, charged to the tasks
	// that dirtied pages on the device.
	writebackRequest
	// kernelRequest: a kernel thread's request no user task explains.
	kernelRequest
	// flushRequest: a cache flush, charged to the producers of the data
	// it forces out (flushWeights); a kernel thread's part by its kind
	// (a Task with PID 0).
	flushRequest
)

// charger knows, for a trace, who each request is for: the one reading
// of a request's cause that the device times and the waits share.
type charger struct {
	// syncWriters are, per device, the user tasks' synchronous writes:
	// who forced its journal commits. dirtiers are, per device, the pages
	// each user task dirtied. Both are over the whole trace.
	syncWriters, dirtiers map[procfs.Dev]map[Task]float64
	// opened is, per device, the part of each dirtier's weight that
	// stands for files it held open for writing, their pages dirtied
	// before the trace; openWriters are those tasks by bdi and inode.
	opened      map[procfs.Dev]map[Task]float64
	openWriters map[procfs.Dev]map[uint64][]Task
	// threads are the kernel threads of the process table by PID, with
	// the name each had: a helper that ftrace.KernelTask does not know by
	// name (ext4lazyinit zeroing a new filesystem's inode tables, kswapd,
	// a dm worker) is still kernel work, never a culprit by name.
	threads map[int]string
	// flushes are the cache flushes' causes: the data written to the
	// device since its previous flush, by bytes, each write as it is
	// charged (flushWeights).
	flushes map[*Request]map[Task]float64
	// journal is, per device, the MiB-sized stretches of sectors its
	// journal thread wrote in the trace: a kernel thread's request there
	// (kblockd re-issuing a commit's blocks after a flush) is the
	// journal's, whatever its flags.
	journal map[procfs.Dev]map[uint64]bool
	// forced are the flushers' requests that a sync() or syncfs() caller
	// forced out, with the caller; alias charges a short-lived sync(1)
	// process to the agent that ran it (syncAliases).
	forced map[*Request]Task
	alias  map[Task]Task
}

// aliasOf is the task a task's time is charged to.
func (ch *charger) aliasOf(t Task) Task {
	if a, ok := ch.alias[t]; ok {
		return a
	}
	return t
}

// journalChunkShift makes a sector a 1 MiB stretch, by which a journal
// is told.
const journalChunkShift = 11

// journalSectors finds, per device, where its journal thread writes.
func journalSectors(bt *BlockTrace) map[procfs.Dev]map[uint64]bool {
	out := map[procfs.Dev]map[uint64]bool{}
	for i := range bt.Requests {
		r := &bt.Requests[i]
		if !r.Write() || !ftrace.JournalTask(r.Comm) || r.Sectors == 0 {
			continue
		}
		if out[r.Dev] == nil {
			out[r.Dev] = map[uint64]bool{}
		}
		out[r.Dev][r.Sector>>journalChunkShift] = true
	}
	return out
}

// inJournal reports a request that lands where the device's journal
// thread writes.
func (ch *charger) inJournal(r *Request) bool {
	return r.Write() && r.Sectors > 0 && ch.journal[r.Dev][r.Sector>>journalChunkShift]
}

// charger weighs the trace's journal and writeback requests by their
// causes, telling kernel threads by name and by the process table.
func (m *Model) charger() *charger {
	bt := m.BlockTrace
	ch := &charger{syncWriters: map[procfs.Dev]map[Task]float64{}, dirtiers: map[procfs.Dev]map[Task]float64{}, threads: map[int]string{},
		opened: map[procfs.Dev]map[Task]float64{}, openWriters: m.openWriters(), journal: journalSectors(bt)}
	for _, p := range m.Procs {
		if p.Kernel {
			ch.threads[p.PID] = p.Comm
		}
	}
	// Who forces commits: a task whose synchronous writes are of pages it
	// dirtied (an fsync, O_SYNC or O_DSYNC on buffered data) or carry a
	// flush or FUA. Plain O_DIRECT writes are synchronous too, but into
	// allocated blocks they need no journal commit and wait for none.
	forces := map[procfs.Dev]map[Task]bool{}
	for i := range bt.Requests {
		r := &bt.Requests[i]
		if r.Write() && r.Flush() && !ch.kernel(r.Task()) {
			if forces[r.Dev] == nil {
				forces[r.Dev] = map[Task]bool{}
			}
			forces[r.Dev][r.Task()] = true
		}
	}
	// When none qualifies (O_DIRECT writers and a commit of their
	// allocations), every synchronous writer stays. Checked against
	// bpftrace (TestBpftraceCrossCheck): without the rule an O_DIRECT
	// writer beside an O_DSYNC appender took half of the appender's
	// commits.
	all := map[procfs.Dev]map[Task]float64{}
	for i := range bt.Requests {
		r := &bt.Requests[i]
		t := r.Task()
		if !r.Write() || !r.Sync() || ch.kernel(t) {
			continue
		}
		if all[r.Dev] == nil {
			all[r.Dev] = map[Task]float64{}
		}
		all[r.Dev][t]++
		if forces[r.Dev][t] || bt.Dirtied[r.Dev][t] > 0 {
			if ch.syncWriters[r.Dev] == nil {
				ch.syncWriters[r.Dev] = map[Task]float64{}
			}
			ch.syncWriters[r.Dev][t]++
		}
	}
	for dev, writers := range all {
		if len(ch.syncWriters[dev]) == 0 {
			ch.syncWriters[dev] = writers
		}
	}
	for bdi, tasks := range bt.Dirtied {
		if len(bt.Written[bdi]) > 0 {
			continue // below
		}
		// No flusher said what it wrote: the pages dirtied stand for it.
		for t, n := range tasks {
			if ch.kernel(t) {
				continue
			}
			if ch.dirtiers[bdi] == nil {
				ch.dirtiers[bdi] = map[Task]float64{}
			}
			ch.dirtiers[bdi][t] += float64(n)
		}
	}
	for bdi := range bt.Written {
		if w := ch.writtenFor(bt, bdi); w != nil {
			ch.dirtiers[bdi] = w
		}
	}
	ch.throughStacks(m.stacks().throughBDIs(m))
	ch.forced = bt.forcedBy()
	ch.alias = m.syncAliases()
	ch.flushes = ch.flushWeights(bt)
	return ch
}

// throughStacks adds to each device's dirtiers and sync writers those of
// the pass-through devices (bio-based dm, md) whose requests show on it
// (stack.go): the flushers writing a dm device's pages, and its
// filesystem's journal, issue their requests on the devices under it. A
// flusher's request there is shared among both devices' dirtiers by the
// pages written for each: the trace does not say whose pages it carried.
func (ch *charger) throughStacks(through map[procfs.Dev][]procfs.Dev) {
	merge := func(by map[procfs.Dev]map[Task]float64) map[procfs.Dev]map[Task]float64 {
		out := map[procfs.Dev]map[Task]float64{}
		for dev, ups := range through {
			for _, d := range append([]procfs.Dev{dev}, ups...) {
				for t, w := range by[d] {
					if out[dev] == nil {
						out[dev] = map[Task]float64{}
					}
					out[dev][t] += w
				}
			}
		}
		return out
	}
	dirtiers, syncWriters, opened := merge(ch.dirtiers), merge(ch.syncWriters), merge(ch.opened)
	for dev := range through {
		ch.dirtiers[dev], ch.syncWriters[dev], ch.opened[dev] = dirtiers[dev], syncWriters[dev], opened[dev]
	}
}

// flushWeights charges each cache flush to the data it forces out: the
// writes issued on its device since the previous flush, by bytes, each
// write as charged (its own task, the sync writers of a commit, the
// dirtiers of writeback). A flush on a loop device fsyncs the backing
// file and so writes out whatever was sent since; a disk's volatile cache
// holds the same. Whoever asked for the flush waits for it: the time is
// load of the data's producers, and wait of the flush's requester. A
// flush with nothing written before it is charged as before (kind).
func (ch *charger) flushWeights(bt *BlockTrace) map[*Request]map[Task]float64 {
	out := map[*Request]map[Task]float64{}
	for _, idx := range bt.byDevice() {
		idx = slices.Clone(idx)
		sort.SliceStable(idx, func(i, j int) bool { return bt.Requests[idx[i]].IssueNS < bt.Requests[idx[j]].IssueNS })
		since := map[Task]float64{}
		for _, i := range idx {
			r := &bt.Requests[i]
			if r.Flush() {
				if len(since) > 0 {
					out[r] = since
					since = map[Task]float64{}
				}
				continue
			}
			if !r.Write() || r.Bytes <= 0 {
				continue
			}
			if caller, ok := ch.forced[r]; ok {
				since[ch.aliasOf(caller)] += float64(r.Bytes)
				continue
			}
			switch kind, weights := ch.of(r); kind {
			case ownRequest:
				since[r.Task()] += float64(r.Bytes)
			case journalRequest, writebackRequest:
				spread(weights, func(t Task, frac float64) { since[t] += frac * float64(r.Bytes) })
			default:
				since[Task{Comm: kernelName(r.Comm)}] += float64(r.Bytes)
			}
		}
	}
	return out
}

// openedPart is the part of a dirtier's weight on a device that stands
// for files it held open for writing (writtenFor).
func (ch *charger) openedPart(dev procfs.Dev, t Task) float64 {
	if w := ch.dirtiers[dev][t]; w > 0 {
		return ch.opened[dev][t] / w
	}
	return 0
}

// openWriters indexes the open writers by the bdi the flushers wrote
// each inode on and the inode: a writer's mount device and the bdi must
// be one disk (a partition's filesystem writes back on its disk's bdi),
// since inode numbers repeat across filesystems. One task a file, however
// many descriptors it holds.
func (m *Model) openWriters() map[procfs.Dev]map[uint64][]Task {
	if len(m.OpenWriters) == 0 || m.BlockTrace == nil {
		return nil
	}
	out := map[procfs.Dev]map[uint64][]Task{}
	for bdi, inodes := range m.BlockTrace.Written {
		disk := m.DiskName(bdi)
		for _, w := range m.OpenWriters {
			dev, err := procfs.ParseDev(w.Dev)
			if err != nil || inodes[w.Ino] == 0 || m.DiskName(dev) != disk {
				continue
			}
			t := Task{PID: w.PID, Comm: w.Comm}
			if out[bdi] == nil {
				out[bdi] = map[uint64][]Task{}
			}
			if !slices.Contains(out[bdi][w.Ino], t) {
				out[bdi][w.Ino] = append(out[bdi][w.Ino], t)
			}
		}
	}
	return out
}

// writtenFor weighs a device's dirtiers by what the flushers wrote for
// them: each inode's pages written (writeback_single_inode), shared among
// the tasks that dirtied it by the pages each dirtied. A task whose pages
// were clean again by writeback time (an O_DSYNC writer's) weighs nothing,
// however many it dirtied; four-KiB and large folios weigh by the pages
// written, not by the events.
//
// An inode no user task dirtied in the trace was dirtied before it: its
// pages written go to the tasks that held it open for writing when the
// trace ended, alike (Model.OpenWriters), and are counted in opened too.
func (ch *charger) writtenFor(bt *BlockTrace, bdi procfs.Dev) map[Task]float64 {
	out := map[Task]float64{}
	for ino, wrote := range bt.Written[bdi] {
		var total int64
		for t, n := range bt.DirtiedInode[bdi][ino] {
			if !ch.kernel(t) {
				total += n
			}
		}
		if ws := ch.openWriters[bdi][ino]; total == 0 && len(ws) > 0 {
			if ch.opened[bdi] == nil {
				ch.opened[bdi] = map[Task]float64{}
			}
			for _, t := range ws {
				out[t] += float64(wrote) / float64(len(ws))
				ch.opened[bdi][t] += float64(wrote) / float64(len(ws))
			}
			continue
		}
		for t, n := range bt.DirtiedInode[bdi][ino] {
			if !ch.kernel(t) && total > 0 {
				out[t] += float64(wrote) * float64(n) / float64(total)
			}
		}
	}
	ch.underWriteback(bt, bdi, out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// underWriteback adds to a device's dirtiers the inodes the flushers had
// not finished with when the trace ended: writeback_single_inode fires
// when a pass over an inode ends, so a large file being written back (a
// copy of a log) has no such event yet while its pages fill the device's
// queue. What the flushers' requests wrote beyond the pages they
// reported goes to the dirtiers of the inodes they did not report, by
// the pages each dirtied. A task that writes its own pages out (fsync,
// O_SYNC: a sync writer on the device) is left out: its pages were clean
// again before a flusher could take them.
func (ch *charger) underWriteback(bt *BlockTrace, bdi procfs.Dev, out map[Task]float64) {
	var reported int64
	for _, n := range bt.Written[bdi] {
		reported += n
	}
	rest := float64(ch.flushedPages(bt, bdi) - reported)
	if rest <= 0 {
		return
	}
	pending := map[Task]float64{}
	var total float64
	for ino, tasks := range bt.DirtiedInode[bdi] {
		if bt.Written[bdi][ino] > 0 {
			continue
		}
		for t, n := range tasks {
			if !ch.kernel(t) && ch.syncWriters[bdi][t] == 0 {
				pending[t] += float64(n)
				total += float64(n)
			}
		}
	}
	for t, n := range pending {
		out[t] += rest * n / total
	}
}

// flushedPages is what kernel threads wrote on a device in the trace, in
// pages: its writeback requests (not the journal's, not flushes).
func (ch *charger) flushedPages(bt *BlockTrace, dev procfs.Dev) int64 {
	var bytes int64
	for i := range bt.Requests {
		r := &bt.Requests[i]
		if r.Dev == dev && r.Write() && ch.kernel(r.Task()) && !ch.journalKind(r) {
			bytes += r.Bytes
		}
	}
	return bytes / 4096
}

// of is the kind of a request and, for journal and writeback requests,
// the tasks it is charged to with their weights.
func (ch *charger) of(r *Request) (int, map[Task]float64) {
	if w, ok := ch.flushes[r]; ok {
		return flushRequest, w
	}
	switch {
	case !ch.kernel(r.Task()):
		return ownRequest, nil
	case ch.journalKind(r) && len(ch.syncWriters[r.Dev]) > 0:
		// A journal commit, a cache flush, or a block of the commit's
		// flush sequence re-issued by kblockd: what the request is, not
		// which thread issued it.
		return journalRequest, ch.syncWriters[r.Dev]
	case !ch.journalKind(r) && len(ch.dirtiers[r.Dev]) > 0:
		return writebackRequest, ch.dirtiers[r.Dev]
	}
	return kernelRequest, nil
}

// journalKind reports a kernel thread's request that is the journal's,
// not writeback: queued by the journal thread, a cache flush or FUA, a
// metadata block, or a block where the journal thread writes.
func (ch *charger) journalKind(r *Request) bool {
	return ftrace.JournalTask(r.Comm) || r.Flush() || r.Meta() || ch.inJournal(r)
}

// kernel reports a task that is a kernel thread: by name (the flushers,
// jbd2, xfsaild, btrfs's threads, loop workers) or because the process table says so for that PID
// under that name (a PID reused by a user process is not).
func (ch *charger) kernel(t Task) bool {
	if ftrace.KernelTask(t.Comm) {
		return true
	}
	comm, ok := ch.threads[t.PID]
	return ok && comm == t.Comm
}

// spread divides one request among tasks by their weights, in a fixed
// order: fn gets each task's fraction.
func spread(weights map[Task]float64, fn func(Task, float64)) {
	var total float64
	tasks := make([]Task, 0, len(weights))
	for t, w := range weights {
		total += w
		tasks = append(tasks, t)
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].PID < tasks[j].PID })
	for _, t := range tasks {
		fn(t, weights[t]/total)
	}
}

// kernelName groups kernel threads by kind: every writeback kworker is
// "kworker", the journal of a device keeps its name.
func kernelName(comm string) string {
	switch {
	case ftrace.JournalTask(comm):
		return comm
	case len(comm) >= 7 && comm[:7] == "kworker":
		return "kworker"
	}
	return comm
}
