package collector

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/blocktrace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/nodestate"
	"github.com/iorca/iorca/collect/redact"
	"github.com/iorca/iorca/collect/stracerun"
)

// Result describes a written bundle.
type Result struct {
	// Path is where the bundle was written; it differs from the requested
	// output when the fallback directory was used.
	Path     string
	FellBack bool
	// OutputErr is why the requested output failed when it fell back.
	OutputErr  error
	Size       int64
	Manifest   *bundle.Manifest
	Incomplete bool
	// Pruned are the older bundles removed from the output directory to
	// keep within --keep and --keep-bytes; PruneErr a failure doing so.
	Pruned   []string
	PruneErr error
}

// collection is the state of one run.
type collection struct {
	cfg Config
	// delayAcctOn is when the collector turned kernel.task_delayacct on
	// (zero when it was on already): no task can have counted more
	// block-IO delay since.
	delayAcctOn time.Time
	userHZ      int
	// statfs is the statfs member's content so far, statfsIDs the mount
	// IDs in it (unique on the node, whichever namespace sees them).
	statfs    []bundle.Statfs
	statfsIDs map[int]bool
	// node is the run's entry in the node's shared collector state;
	// repaired what it undid that dead collectors had left.
	node      *nodestate.Run
	repaired  []string
	ledger    *ledger
	store     *store
	sampler   *sampler
	table     *procTable
	bounds    []bundle.Bound
	targets   []*target
	traces    chan traceDone
	tracing   int          // traces started and not yet collected
	active    atomic.Int32 // traces still running
	stopTrace context.CancelCauseFunc
	// selected is set once the first window's targets are picked; strace
	// is what their traces share (nil until one starts).
	selected bool
	strace   *straceRun
	// blockTrace is the running block-layer capture, nil when off or
	// finished.
	blockTrace *blocktrace.Tracer
	// devTime is the device time per process of the block trace so far,
	// fed at each selection.
	devTime *deviceTimer
	// startClock is the clock of the bundle's first tick when a
	// recorder's window comes before the capture proper.
	startClock bundle.Clock
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
	node, repaired, nodeErr := beginNodeState(cfg.StateDir)
	defer node.End()

	var redactor *redact.Redactor
	if cfg.Redact {
		r, err := redact.New(cfg.RedactPatterns)
		if err != nil {
			return nil, err // Validate compiled them already
		}
		redactor = r
	}
	c := &collection{cfg: cfg, ledger: newLedger(), store: newStore(start.Wall, spillDirs(cfg.Output)...), table: newProcTable(redactor), traces: make(chan traceDone, 64), statfsIDs: map[int]bool{}}
	defer c.store.close()
	c.sampler = &sampler{ledger: c.ledger, table: c.table, self: os.Getpid()}
	m := &bundle.Manifest{
		Collector: bundle.Collector{Name: "iorca-collect", Version: cfg.Version, Go: runtime.Version(), Nice: nice, IOPriority: ioprio, UID: os.Geteuid(), PID: os.Getpid()},
		Host:      hostInfo(),
		Start:     start,
		Options: bundle.Options{
			Duration: bundle.Duration(cfg.Duration), Interval: bundle.Duration(cfg.Interval), PIDs: cfg.PIDs, Top: cfg.Top,
			SelectAfter: bundle.Duration(cfg.SelectAfter), Strace: cfg.Strace, StraceDuration: bundle.Duration(cfg.StraceDuration),
			StraceMaxBytes: cfg.StraceMaxBytes, MaxBundleBytes: cfg.MaxBundleBytes, Redact: cfg.Redact,
			BlockTrace: cfg.BlockTrace, BlockTraceDuration: bundle.Duration(cfg.BlockTraceDuration), BlockTraceMaxBytes: cfg.BlockTraceMaxBytes,
			SetDelayAcct: cfg.SetDelayAcct,
		},
		Targets: []bundle.Target{}, Errors: []bundle.Problem{}, Bounds: []bundle.Bound{},
	}
	if m.Options.PIDs == nil {
		m.Options.PIDs = []int{}
	}
	m.Node, m.Labels = cfg.Node, cfg.Labels
	c.node, c.repaired = node, repaired
	if nodeErr != nil {
		c.ledger.problem(bundle.Problem{Source: "node-state", Status: capture.Classify(nodeErr),
			What: "the node's shared collector state could not be used: what a killed collector left is not repaired, and a collector running at the same time is not coordinated with", Why: nodeErr.Error()})
	}
	m.Collector.OwnMountNS = ownMountNS()

	cs := &bundle.CaptureStart{How: bundle.StartManual}
	m.Capture = cs
	runDone := make(chan struct{})
	defer close(runDone)
	hungUp := watchHangUp(cfg.HungUp, runDone)
	if cfg.Trigger != nil {
		cs.Trigger = &bundle.TriggerInfo{Expression: cfg.Trigger.Text, For: cfg.TriggerFor, Wait: bundle.Duration(cfg.Wait)}
	}
	if cfg.Trigger != nil && cfg.Record == 0 {
		// Wait cheaply; the capture starts when the trigger fires.
		if err := c.waitTrigger(ctx, cs); err != nil {
			return nil, err
		}
		cs.How = bundle.StartTrigger
		m.Start = capture.Now()
	}

	m.DelayAcct = enableDelayAcct(c.node, cfg.SetDelayAcct)
	defer restoreDelayAcct(c.node, m.DelayAcct)
	if m.DelayAcct.Enabled && m.DelayAcct.Before != "1" {
		c.delayAcctOn, c.userHZ = time.Now(), m.Host.UserHZ
	}
	mounts := c.captureHost()
	c.sampler.cgroups = newCgroupSet(mounts)
	base, follow := 0, true
	if cfg.Record > 0 {
		var err error
		if base, follow, err = c.record(ctx, cs); err != nil {
			return nil, err
		}
		m.Start = c.startClock
		cs.StartTick = base - 1
		// What the recorder's window began with may have changed since:
		// the mount table and queues are read again for the capture.
		mounts = c.captureHost()
	}

	// The block trace, like the traces, starts with the capture proper.
	if follow {
		c.blockTrace = c.startBlockTrace()
	}
	// However the run ends, tracefs is left as it was found.
	defer func() {
		if c.blockTrace != nil {
			c.blockTrace.Stop("failed")
		}
	}()
	c.captureStatfs(mounts)

	ticks, tickCPU := base, 0.0
	if follow {
		var done int
		done, tickCPU = c.sampleTicks(ctx, m, base)
		ticks += done
	}
	reason := "collection-end"
	if ctx.Err() != nil {
		reason = "interrupted"
	}
	if c.blockTrace != nil {
		c.finishBlockTrace(c.blockTrace, m, reason)
		c.blockTrace = nil
	}
	restoreDelayAcct(c.node, m.DelayAcct)

	// Stop the traces still running and collect every result.
	cause := stracerun.ErrCollectionEnd
	if ctx.Err() != nil {
		cause = stracerun.ErrInterrupted
	}
	if c.stopTrace != nil {
		c.stopTrace(cause)
	}
	for ; c.tracing > 0; c.tracing-- {
		c.finishTrace(<-c.traces)
	}

	c.captureEnd()
	c.captureContainers()
	c.captureUsers(m.Collector.OwnMountNS)
	kmsg, st, err := readKmsg()
	c.ledger.read("kmsg", "/dev/kmsg", 0, 0, st, err)
	c.store.put(bundle.KmsgMember, kmsg)
	c.captureCgroupLimits()
	if c.sampler.cgroupBound {
		c.bound(bundle.Bound{Name: "cgroups", Limit: maxCgroups, What: "more cgroups hold processes than are sampled; the rest were left out"})
	}
	if c.table.full {
		c.bound(bundle.Bound{Name: "process-table", Limit: maxTableEntries, What: "the process table is full; later processes are sampled but not described"})
	}
	c.store.put(bundle.ProcTableMember, c.table.frames())

	m.End = capture.Now()
	m.Ticks = ticks
	for _, t := range c.targets {
		m.Targets = append(m.Targets, t.info)
	}
	user, sys, rss := rusage(syscall.RUSAGE_SELF)
	m.Cost = bundle.Cost{UserSeconds: user, SystemSeconds: sys, MaxRSSKiB: rss, MemoryBytes: c.store.peak, Spill: c.store.where(), SpillFailed: c.store.spillFailed}
	if n := ticks - base; n > 0 {
		m.Cost.TickCPUMS = tickCPU / float64(n) * 1000
	}
	if c.sampler.ticks > 0 {
		m.Cost.ProcessesPerTick = float64(c.sampler.procsSampled) / float64(c.sampler.ticks)
	}
	m.Redaction = bundle.Redaction{Enabled: cfg.Redact, Environment: "never collected", MaskedArgs: c.table.masked,
		Log: c.table.redacted, LogTruncated: c.table.logged > len(c.table.redacted)}
	if cfg.Redact {
		m.Redaction.Rules = redact.Rules
		m.Redaction.Kinds = c.table.kinds
		m.Redaction.Patterns = bundle.PatternCounts(cfg.RedactPatterns, c.table.patterns)
		m.Redaction.StracePayloads = "dropped: strace -s 0 keeps file names and byte counts, no buffer contents"
	} else {
		m.Redaction.StracePayloads = "kept: the first 32 bytes of each buffer (strace -s 32)"
	}

	cs.HungUp = hungUp()
	m.Repaired = c.repaired
	if err := c.fit(m); err != nil {
		return nil, err
	}
	if cfg.OutputDir != "" {
		cfg.Output = nameInDir(cfg.OutputDir, m.Start.Wall)
	}
	var size int64
	path, outErr, err := writeOutput(&cfg, func(w io.Writer) error {
		n, err := c.store.write(w, m)
		size = n
		return err
	})
	if err != nil {
		return nil, err
	}
	fellBack := outErr != nil
	res := &Result{Path: path, FellBack: fellBack, OutputErr: outErr, Size: size, Manifest: m, Incomplete: Incomplete(m) || fellBack}
	if cfg.OutputDir != "" && !fellBack {
		res.Pruned, res.PruneErr = pruneBundles(cfg.OutputDir, path, cfg.Keep, cfg.KeepBytes)
	}
	return res, nil
}

// beginNodeState registers the run in the node's shared state (dir, or
// nodestate.DefaultDir), repairing what dead collectors left. Where that
// directory cannot be used (no root, a read-only /run) the run still
// keeps its own state in a private directory, so that its changes are
// undone as before; the error says what was lost.
func beginNodeState(dir string) (*nodestate.Run, []string, error) {
	if dir == "" {
		dir = nodestate.DefaultDir
	}
	run, repaired, err := nodestate.Begin(dir)
	if err == nil {
		return run, repaired, nil
	}
	priv, perr := os.MkdirTemp("", "iorca-state-")
	if perr != nil {
		return nil, nil, err
	}
	run, _, perr = nodestate.Begin(priv)
	if perr != nil {
		return nil, nil, err
	}
	run.RemoveDirAtEnd()
	return run, nil, err
}

// watchHangUp notes when ch is closed, until done is; the returned func
// gives that moment, nil if it has not come.
func watchHangUp(ch, done <-chan struct{}) func() *bundle.Clock {
	var mu sync.Mutex
	var at *bundle.Clock
	if ch != nil {
		go func() {
			select {
			case <-ch:
			case <-done:
				return
			}
			now := capture.Now()
			mu.Lock()
			at = &now
			mu.Unlock()
		}()
	}
	return func() *bundle.Clock {
		mu.Lock()
		defer mu.Unlock()
		return at
	}
}

// spillDirs are where the store may spill the compressed members, best
// first: /dev/shm (memory the kernel can page out, no disk write while
// the incident runs), then the output's directory (the bundle needs the
// space there anyway), then the temporary directory.
func spillDirs(output string) []string {
	dirs := []string{"/dev/shm"}
	if output != "" && output != "-" {
		dirs = append(dirs, filepath.Dir(output))
	}
	return append(dirs, os.TempDir())
}
