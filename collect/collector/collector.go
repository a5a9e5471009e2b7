package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/strace"
)

// Result describes a written bundle.
type Result struct {
	// Path is where the bundle was written; it differs from the requested
	// output when the fallback directory was used.
	Path       string
	FellBack   bool
	Size       int64
	Manifest   *bundle.Manifest
	Incomplete bool
}

// collection is the state of one run.
type collection struct {
	cfg       Config
	rec       *recorder
	store     *store
	sampler   *sampler
	table     *procTable
	bounds    []bundle.Bound
	targets   []*target
	traces    chan traceDone
	tracing   int          // traces started and not yet collected
	active    atomic.Int32 // traces still running
	stopTrace context.CancelCauseFunc
}

type traceDone struct {
	t   *target
	res strace.Result
}

func (c *collection) bound(b bundle.Bound) { c.bounds = append(c.bounds, b) }

// Run performs one collection and writes its bundle. Cancelling ctx stops
// sampling early; the bundle is still written, marked partial, with the
// cause of the cancellation as the reason. An error means no bundle.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := prepareOutput(&cfg); err != nil {
		return nil, err
	}
	nice, ioprio := lowerPriority()
	start := capture.Now()

	c := &collection{cfg: cfg, rec: newRecorder(), store: newStore(start.Wall), table: newProcTable(cfg.Redact), traces: make(chan traceDone, 64)}
	c.sampler = &sampler{rec: c.rec, table: c.table, self: os.Getpid()}
	m := &bundle.Manifest{
		Collector: bundle.Collector{Name: "iorca-collect", Version: cfg.Version, Go: runtime.Version(), Nice: nice, IOPriority: ioprio, UID: os.Geteuid(), PID: os.Getpid()},
		Host:      hostInfo(),
		Start:     start,
		Options: bundle.Options{
			Duration: bundle.Duration(cfg.Duration), Interval: bundle.Duration(cfg.Interval), PIDs: cfg.PIDs, Top: cfg.Top,
			SelectAfter: bundle.Duration(cfg.SelectAfter), Strace: cfg.Strace, StraceDuration: bundle.Duration(cfg.StraceDuration),
			StraceMaxBytes: cfg.StraceMaxBytes, MaxBundleBytes: cfg.MaxBundleBytes, Redact: cfg.Redact,
		},
		Targets: []bundle.Target{}, Errors: []bundle.Problem{}, Bounds: []bundle.Bound{},
	}
	if m.Options.PIDs == nil {
		m.Options.PIDs = []int{}
	}

	mounts := c.captureHost()
	c.sampler.cgroups = newCgroupSet(mounts)
	c.captureStatfs(mounts)

	ticks, tickCPU := c.sampleTicks(ctx, m)

	// Stop the traces still running and collect every result.
	cause := strace.ErrCollectionEnd
	if ctx.Err() != nil {
		cause = strace.ErrInterrupted
	}
	if c.stopTrace != nil {
		c.stopTrace(cause)
	}
	for ; c.tracing > 0; c.tracing-- {
		c.finishTrace(<-c.traces)
	}

	kmsg, st, err := readKmsg()
	c.rec.read("kmsg", "/dev/kmsg", 0, 0, st, err)
	c.store.put(bundle.KmsgMember, kmsg)
	c.captureCgroupLimits()
	if c.sampler.cgroupBound {
		c.bound(bundle.Bound{Name: "cgroups", Limit: maxCgroups, What: "more cgroups hold processes than are sampled; the rest were left out"})
	}
	if c.table.full {
		c.bound(bundle.Bound{Name: "process-table", Limit: maxTableEntries, What: "the process table is full; later processes are sampled but not described"})
	}
	c.store.put(bundle.ProcTableMember, c.table.frames)

	m.End = capture.Now()
	m.Ticks = ticks
	for _, t := range c.targets {
		m.Targets = append(m.Targets, t.info)
	}
	user, sys, rss := rusage(syscall.RUSAGE_SELF)
	m.Cost = bundle.Cost{UserSeconds: user, SystemSeconds: sys, MaxRSSKiB: rss, MemoryBytes: c.store.peak}
	if ticks > 0 {
		m.Cost.TickCPUMS = tickCPU / float64(ticks) * 1000
		m.Cost.ProcessesPerTick = float64(c.sampler.procsSampled) / float64(ticks)
	}
	m.Redaction = bundle.Redaction{Enabled: cfg.Redact, Environment: "never collected", MaskedArgs: c.table.masked,
		Log: c.table.redacted, LogTruncated: c.table.masked > len(c.table.redacted)}
	if cfg.Redact {
		m.Redaction.StracePayloads = "dropped: strace -s 0 keeps file names and byte counts, no buffer contents"
	} else {
		m.Redaction.StracePayloads = "kept: the first 32 bytes of each buffer (strace -s 32)"
	}

	if err := c.fit(m); err != nil {
		return nil, err
	}
	var size int64
	path, fellBack, err := writeOutput(&cfg, func(w io.Writer) error {
		n, err := c.store.write(w, m)
		size = n
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Result{Path: path, FellBack: fellBack, Size: size, Manifest: m, Incomplete: Incomplete(m) || fellBack}, nil
}

// sampleTicks runs the tick loop and returns how many ticks were taken and
// the CPU seconds they cost.
func (c *collection) sampleTicks(ctx context.Context, m *bundle.Manifest) (int, float64) {
	cfg := &c.cfg
	n, sel := cfg.ticks(), cfg.selectTick()
	// Sampling stops when the compressed ticks fill this much of the
	// bundle bound, keeping the rest for traces and the once-only files.
	budget := cfg.MaxBundleBytes * 7 / 10
	start := time.Now()
	var first, last map[int]*procSnap
	var cpu float64
	done := 0
	for k := 0; k < n; k++ {
		due := start.Add(time.Duration(k) * cfg.Interval)
		if !sleepUntil(ctx, due) {
			break
		}
		switch k {
		case 0:
			first = map[int]*procSnap{}
			c.sampler.snap = first
		case sel:
			last = map[int]*procSnap{}
			c.sampler.snap = last
		}
		u0, s0, _ := rusage(syscall.RUSAGE_SELF)
		frames := c.sampler.tick(k)
		u1, s1, _ := rusage(syscall.RUSAGE_SELF)
		c.sampler.snap = nil
		cpu += (u1 - u0) + (s1 - s0)
		c.store.put(bundle.TickMember(k), frames)
		done++
		if k == sel {
			c.selectAndTrace(first, last, k)
			first, last = nil, nil
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Elapsed: time.Since(start), Duration: cfg.Duration, Tick: k + 1, Ticks: n, Targets: len(c.targets), Tracing: c.runningTraces()})
		}
		if c.store.compressed() > budget && k < n-1 {
			m.Partial = true
			m.PartialReason = fmt.Sprintf("sampling stopped after tick %d of %d: the bundle would exceed --max-bundle-bytes", k+1, n)
			c.bound(bundle.Bound{Name: "max-bundle-bytes", Limit: cfg.MaxBundleBytes, What: m.PartialReason})
			break
		}
	}
	if ctx.Err() != nil {
		m.Partial = true
		why := "interrupted"
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			why = cause.Error()
		}
		m.PartialReason = fmt.Sprintf("%s after %d of %d ticks", why, done, n)
	}
	return done, cpu
}

// sleepUntil waits for t; it returns false if ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// selectAndTrace picks the targets after the first window, describes each,
// and starts their traces.
func (c *collection) selectAndTrace(first, last map[int]*procSnap, tick int) {
	exclude := map[int]bool{c.sampler.self: true}
	targets := selectTargets(first, last, c.cfg.Top, c.cfg.PIDs, exclude)
	for _, t := range targets {
		t.info.PID, t.info.Comm, t.info.StartTicks, t.info.SelectedTick = t.pid, t.comm, t.start, tick
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", t.pid)); err != nil {
			t.gone = true
			c.rec.problem(bundle.Problem{Source: "targets", PID: t.pid, Status: capture.Classify(err), Tick: tick,
				What: fmt.Sprintf("target %d does not exist at tick %d", t.pid, tick), Why: err.Error()})
			continue
		}
		c.captureTarget(t, tick)
	}
	c.targets = targets
	c.sampler.targets = targets
	if !c.cfg.Strace {
		return
	}
	path := c.cfg.StracePath
	if path == "" {
		p, err := strace.LookPath()
		if err != nil {
			c.rec.problem(bundle.Problem{Source: "strace", Status: bundle.StatusAbsent, Tick: tick,
				What: "strace is not installed or not on PATH: no syscall traces", Why: err.Error()})
			return
		}
		path = p
	}
	// The traces run in the background while ticks go on; they stop at
	// their own bounds or when the collection ends.
	tctx, cancel := context.WithCancelCause(context.Background())
	c.stopTrace = cancel
	scfg := strace.Config{Path: path, Duration: c.cfg.StraceDuration, MaxBytes: c.cfg.StraceMaxBytes, Redact: c.cfg.Redact}
	for _, t := range targets {
		if t.gone {
			continue
		}
		c.tracing++
		c.active.Add(1)
		go func(t *target) {
			res := strace.Run(tctx, t.pid, scfg)
			c.active.Add(-1)
			c.traces <- traceDone{t: t, res: res}
		}(t)
	}
}

// runningTraces counts the traces still attached.
func (c *collection) runningTraces() int { return int(c.active.Load()) }

// finishTrace stores one trace and its facts.
func (c *collection) finishTrace(d traceDone) {
	t, res := d.t, d.res
	info := res.Info
	if len(res.Output) > 0 || info.Status == bundle.StatusOK {
		info.Member = bundle.TraceMember(t.pid)
		c.store.put(info.Member, res.Output)
		meta, _ := json.MarshalIndent(info, "", "  ")
		c.store.put(bundle.TraceMetaMember(t.pid), append(meta, '\n'))
	}
	if info.Status != bundle.StatusOK {
		c.rec.problem(bundle.Problem{Source: "strace", PID: t.pid, Status: info.Status,
			What: fmt.Sprintf("strace of %d (%s) did not run as planned (%s)", t.pid, t.comm, info.StopReason), Why: info.Stderr})
	}
	if info.StopReason == "max-bytes" {
		c.bound(bundle.Bound{Name: "strace-max-bytes", Limit: c.cfg.StraceMaxBytes,
			What: fmt.Sprintf("strace of %d stopped after %.1fs at %d bytes", t.pid, info.TracedSeconds, info.Bytes)})
	}
	if st, err := strace.ProcessState(t.pid); err == nil && (st == 'T' || st == 't') {
		c.rec.problem(bundle.Problem{Source: "strace", PID: t.pid, Status: bundle.StatusFailed,
			What: fmt.Sprintf("process %d is in state %c after strace detached and SIGCONT", t.pid, st)})
	}
	c.rec.time("strace", time.Duration(info.TracedSeconds*float64(time.Second)))
	t.info.Strace = &info
}

// Incomplete reports whether a bundle misses data it was meant to have:
// interrupted or cut short, data dropped to fit the bound, strace
// unavailable, or reads denied, failed or timed out. A process that exited
// or a file this kernel does not have (no PSI) is recorded, but is not a
// gap in the collection.
func Incomplete(m *bundle.Manifest) bool {
	if m.Partial {
		return true
	}
	for _, p := range m.Errors {
		switch {
		case p.Status == bundle.StatusDenied, p.Status == bundle.StatusFailed, p.Status == bundle.StatusTimeout:
			return true
		case p.Source == "strace":
			return true
		}
	}
	for _, b := range m.Bounds {
		if len(b.Dropped) > 0 {
			return true
		}
	}
	return false
}

// fit makes the bundle fit MaxBundleBytes. When it does not, it drops
// members in order of least use to a diagnosis — trace texts (largest
// first, each cut to its beginning when enough of it can stay), the
// kernel log, target descriptions, then the last ticks — and records each
// drop in the manifest. The members are already compressed as they will be
// written, so each size is exact and nothing is written until it fits.
func (c *collection) fit(m *bundle.Manifest) error {
	var dropped []string
	drops := c.dropOrder()
	for {
		m.Sources, m.Errors = c.rec.finish()
		m.Bounds = append([]bundle.Bound(nil), c.bounds...)
		if len(dropped) > 0 {
			m.Bounds = append(m.Bounds, bundle.Bound{Name: "max-bundle-bytes", Limit: c.cfg.MaxBundleBytes,
				What: fmt.Sprintf("%d members dropped to fit the bound", len(dropped)), Dropped: dropped})
			if !m.Partial {
				for _, d := range dropped {
					if bundle.KindOf(d) == bundle.KindTick {
						m.Partial = true
						m.PartialReason = "ticks dropped to fit --max-bundle-bytes"
						break
					}
				}
			}
		}
		size, err := c.store.bundleSize(m)
		if err != nil {
			return err
		}
		if size <= c.cfg.MaxBundleBytes {
			return nil
		}
		over := size - c.cfg.MaxBundleBytes
		for over > 0 {
			if len(drops) == 0 {
				return fmt.Errorf("the bundle does not fit in --max-bundle-bytes %d even with every optional member dropped", c.cfg.MaxBundleBytes)
			}
			name := drops[0]
			z := c.store.size(name)
			if z == 0 {
				drops = drops[1:]
				continue
			}
			if bundle.IsTraceText(name) {
				// A trace is cut, keeping its beginning, rather than
				// lost whole: its first seconds are the evidence.
				if note, saved, ok := c.cutTrace(m, name, over); ok {
					over -= saved
					dropped = append(dropped, note)
					continue
				}
			}
			drops = drops[1:]
			over -= z
			c.store.remove(name)
			dropped = append(dropped, name)
			if bundle.IsTraceText(name) {
				c.markTraceDropped(m, name, 0, 0)
			}
		}
	}
}

// minTraceKeep is the least of a trace worth keeping rather than dropping.
const minTraceKeep = 16 << 10

// cutTrace shortens a stored trace by enough raw bytes to save about over
// compressed bytes, at a line boundary. It returns a note for the
// manifest, the compressed bytes saved, and false when what would remain
// is too short to keep.
func (c *collection) cutTrace(m *bundle.Manifest, name string, over int64) (string, int64, bool) {
	raw, ok := c.store.get(name)
	before := c.store.size(name)
	if !ok || before == 0 {
		return "", 0, false
	}
	ratio := float64(len(raw)) / float64(before)
	keep := len(raw) - int(float64(over)*ratio*1.2) - 1
	if keep < minTraceKeep {
		return "", 0, false
	}
	cut := raw[:keep]
	if i := bytes.LastIndexByte(cut, '\n'); i >= 0 {
		cut = cut[:i+1]
	}
	c.store.put(name, cut)
	c.markTraceDropped(m, name, int64(len(cut)), bytes.Count(cut, []byte{'\n'}))
	return fmt.Sprintf("%s (cut to %d of %d bytes)", name, len(cut), len(raw)), before - c.store.size(name), true
}

// dropOrder lists the members that may be dropped, first to go first.
func (c *collection) dropOrder() []string {
	var traces, procs, ticks []string
	for _, name := range c.store.names() {
		switch bundle.KindOf(name) {
		case bundle.KindTrace:
			if bundle.IsTraceText(name) {
				traces = append(traces, name)
			}
		case bundle.KindTarget:
			procs = append(procs, name)
		case bundle.KindTick:
			ticks = append(ticks, name)
		}
	}
	sort.Slice(traces, func(i, j int) bool {
		if a, b := c.store.rawSize(traces[i]), c.store.rawSize(traces[j]); a != b {
			return a > b
		}
		return traces[i] < traces[j]
	})
	slices.Reverse(ticks) // the last ticks go first
	out := append(traces, bundle.KmsgMember)
	out = append(out, procs...)
	// Keep at least two ticks: one interval is the least an analysis needs.
	if len(ticks) > 2 {
		out = append(out, ticks[:len(ticks)-2]...)
	}
	return out
}

// markTraceDropped updates the target whose trace text was cut to kept
// bytes, or dropped when kept is 0.
func (c *collection) markTraceDropped(m *bundle.Manifest, name string, kept int64, lines int) {
	for i := range m.Targets {
		if s := m.Targets[i].Strace; s != nil && s.Member == name {
			s.Status = bundle.StatusPartial
			s.Truncated = true
			s.Bytes, s.Lines = kept, lines
			if kept == 0 {
				s.Member = ""
			}
		}
	}
}
