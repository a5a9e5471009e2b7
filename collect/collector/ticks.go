package collector

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// sampleTicks runs the tick loop and returns how many ticks were taken and
// the CPU seconds they cost. Its ticks are numbered from base: a
// recorder's window holds the ones before.
func (c *collection) sampleTicks(ctx context.Context, m *bundle.Manifest, base int) (int, float64) {
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
		switch {
		case k == 0:
			first = map[int]*procSnap{}
			c.sampler.snap = first
		case k == sel:
			last = map[int]*procSnap{}
			c.sampler.snap = last
		}
		u0, s0, _ := rusage(syscall.RUSAGE_SELF)
		frames := c.sampler.tick(base + k)
		u1, s1, _ := rusage(syscall.RUSAGE_SELF)
		c.sampler.snap = nil
		cpu += (u1 - u0) + (s1 - s0)
		c.store.put(bundle.TickMember(base+k), frames)
		done++
		if k == sel {
			c.selectAndTrace(first, last, base+k)
			// The next window starts here: a process that starts in it
			// can still be picked, while its trace fits before the end.
			first, last = last, nil
			if next := k + cfg.selectTick(); next+cfg.traceTicks() < n {
				sel = next
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Phase: PhaseCapturing, Elapsed: time.Since(start), Duration: cfg.Duration, Tick: k + 1, Ticks: n, Targets: len(c.targets), Tracing: c.runningTraces()})
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
	return waitFor(ctx, t, nil, nil) == waitDue
}
