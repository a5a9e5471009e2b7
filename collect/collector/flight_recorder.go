package collector

import (
	"context"
	"fmt"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/trigger"
	"github.com/klauspost/compress/zstd"
)

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

// ring is the flight recorder's memory: the last ticks, each compressed
// as it arrives, dropped oldest first when they span more than the
// window or their bytes exceed the budget. Dropped ticks' buffers are
// reused, so a recorder that runs for days holds the same memory on the
// last day as on the first.
type ring struct {
	window int64 // ns of monotonic time from the oldest tick to the newest
	budget int64
	enc    *zstd.Encoder
	ticks  []ringTick
	bytes  int64
	// dropped counts ticks let go; budgetBound says the last drop was
	// for the budget, not the window.
	dropped     int
	budgetBound bool
	free        [][]byte
}

// ringTick is one sampled tick: its number in the recorder's run, its
// clock, and its frames compressed.
type ringTick struct {
	n     int
	clock bundle.Clock
	z     []byte
}

func newRing(windowNS, budget int64) *ring {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true))
	return &ring{window: windowNS, budget: budget, enc: enc}
}

// add keeps a tick's frames, compressed, and drops what falls out of the
// window or the budget; the newest tick always stays.
func (r *ring) add(n int, clock bundle.Clock, frames []byte) {
	var buf []byte
	if k := len(r.free); k > 0 {
		buf, r.free = r.free[k-1][:0], r.free[:k-1]
	}
	z := r.enc.EncodeAll(frames, buf)
	r.ticks = append(r.ticks, ringTick{n: n, clock: clock, z: z})
	r.bytes += int64(len(z))
	for len(r.ticks) > 1 {
		oldest := r.ticks[0]
		overBudget := r.bytes > r.budget
		if !overBudget && clock.MonoNS-oldest.clock.MonoNS <= r.window {
			break
		}
		r.budgetBound = overBudget
		r.bytes -= int64(len(oldest.z))
		r.dropped++
		if len(r.free) < 4 {
			r.free = append(r.free, oldest.z)
		}
		r.ticks[0] = ringTick{}
		r.ticks = r.ticks[1:]
	}
}

// oldest is the run number of the oldest tick held, 0 when empty.
func (r *ring) oldest() int {
	if len(r.ticks) == 0 {
		return 0
	}
	return r.ticks[0].n
}

// each gives the ticks held, oldest first, decompressed, numbered from
// 0 as the bundle will hold them: the tick number in each clock frame
// is rewritten, the rest of the frames are as read.
func (r *ring) each(fn func(i int, frames []byte) error) error {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
	if err != nil {
		return err
	}
	defer dec.Close()
	var raw []byte
	for i, t := range r.ticks {
		raw, err = dec.DecodeAll(t.z, raw[:0])
		if err != nil {
			return err
		}
		if err := fn(i, renumberTick(raw, t.clock, i)); err != nil {
			return err
		}
	}
	return nil
}

// renumberTick replaces the tick number in a tick's clock frame (its
// first frame).
func renumberTick(frames []byte, clock bundle.Clock, n int) []byte {
	for f, err := range bundle.Frames(frames) {
		if err != nil || f.Path != bundle.ClockFrame {
			return frames
		}
		rest := frames[len(bundle.AppendFrame(nil, f)):]
		out := bundle.AppendFrame(nil, bundle.Frame{Path: bundle.ClockFrame, Status: f.Status, MonoNS: f.MonoNS, Data: bundle.ClockData(clock, n)})
		return append(out, rest...)
	}
	return frames
}
