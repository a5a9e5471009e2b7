package collector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/trigger"
)

// Interrupt is the cause a caller gives ctx when a signal ends the run,
// so that the manifest can name the signal.
type Interrupt struct{ Signal string }

func (i Interrupt) Error() string { return "interrupted by " + i.Signal }

// signalOf names the signal that ended ctx, "" when none is known.
func signalOf(ctx context.Context) string {
	var i Interrupt
	if errors.As(context.Cause(ctx), &i) {
		return i.Signal
	}
	return ""
}

// Why a wait ended.
const (
	waitDue = iota
	waitCancelled
	waitDumped
	waitExpired
)

// waitFor sleeps until t, or until ctx ends, dump receives or deadline
// passes, and says which.
func waitFor(ctx context.Context, t time.Time, dump <-chan struct{}, deadline <-chan time.Time) int {
	if ctx.Err() != nil {
		return waitCancelled
	}
	timer := time.NewTimer(max(0, time.Until(t)))
	defer timer.Stop()
	select {
	case <-timer.C:
		return waitDue
	case <-ctx.Done():
		return waitCancelled
	case <-dump:
		return waitDumped
	case <-deadline:
		return waitExpired
	}
}

// deadlineOf is a channel that receives after d, nil (never) for 0.
func deadlineOf(d time.Duration) <-chan time.Time {
	if d <= 0 {
		return nil
	}
	return time.After(d)
}

// triggerSample reads the files a trigger needs.
func (c *collection) triggerSample() trigger.Sample {
	var texts [3][]byte
	for i, p := range triggerFiles {
		data, st, err := c.sampler.rd.Read(p)
		if i > 0 || st != bundle.StatusOK { // uptime, every time, is noise in the manifest
			c.ledger.read("trigger", p, 0, 0, st, err)
		}
		if st == bundle.StatusOK {
			texts[i] = append([]byte(nil), data...)
		}
	}
	return trigger.ParseSample(capture.Mono(), texts[0], texts[1], texts[2])
}

// nodeSample is the trigger's sample from the last full tick.
func (c *collection) nodeSample() trigger.Sample {
	n := c.sampler.node
	return trigger.ParseSample(c.sampler.clock.MonoNS, n[triggerFiles[0]], n[triggerFiles[1]], n[triggerFiles[2]])
}

// fired records a trigger that fired in the manifest.
func fired(w *trigger.Watch, cs *bundle.CaptureStart, waited time.Duration, tick int) {
	t := cs.Trigger
	t.Fired, t.At, t.Tick, t.WaitedSeconds = true, capture.Now(), tick, waited.Seconds()
	for _, o := range w.Fired {
		t.Intervals = append(t.Intervals, bundle.TriggerInterval{Device: o.Device, Figures: o.Figures})
	}
}

// notFired is the error of a wait that ended before the trigger fired,
// with how close the last interval came.
func notFired(w *trigger.Watch, why string) error {
	var figs []string
	for _, c := range append(append([]trigger.Cond{}, w.Expr.Device...), w.Expr.Node...) {
		if v, ok := w.Last.Figures[c.Name]; ok {
			figs = append(figs, fmt.Sprintf("%s %.1f", c.Name, v))
		}
	}
	last := ""
	if len(figs) > 0 {
		last = "; the last interval: "
		if w.Last.Device != "" {
			last += w.Last.Device + " "
		}
		last += strings.Join(figs, ", ")
	}
	return fmt.Errorf("%w: %s before %q held for %d intervals%s; no bundle written", ErrNotFired, why, w.Expr.Text, w.For, last)
}

// waitTrigger samples only the trigger's files, every interval, until it
// fires. It returns ErrNotFired when ctx ends or --wait expires first.
func (c *collection) waitTrigger(ctx context.Context, cs *bundle.CaptureStart) error {
	cfg := &c.cfg
	w := &trigger.Watch{Expr: cfg.Trigger, For: cfg.TriggerFor}
	began := time.Now()
	deadline := deadlineOf(cfg.Wait)
	for k := 0; ; k++ {
		switch waitFor(ctx, began.Add(time.Duration(k)*cfg.Interval), nil, deadline) {
		case waitCancelled:
			return notFired(w, context.Cause(ctx).Error())
		case waitExpired:
			return notFired(w, fmt.Sprintf("--wait %v expired", cfg.Wait))
		}
		if w.Add(c.triggerSample()) {
			fired(w, cs, time.Since(began), 0)
			return nil
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Phase: PhaseWaiting, Elapsed: time.Since(began), Duration: cfg.Wait, Tick: k + 1, Trigger: w.Last, Held: w.Held()})
		}
	}
}

// record runs the flight recorder until the trigger fires, Dump receives
// or ctx ends, then puts the window's ticks into the store, numbered from
// 0. It returns how many ticks it put, and whether the capture proper
// follows (the trigger fired).
func (c *collection) record(ctx context.Context, cs *bundle.CaptureStart) (int, bool, error) {
	cfg := &c.cfg
	r := newRing(int64(cfg.Record), cfg.RecordBytes)
	var w *trigger.Watch
	if cfg.Trigger != nil {
		w = &trigger.Watch{Expr: cfg.Trigger, For: cfg.TriggerFor}
		c.sampler.keepNode = true
	}
	began := time.Now()
	deadline := deadlineOf(cfg.Wait)
	follow, skipped := false, 0
	for n := 0; ; n++ {
		due := began.Add(time.Duration(n) * cfg.Interval)
		if late := time.Since(due); late > cfg.Interval {
			// A stall (a loaded node, a stopped collector): skip the
			// slots it missed rather than sample back to back to catch
			// up; each sample carries its own clock.
			n += int(late / cfg.Interval)
			skipped += int(late / cfg.Interval)
			due = began.Add(time.Duration(n) * cfg.Interval)
		}
		why := waitFor(ctx, due, cfg.Dump, deadline)
		if why == waitExpired {
			return 0, false, notFired(w, fmt.Sprintf("--wait %v expired", cfg.Wait))
		}
		if why == waitCancelled || why == waitDumped {
			cs.How, cs.Signal = bundle.StartSignal, "SIGUSR1"
			if why == waitCancelled {
				cs.Signal = signalOf(ctx)
			}
			break
		}
		frames := c.sampler.tick(n)
		r.add(n, c.sampler.clock, frames)
		c.table.forget(r.oldest())
		if w != nil && w.Add(c.nodeSample()) {
			cs.How = bundle.StartTrigger
			fired(w, cs, time.Since(began), len(r.ticks)-1)
			follow = true
			break
		}
		if cfg.Progress != nil {
			p := Progress{Phase: PhaseRecording, Elapsed: time.Since(began), Duration: cfg.Wait, Tick: n + 1,
				Window: time.Duration(c.sampler.clock.MonoNS - r.ticks[0].clock.MonoNS), WindowBytes: r.bytes}
			if w != nil {
				p.Trigger, p.Held = w.Last, w.Held()
			}
			cfg.Progress(p)
		}
	}
	c.sampler.keepNode = false
	if len(r.ticks) == 0 {
		return 0, false, fmt.Errorf("the recorder was stopped (%s) before its first sample; no bundle written", cs.Signal)
	}
	cs.Record = &bundle.RecordInfo{Window: bundle.Duration(cfg.Record), BudgetBytes: cfg.RecordBytes, Ticks: len(r.ticks),
		Bytes: r.bytes, Dropped: r.dropped, RecordedSeconds: time.Since(began).Seconds(), BudgetBound: r.budgetBound, Skipped: skipped}
	c.startClock = r.ticks[0].clock
	err := r.each(func(i int, frames []byte) error {
		c.store.put(bundle.TickMember(i), frames)
		return nil
	})
	return len(r.ticks), follow, err
}
