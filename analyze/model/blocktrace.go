package model

import (
	"bytes"
	"fmt"
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
	// DirtiedInode counts the same pages by inode, and Written the pages
	// the flushers wrote of each inode (writeback_single_inode): what the
	// writeback of a device was the writeback of.
	DirtiedInode map[procfs.Dev]map[uint64]map[Task]int64
	Written      map[procfs.Dev]map[uint64]int64
	// Throttled is balance_dirty_pages per task: how long writers were
	// held back because dirty memory was over its limit.
	Throttled map[Task]Throttle
	// Commits counts jbd2 commits per device.
	Commits map[procfs.Dev]int
	// SyncCalls are the user tasks' sync() and syncfs() calls, by the
	// work they queued; Passes the flushers' writeback passes, each with
	// why it ran (syncforce.go). Bundles before issue 24 have neither.
	SyncCalls []SyncCall
	Passes    []FlusherPass
	// ForkedBy is the process that started each task the trace saw
	// start (sched_process_fork), by the child's PID: who ran a sync(1)
	// too short-lived for any tick to see. Bundles before it have none.
	ForkedBy ftrace.Forks
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
	// BDI is the backing device of its latest pause: whose dirty limit
	// held it.
	BDI procfs.Dev
}

// Request is one block request from issue to completion.
type Request struct {
	ftrace.Matched
	// HeldNS is the part of its device's busy time it held (hold.go):
	// its residence less the time it waited behind other requests.
	HeldNS int64
	// UnloadedNS is what a request of its class took on its device
	// with nothing else in flight (hold.go unloadedService): the part of
	// its residence that was service, however the device overlapped it
	// with others.
	UnloadedNS int64
}

// WaitNS is how long the request waited: in the scheduler's queue
// (insert to issue) and in flight behind other requests (inFlightWaitNS).
func (r *Request) WaitNS() int64 { return r.QueueNS() + r.inFlightWaitNS() }

// Task is who put the request in the queue: the application for
// synchronous and direct IO, a kworker for writeback, jbd2 for the
// journal.
func (r *Request) Task() Task { return Task{r.PID, r.Comm} }

// ParseBlockTrace parses the text of a block-layer capture.
func ParseBlockTrace(info bundle.BlockTraceInfo, text []byte) *BlockTrace {
	bt := &BlockTrace{Info: info, Dirtied: map[procfs.Dev]map[Task]int64{}, Throttled: map[Task]Throttle{}, Commits: map[procfs.Dev]int{},
		DirtiedInode: map[procfs.Dev]map[uint64]map[Task]int64{}, Written: map[procfs.Dev]map[uint64]int64{}}
	match := ftrace.NewMatcher()
	var work syncWork
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
		task := Task{e.Process(), e.Comm}
		if ftrace.IsBlockRequest(e.Name) {
			m, done, err := match.Add(e)
			switch {
			case err != nil:
				bt.Malformed++
			case done:
				bt.Requests = append(bt.Requests, Request{Matched: m})
			}
			continue
		}
		switch e.Name {
		case "writeback_dirty_folio", "writeback_dirty_page":
			d, err := ftrace.ParseDirty(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			bdi := d.BDI
			if bt.Dirtied[bdi] == nil {
				bt.Dirtied[bdi] = map[Task]int64{}
				bt.DirtiedInode[bdi] = map[uint64]map[Task]int64{}
			}
			bt.Dirtied[bdi][task]++
			if bt.DirtiedInode[bdi][d.Ino] == nil {
				bt.DirtiedInode[bdi][d.Ino] = map[Task]int64{}
			}
			bt.DirtiedInode[bdi][d.Ino][task]++
		case "writeback_single_inode":
			w, err := ftrace.ParseSingleInode(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			if w.Wrote > 0 {
				if bt.Written[w.BDI] == nil {
					bt.Written[w.BDI] = map[uint64]int64{}
				}
				bt.Written[w.BDI][w.Ino] += w.Wrote
			}
		case "balance_dirty_pages":
			th, err := ftrace.ParseThrottle(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			t := bt.Throttled[task]
			t.Pauses++
			t.PauseMS += th.PauseMS
			t.BDI = th.BDI
			bt.Throttled[task] = t
		case "writeback_queue", "writeback_start", "writeback_written":
			if err := work.add(e.Name, e, task); err != nil {
				bt.Malformed++
			}
		case "sched_process_fork":
			if bt.ForkedBy == nil {
				bt.ForkedBy = ftrace.Forks{}
			}
			if !bt.ForkedBy.Add(e) {
				bt.Malformed++
			}
		case "jbd2_end_commit":
			c, err := ftrace.ParseCommit(e.Fields)
			if err != nil {
				bt.Malformed++
				continue
			}
			bt.Commits[c.Dev]++
		}
	}
	bt.Unmatched = match.Unmatched
	bt.SyncCalls, bt.Passes = work.calls, work.passes
	bt.hold()
	return bt
}

// Seconds is the span the trace covers.
func (bt *BlockTrace) Seconds() float64 {
	if bt.Info.Seconds > 0 {
		return bt.Info.Seconds
	}
	return float64(bt.LastNS-bt.FirstNS) / 1e9
}

// OtherTracersNote says which other tracers the collector found when the
// block trace began, and what they do to its figures; "" when none. A
// BPF program on a block tracepoint runs before ftrace stamps the event
// (12-16 µs at completion measured on a 2-CPU VM, so latencies of a
// fast device read a quarter to a third high); another instance with the
// same events enabled adds its own recording to each event.
func (bt *BlockTrace) OtherTracersNote() string {
	var names []string
	for _, o := range bt.Info.OtherTracers {
		switch {
		case o.Instance == "/":
			names = append(names, "the top-level tracefs instance ("+strings.Join(o.Events, ", ")+")")
		case o.Instance != "":
			names = append(names, "tracefs instance "+o.Instance+" ("+strings.Join(o.Events, ", ")+")")
		default:
			names = append(names, fmt.Sprintf("PID %d %s (%s)", o.PID, o.Comm, plural(o.BPFProgs, "BPF program")+", "+plural(o.BPFLinks, "BPF link")))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "Other tracers were attached when the block trace began: " + strings.Join(names, "; ") +
		". A BPF program on a block tracepoint runs before ftrace stamps the event, so the trace's request latencies (service, queue and wait) may read high by tens of µs each."
}

// LostShare is the share of the block trace's events lost from the
// per-CPU buffers because the reader fell behind (0 when none was).
func (bt *BlockTrace) LostShare() float64 {
	lost := float64(bt.Info.Overruns)
	if lost <= 0 {
		return 0
	}
	return lost / (lost + float64(bt.Info.Lines))
}

// LostNote says what events lost from the block trace mean for its
// figures, "" when none were lost.
func (bt *BlockTrace) LostNote() string {
	if bt.Info.Overruns <= 0 {
		return ""
	}
	return fmt.Sprintf("%d events (%.1f %% of the block trace) were lost from the kernel's per-CPU buffers because the reader fell behind: a request whose issue or completion was lost is left out, so device times, request counts and bytes read low; the shares between processes hold if the loss fell evenly, which a burst need not.", bt.Info.Overruns, bt.LostShare()*100)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
