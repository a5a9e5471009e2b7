package collector

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/trigger"
)

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
