package model

import (
	"bytes"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// BlockTrace is the block-layer capture (bundle.BlockTraceMember), its
// requests matched from insert and issue to completion.
type BlockTrace struct {
	Info bundle.BlockTraceInfo
	// Requests are the requests seen issued and completed, in
	// completion order.
	Requests []Request
	// Dirtied counts the pages each task dirtied, by the bdi (the device)
	// they belong to: buffered writes reach the device later from a
	// kworker, and these tie them back to their writer.
	Dirtied map[procfs.Dev]map[Task]int64
	// Throttled is balance_dirty_pages per task: how long writers were
	// held back because dirty memory was over its limit.
	Throttled map[Task]Throttle
	// Commits counts jbd2 commits per device.
	Commits map[procfs.Dev]int
	// FirstNS and LastNS are the first and last event's CLOCK_MONOTONIC.
	FirstNS, LastNS int64
	// Lines is every line; Malformed those in no event form; Unmatched
	// the completions whose issue was before the capture.
	Lines, Malformed, Unmatched int
}

// Task is a process as the trace names it.
type Task struct {
	PID  int
	Comm string
}

// Throttle sums the dirty throttling of one task.
type Throttle struct {
	Pauses  int
	PauseMS int64
}

// Request is one block request from issue to completion.
type Request struct {
	Dev  procfs.Dev
	RWBS string
	// Bytes is the request's size.
	Bytes  int64
	Sector uint64
	// InsertNS is 0 when the request went straight to the driver (no
	// scheduler, or a flush).
	InsertNS, IssueNS, CompleteNS int64
	// Task is who put the request in the queue: the application for
	// synchronous and direct IO, a kworker for writeback, jbd2 for the
	// journal.
	Task  Task
	Error int
}

// ServiceNS is the time the device took: issue to completion.
func (r *Request) ServiceNS() int64 { return r.CompleteNS - r.IssueNS }

// QueueNS is the time the request waited in the scheduler: insert to
// issue (0 without a scheduler).
func (r *Request) QueueNS() int64 {
	if r.InsertNS == 0 {
		return 0
	}
	return r.IssueNS - r.InsertNS
}

// Write reports a write request; Sync one marked synchronous.
func (r *Request) Write() bool { return strings.ContainsRune(r.RWBS, 'W') }

// Sync reports a request marked synchronous (REQ_SYNC): O_SYNC, O_DIRECT,
// fsync's writes and the journal's.
func (r *Request) Sync() bool { return strings.ContainsRune(r.RWBS, 'S') }

// ParseBlockTrace parses the text of a block-layer capture.
func ParseBlockTrace(info bundle.BlockTraceInfo, text []byte) *BlockTrace {
	bt := &BlockTrace{Info: info, Dirtied: map[procfs.Dev]map[Task]int64{}, Throttled: map[Task]Throttle{}, Commits: map[procfs.Dev]int{}}
	// Requests in flight by device and sector; a list, since flushes
	// share one key.
	open := map[requestKey][]*Request{}
	inserted := map[requestKey]*Request{}
	for len(text) > 0 {
		var line []byte
		line, text, _ = bytes.Cut(text, []byte{'\n'})
		bt.Lines++
		e, ok := ftrace.ParseLine(line)
		if !ok {
			bt.Malformed++
			continue
		}
		if bt.FirstNS == 0 {
			bt.FirstNS = e.TimeNS
		}
		bt.LastNS = e.TimeNS
		// The process, when the instance recorded it: a multi-threaded
		// writer's requests are its threads'.
		task := Task{e.PID, e.Comm}
		if e.TGID > 0 {
			task.PID = e.TGID
		}
		switch e.Name {
		case "block_rq_insert", "block_rq_issue":
			r, err := ftrace.ParseRequest(e.Fields, false)
			if err != nil || !r.HasSectorRange {
				bt.Malformed++
				continue
			}
			k := reqKey(r)
			if e.Name == "block_rq_insert" {
				inserted[k] = &Request{Dev: k.dev, RWBS: r.RWBS, Bytes: r.Bytes, Sector: r.Sector, InsertNS: e.TimeNS, Task: task}
				continue
			}
			req := inserted[k]
			if req != nil {
				delete(inserted, k)
			} else {
				req = &Request{Dev: k.dev, RWBS: r.RWBS, Bytes: r.Bytes, Sector: r.Sector, Task: task}
			}
			req.IssueNS = e.TimeNS
			open[k] = append(open[k], req)
		case "block_rq_complete":
			r, err := ftrace.ParseRequest(e.Fields, true)
			if err != nil || !r.HasSectorRange {
				bt.Malformed++
				continue
			}
			k := reqKey(r)
			reqs := open[k]
			if len(reqs) == 0 {
				bt.Unmatched++
				continue
			}
			req := reqs[0]
			if len(reqs) == 1 {
				delete(open, k)
			} else {
				open[k] = reqs[1:]
			}
			req.CompleteNS, req.Error = e.TimeNS, r.Error
			bt.Requests = append(bt.Requests, *req)
		case "writeback_dirty_folio", "writeback_dirty_page":
			d, err := ftrace.ParseDirty(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			bdi := d.BDI
			if bt.Dirtied[bdi] == nil {
				bt.Dirtied[bdi] = map[Task]int64{}
			}
			bt.Dirtied[bdi][task]++
		case "balance_dirty_pages":
			th, err := ftrace.ParseThrottle(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			t := bt.Throttled[task]
			t.Pauses++
			t.PauseMS += th.PauseMS
			bt.Throttled[task] = t
		case "jbd2_end_commit":
			c, err := ftrace.ParseCommit(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			bt.Commits[c.Dev]++
		}
	}
	return bt
}

// Seconds is the span the trace covers.
// requestKey matches a request's events: its device and first sector.
type requestKey struct {
	dev    procfs.Dev
	sector uint64
}

// flushSector keys every zero-length request (a cache flush): the kernel
// issues one at sector 0 and completes it at sector -1.
const flushSector = ^uint64(0)

func reqKey(r ftrace.Request) requestKey {
	if r.Sectors == 0 {
		return requestKey{r.Dev, flushSector}
	}
	return requestKey{r.Dev, r.Sector}
}

// Flush reports a cache flush or FUA request: what fsync and O_SYNC cost
// beyond the data.
func (r *Request) Flush() bool { return strings.ContainsRune(r.RWBS, 'F') }

func (bt *BlockTrace) Seconds() float64 {
	if bt.Info.Seconds > 0 {
		return bt.Info.Seconds
	}
	return float64(bt.LastNS-bt.FirstNS) / 1e9
}

// KernelTask reports tasks that issue IO on others' behalf: writeback
// kworkers (and the loop driver's), the journal, the idle task.
func KernelTask(comm string) bool {
	return strings.HasPrefix(comm, "kworker") || strings.HasPrefix(comm, "jbd2/") || comm == "<idle>" ||
		strings.HasPrefix(comm, "loop") || strings.HasPrefix(comm, "ksoftirqd") || strings.HasPrefix(comm, "flush-") || comm == "swapper"
}

// JournalTask reports the ext4/jbd2 journal thread.
func JournalTask(comm string) bool { return strings.HasPrefix(comm, "jbd2/") }
