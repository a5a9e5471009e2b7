package collector

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
)

// Issue 13: a flight recorder can run for days, so its memory must not
// grow with the ticks it has taken. This one samples the real /proc of
// this machine every 10 ms — 3,000 full ticks, 600 times its window — and
// the live heap after the window filled is the live heap at the end,
// within 1 MiB. (README, "The flight recorder", states the figure this
// test logs.)
func TestRecorderMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a recorder for 3,000 ticks: -short skips it")
	}
	cfg := testConfig(t)
	cfg.Strace, cfg.Duration, cfg.Interval = false, time.Second, 10*time.Millisecond
	cfg.Record, cfg.RecordBytes = 50*time.Millisecond, 16<<20
	const ticks, settled = 3000, 300
	dump := make(chan struct{})
	cfg.Dump = dump
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var first, peak uint64
	var samples []uint64
	next, sampled := settled, 0
	cfg.Progress = func(p Progress) {
		if p.Phase != PhaseRecording {
			return
		}
		sampled++
		// Tick is the slot: a stall skips some, so the heap is read at
		// the first slot past each hundred.
		if p.Tick < next || next > ticks {
			return
		}
		switch h := heap(); {
		case next == settled:
			first = h
		default:
			peak = max(peak, h)
			samples = append(samples, h)
		}
		if next += 100; next > ticks {
			close(dump)
		}
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Capture.How != bundle.StartSignal || res.Manifest.Capture.Record == nil {
		t.Fatalf("capture %+v", res.Manifest.Capture)
	}
	rec := res.Manifest.Capture.Record
	if rec.Dropped+rec.Ticks != sampled || rec.Ticks > sampled/20 || sampled+rec.Skipped < ticks-1 {
		t.Errorf("the recorder sampled %d ticks, skipped %d slots, dropped %d and kept %d: its window did not move, or slots went unaccounted", sampled, rec.Skipped, rec.Dropped, rec.Ticks)
	}
	t.Logf("%d ticks (%d slots) of %.1f processes: live heap %.2f MiB after %d ticks, at most %.2f MiB after (%d samples); window %d ticks, %d KiB",
		sampled, ticks, res.Manifest.Cost.ProcessesPerTick, float64(first)/(1<<20), settled, float64(peak)/(1<<20), len(samples), rec.Ticks, rec.Bytes>>10)
	if peak > first+1<<20 {
		t.Errorf("the live heap grew from %.2f MiB to %.2f MiB over %d ticks: %v", float64(first)/(1<<20), float64(peak)/(1<<20), ticks-settled, samples)
	}
}
