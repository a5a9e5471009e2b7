package ftrace

import "strings"

// Process is the event's process: its TGID when the instance recorded it,
// else the thread's id (a multi-threaded writer's requests are its
// threads').
func (e Event) Process() int {
	if e.TGID > 0 {
		return e.TGID
	}
	return e.PID
}

// KernelTask reports tasks that issue IO on others' behalf: writeback
// kworkers (and the loop driver's, and the XFS and btrfs workqueues'),
// the journal threads of ext4, XFS and btrfs, the idle task and the
// softirq threads that complete requests, and the stacking drivers'
// threads: dm-crypt's writer (its workqueues, kcryptd and kdmflush, run
// in kworkers) and an md array's personality thread.
func KernelTask(comm string) bool {
	return strings.HasPrefix(comm, "kworker") || JournalTask(comm) || comm == "<idle>" ||
		strings.HasPrefix(comm, "loop") || strings.HasPrefix(comm, "ksoftirqd") || strings.HasPrefix(comm, "flush-") || comm == "swapper" ||
		strings.HasPrefix(comm, "dmcrypt_write") || strings.HasPrefix(comm, "kcryptd") || strings.HasPrefix(comm, "kdmflush") || MDTask(comm)
}

// MDTask reports an md array's own thread, "mdN_PERSONALITY" (md0_raid1,
// md127_raid10, md1_resync): drivers/md names it after the array. A
// command that merely starts with "md" (mdadm, md5sum) is not one.
func MDTask(comm string) bool {
	rest, ok := strings.CutPrefix(comm, "md")
	if !ok {
		return false
	}
	digits := len(rest) - len(strings.TrimLeft(rest, "0123456789"))
	return digits > 0 && digits < len(rest) && rest[digits] == '_'
}

// JournalTask reports a filesystem's journal thread: ext4's jbd2
// ("jbd2/DEV-8"), XFS's AIL pusher that writes logged metadata back in
// place ("xfsaild/DEV"; its log writes come from the xfs-log and xfs-cil
// workqueues, which run in kworkers), btrfs's transaction and cleaner
// threads (comm is at most 15 characters: "btrfs-transacti").
func JournalTask(comm string) bool {
	return strings.HasPrefix(comm, "jbd2/") || strings.HasPrefix(comm, "xfsaild/") || btrfsThreads[comm]
}

// btrfsThreads are btrfs's own kernel threads, by their comm (its other
// work runs in kworkers).
var btrfsThreads = map[string]bool{"btrfs-transacti": true, "btrfs-transaction": true, "btrfs-cleaner": true}

// JournalOf reports a journal thread that serves the disk named dev
// ("sda") or one of its partitions: jbd2/sda1-8, xfsaild/sda1. btrfs's
// threads name no device.
func JournalOf(comm, dev string) bool {
	return strings.HasPrefix(comm, "jbd2/"+dev) || strings.HasPrefix(comm, "xfsaild/"+dev)
}

// Matched is one block request from issue to completion.
type Matched struct {
	// Request is the request as inserted or issued (with its bytes).
	Request
	// PID and Comm are the task that queued it (the insert's, else the
	// issue's): the application for synchronous and direct IO, a
	// kworker for writeback, jbd2 for the journal.
	PID  int
	Comm string
	// InsertNS is 0 when the request went straight to the driver.
	InsertNS, IssueNS, CompleteNS int64
	Error                         int
}

// ServiceNS is the time the device took: issue to completion.
func (m *Matched) ServiceNS() int64 { return m.CompleteNS - m.IssueNS }

// QueueNS is the time the request waited in the scheduler: insert to
// issue (0 without a scheduler).
func (m *Matched) QueueNS() int64 {
	if m.InsertNS == 0 {
		return 0
	}
	return m.IssueNS - m.InsertNS
}

// matchKey is a request's device and first sector; every zero-length
// request (a cache flush, issued at sector 0 and completed at sector -1)
// shares one key per device.
type matchKey struct {
	dev    Dev
	sector uint64
}

func keyOf(r Request) matchKey {
	if r.Sectors == 0 {
		return matchKey{r.Dev, ^uint64(0)}
	}
	return matchKey{r.Dev, r.Sector}
}

// Matcher pairs block_rq_insert, block_rq_issue and block_rq_complete
// events into requests (biosnoop's matching: by device and sector, in
// order). A request the driver gives back (block_rq_requeue) is issued
// again: its service runs from the last issue, and it leaves no stale
// issue behind for a later request at its sector to complete. Feed it
// events in trace order.
type Matcher struct {
	inserted map[matchKey]*Matched
	open     map[matchKey][]*Matched
	// Unmatched counts completions with no issue in the trace (issued
	// before it began, or flush steps the block layer completes within
	// another request).
	Unmatched int
}

// NewMatcher returns an empty Matcher.
func NewMatcher() *Matcher {
	return &Matcher{inserted: map[matchKey]*Matched{}, open: map[matchKey][]*Matched{}}
}

// IsBlockRequest reports the events a Matcher takes.
func IsBlockRequest(name string) bool {
	return name == "block_rq_insert" || name == "block_rq_issue" || name == "block_rq_complete" || name == "block_rq_requeue"
}

// Add takes one block request event and returns the request it completes,
// if it does. An event whose fields do not parse is an error.
func (m *Matcher) Add(e Event) (Matched, bool, error) {
	// A requeue's fields are a completion's (no bytes, an error field).
	completion := e.Name == "block_rq_complete" || e.Name == "block_rq_requeue"
	r, err := ParseRequest(e.Fields, completion)
	if err != nil {
		return Matched{}, false, err
	}
	if !r.HasSectorRange {
		return Matched{}, false, errNoSectors
	}
	k := keyOf(r)
	switch e.Name {
	case "block_rq_insert":
		m.inserted[k] = &Matched{Request: r, PID: e.Process(), Comm: e.Comm, InsertNS: e.TimeNS}
	case "block_rq_issue":
		req := m.inserted[k]
		if req != nil {
			delete(m.inserted, k)
		} else if reissue := m.reissued(k, r); reissue != nil {
			// Issued again with no requeue in the trace (a kernel or a
			// capture without the event): the same request, not a second.
			reissue.IssueNS = e.TimeNS
			return Matched{}, false, nil
		} else {
			req = &Matched{Request: r, PID: e.Process(), Comm: e.Comm}
		}
		req.IssueNS = e.TimeNS
		m.open[k] = append(m.open[k], req)
	case "block_rq_requeue":
		// Back from the driver: it waits to be issued again, as when it
		// was inserted.
		if req := m.take(k); req != nil {
			m.inserted[k] = req
		}
	case "block_rq_complete":
		req := m.take(k)
		if req == nil {
			m.Unmatched++
			return Matched{}, false, nil
		}
		req.CompleteNS, req.Error = e.TimeNS, r.Error
		return *req, true, nil
	}
	return Matched{}, false, nil
}

// take removes and returns the oldest request open at k, nil when none is.
func (m *Matcher) take(k matchKey) *Matched {
	reqs := m.open[k]
	if len(reqs) == 0 {
		return nil
	}
	if len(reqs) == 1 {
		delete(m.open, k)
	} else {
		m.open[k] = reqs[1:]
	}
	return reqs[0]
}

// reissued is the open request a data request's issue repeats: one at
// the same sector with the same size and direction. Cache flushes share
// one key per device and may overlap, so they are never taken for one.
func (m *Matcher) reissued(k matchKey, r Request) *Matched {
	if r.Sectors == 0 {
		return nil
	}
	for _, o := range m.open[k] {
		if o.Sectors == r.Sectors && o.RWBS == r.RWBS {
			return o
		}
	}
	return nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoSectors = constError("block request without a sector range")
