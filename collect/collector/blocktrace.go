package collector

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/blocktrace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/ftrace"
)

// startBlockTrace starts the block-layer capture for the run, or returns
// nil when it is off.
func (c *collection) startBlockTrace() *blocktrace.Tracer {
	if !c.cfg.BlockTrace {
		return nil
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	cfg := blocktrace.Config{Duration: c.cfg.BlockTraceDuration, MaxBytes: c.cfg.BlockTraceMaxBytes,
		BufferKB: blockTraceBufferKB, Mountinfo: mi}
	if c.node != nil {
		cfg.Shared = c.node
	}
	tr := blocktrace.Start(cfg)
	if root := tr.Tracefs(); c.node != nil && root != "" {
		// Instances of collectors killed before the state files existed.
		c.repaired = append(c.repaired, c.node.Stragglers(root)...)
	}
	return tr
}

// finishBlockTrace stops the capture, stores its members and records
// its outcome like any other source's.
func (c *collection) finishBlockTrace(tr *blocktrace.Tracer, m *bundle.Manifest, reason string) {
	if tr == nil {
		return
	}
	res := tr.Stop(reason)
	info := res.Info
	m.BlockTrace = &info
	c.ledger.time("block-trace", secondsDuration(info.Seconds))
	if len(res.Output) > 0 || info.Status == bundle.StatusOK {
		c.store.put(bundle.BlockTraceMember, res.Output)
	}
	if len(res.Formats) > 0 {
		c.store.put(bundle.TraceFormatsMember, res.Formats)
	}
	// Now, while the files the flushers wrote are still open.
	c.captureOpenWriters(res.Output)
	st := info.Status
	if st == bundle.StatusOK {
		c.ledger.source("block-trace").Items++
	} else {
		c.ledger.problem(bundle.Problem{Source: "block-trace", Status: st,
			What: fmt.Sprintf("the block-layer trace did not run as planned (%s)", info.StopReason), Why: info.Error})
	}
	if len(info.Missing) > 0 {
		c.ledger.problem(bundle.Problem{Source: "block-trace", Status: bundle.StatusAbsent,
			What: "events this kernel does not have: " + strings.Join(info.Missing, ", ")})
	}
	if info.Truncated {
		c.bound(bundle.Bound{Name: "block-trace-max-bytes", Limit: c.cfg.BlockTraceMaxBytes,
			What: fmt.Sprintf("the block-layer trace stopped after %.1fs at %d bytes", info.Seconds, info.Bytes)})
	}
	if info.Overruns > 0 {
		c.bound(bundle.Bound{Name: "block-trace-buffer", Limit: blockTraceBufferKB << 10,
			What: fmt.Sprintf("%d events were lost: the trace reader fell behind the per-CPU buffers", info.Overruns)})
	}
}

// deviceTime sums, per issuing process, the service time (issue to
// completion) of the block requests in a trace so far: the processes that
// hold a device's time by their own synchronous and direct requests.
// Writeback and journal requests issued by kernel threads are left to the
// analyzer, which ties them back to their cause.
func deviceTime(trace []byte) map[int]int64 {
	match := ftrace.NewMatcher()
	out := map[int]int64{}
	for len(trace) > 0 {
		var line []byte
		line, trace, _ = bytes.Cut(trace, []byte{'\n'})
		e, ok := ftrace.ParseLine(line)
		if !ok || !ftrace.IsBlockRequest(e.Name) {
			continue
		}
		if r, done, err := match.Add(e); err == nil && done && !ftrace.KernelTask(r.Comm) {
			out[r.PID] += r.CompleteNS - r.IssueNS
		}
	}
	return out
}

func secondsDuration(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
