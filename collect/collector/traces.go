package collector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/spill"
	"github.com/iorca/iorca/collect/stracerun"
)

type traceDone struct {
	t   *target
	res stracerun.Result
}

// notTargets are the processes a selection must pass over: the
// collector, the targets it has, and the tracers it started (strace
// writes its output fast and would rank as a writer, and a strace would
// end up tracing the strace that traces the culprit — metadata-scan's
// first capture).
func notTargets(self int, have []*target, tracers []int) map[int]bool {
	exclude := map[int]bool{self: true}
	for _, t := range have {
		exclude[t.pid] = true
	}
	for _, pid := range tracers {
		exclude[pid] = true
	}
	return exclude
}

// selectAndTrace picks targets from a window of samples, describes each
// and starts its trace. The first window picks the top processes and the
// --pid ones; each later window (the same length, while a trace would
// still fit before the end) adds the top processes that started during it
// — a writer that starts after the first selection is still a target.
func (c *collection) selectAndTrace(first, last map[int]*procSnap, tick int) {
	later := c.selected
	c.selected = true
	exclude := notTargets(c.sampler.self, c.targets, c.tracerPIDs())
	pids := c.cfg.PIDs
	if later {
		pids = nil
	}
	if c.blockTrace != nil {
		if c.devTime == nil {
			c.devTime = newDeviceTimer()
			c.devTime.seen = c.sampler.table.parent
		}
		if err := c.blockTrace.Follow(c.devTime.addEvent); err != nil {
			c.ledger.problem(bundle.Problem{Source: "block-trace", Status: bundle.StatusPartial, Tick: tick,
				What: "the block trace could not be read for target selection", Why: err.Error()})
		}
		if d := c.devTime; d.forksDropped > 0 && !d.forksNoted {
			d.forksNoted = true
			c.bound(bundle.Bound{Name: "selection-forks", Limit: maxForks,
				What: fmt.Sprintf("target selection kept the first %d fork events of the block trace; a short-lived sync caller started later is credited to its agent by the process table only", maxForks)})
		}
	}
	targets := selectTargets(first, last, c.devTime, c.cfg.Top, pids, exclude, later, c.maxIOWait())
	for _, t := range targets {
		t.info.PID, t.info.Comm, t.info.StartTicks, t.info.SelectedTick = t.pid, t.comm, t.start, tick
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", t.pid)); err != nil {
			t.gone = true
			c.ledger.problem(bundle.Problem{Source: "targets", PID: t.pid, Status: capture.Classify(err), Tick: tick,
				What: fmt.Sprintf("target %d does not exist at tick %d", t.pid, tick), Why: err.Error()})
			continue
		}
		c.captureTarget(t, tick)
	}
	c.targets = append(c.targets, targets...)
	c.sampler.targets = c.targets
	if !c.cfg.Strace || len(targets) == 0 {
		return
	}
	if c.strace == nil {
		path := c.cfg.StracePath
		if path == "" {
			p, err := stracerun.LookPath()
			if err != nil {
				c.ledger.problem(bundle.Problem{Source: "strace", Status: bundle.StatusAbsent, Tick: tick,
					What: "strace is not installed or not on PATH: no syscall traces", Why: err.Error()})
				c.cfg.Strace = false
				return
			}
			path = p
		}
		// The traces run in the background while ticks go on; they stop
		// at their own bounds or when the collection ends.
		tctx, cancel := context.WithCancelCause(context.Background())
		c.stopTrace = cancel
		sr := &straceRun{ctx: tctx}
		sr.cfg = stracerun.Config{Path: path, Duration: c.cfg.StraceDuration, MaxBytes: c.cfg.StraceMaxBytes, Redact: c.cfg.Redact,
			SpillDirs: spillDirs(c.cfg.Output), Started: sr.addTracer}
		c.strace = sr
	}
	for _, t := range targets {
		if t.gone {
			continue
		}
		c.tracing++
		c.active.Add(1)
		go func(t *target) {
			res := stracerun.Run(c.strace.ctx, t.pid, c.strace.cfg)
			c.active.Add(-1)
			c.traces <- traceDone{t: t, res: res}
		}(t)
	}
}

// straceRun is what every trace of a collection shares.
type straceRun struct {
	ctx context.Context
	cfg stracerun.Config
	// tracers are the PIDs of the straces started, told by each trace's
	// goroutine.
	mu      sync.Mutex
	tracers []int
}

// runningTraces counts the traces still attached.
func (c *collection) runningTraces() int { return int(c.active.Load()) }

// finishTrace stores one trace and its facts.
func (c *collection) finishTrace(d traceDone) {
	t, res := d.t, d.res
	defer res.Output.Close()
	info := res.Info
	if res.Output.Len() > 0 || info.Status == bundle.StatusOK {
		info.Member = bundle.TraceMember(t.pid)
		text, size := res.Output.Reader, res.Output.Len()
		if r := c.table.redactor; r != nil && r.HasPatterns() {
			// Without payloads (-s 0) only user patterns can match. The
			// masked copy streams to a spill file of its own, as the
			// trace did: neither is ever whole in the heap.
			masked := spill.New(spillDirs(c.cfg.Output)...)
			defer masked.Close()
			w := bufio.NewWriterSize(masked, 256<<10)
			what, err := r.LinesTo(w, text(), true)
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				// Never keep a trace that may hold what the user asked
				// to mask.
				c.ledger.problem(bundle.Problem{Source: "strace", PID: t.pid, Status: bundle.StatusFailed,
					What: fmt.Sprintf("the trace of %d could not be masked and was not kept", t.pid), Why: err.Error()})
				info.Member = ""
			} else {
				c.table.log(t.pid, info.Member, what)
				text, size = func() io.Reader { return masked.Reader(-1) }, masked.Len()
			}
		}
		if info.Member != "" {
			c.store.putFrom(info.Member, size, text)
			meta, _ := json.MarshalIndent(info, "", "  ")
			c.store.put(bundle.TraceMetaMember(t.pid), append(meta, '\n'))
		}
	}
	if info.Status != bundle.StatusOK {
		c.ledger.problem(bundle.Problem{Source: "strace", PID: t.pid, Status: info.Status,
			What: fmt.Sprintf("strace of %d (%s) did not run as planned (%s)", t.pid, t.comm, info.StopReason), Why: info.Stderr})
	}
	if info.StopReason == "max-bytes" {
		c.bound(bundle.Bound{Name: "strace-max-bytes", Limit: c.cfg.StraceMaxBytes,
			What: fmt.Sprintf("strace of %d stopped after %.1fs at %d bytes", t.pid, info.TracedSeconds, info.Bytes)})
	}
	if st, err := stracerun.ProcessState(t.pid); err == nil && (st == 'T' || st == 't') && !info.WasStopped {
		c.ledger.problem(bundle.Problem{Source: "strace", PID: t.pid, Status: bundle.StatusFailed,
			What: fmt.Sprintf("process %d is in state %c after strace detached and SIGCONT", t.pid, st)})
	}
	c.ledger.time("strace", time.Duration(info.TracedSeconds*float64(time.Second)))
	t.info.Strace = &info
}

// addTracer records a strace the collection started.
func (s *straceRun) addTracer(pid int) {
	s.mu.Lock()
	s.tracers = append(s.tracers, pid)
	s.mu.Unlock()
}

// tracerPIDs are the straces the collection started so far.
func (c *collection) tracerPIDs() []int {
	if c.strace == nil {
		return nil
	}
	c.strace.mu.Lock()
	defer c.strace.mu.Unlock()
	return slices.Clone(c.strace.tracers)
}

// maxIOWait is the most block-IO delay (clock ticks) a task can have
// counted since the collector turned delay accounting on, with a
// second's slack; 0 when it was on before. A wait begun while it was off
// ends counted from time zero — field 42 jumps by about the uptime — and
// would rank a sync(1) first "by block-IO wait" (seen: 4,944,656 ticks
// in a 2 s window).
func (c *collection) maxIOWait() int64 {
	if c.delayAcctOn.IsZero() {
		return 0
	}
	hz := int64(max(c.userHZ, 1))
	return int64(time.Since(c.delayAcctOn).Seconds()*float64(hz)) + hz
}
