// Package livetest captures real bundles on this machine for the
// analyzer's tests, with the real collector, while real workloads run.
package livetest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/collector"
	"github.com/iorca/iorca/samples/workload"
)

// Config is a short collection into t's temporary directory.
func Config(t testing.TB, d time.Duration) collector.Config {
	return collector.Config{
		Output:             filepath.Join(t.TempDir(), "live.tar.zst"),
		Duration:           d,
		Interval:           time.Second,
		Top:                3,
		SelectAfter:        time.Second,
		Strace:             true,
		StraceDuration:     2 * time.Second,
		StraceMaxBytes:     4 << 20,
		MaxBundleBytes:     64 << 20,
		Redact:             true,
		Version:            "test",
		BlockTrace:         true,
		BlockTraceDuration: d,
		BlockTraceMaxBytes: 32 << 20,
		SetDelayAcct:       true,
	}
}

// Capture runs the collector with cfg (cancelled after cancelAfter when
// that is positive, giving a partial bundle) and returns the bundle path.
//
// A scenario measures the workload it started against the rest of the
// node, and the go test run it belongs to builds and links other packages
// meanwhile, writing tens of MiB to its cache. The test never stops those
// processes; instead a capture in which go test's own build work did more
// than buildNoise of disk IO is not like with like, and is taken again
// once the builds are over, up to three times. The last capture is
// returned whatever it holds, so the scenario's own assertions decide.
// Anyone else's IO is the busy machine a scenario must hold up against.
func Capture(t testing.TB, cfg collector.Config, cancelAfter time.Duration) string {
	t.Helper()
	dir, base := filepath.Split(cfg.Output)
	var path string
	for attempt := 1; attempt <= 3; attempt++ {
		if attempt > 1 {
			cfg.Output = filepath.Join(dir, fmt.Sprintf("retry%d-%s", attempt, base))
		}
		path = captureOnce(t, cfg, cancelAfter)
		busy := buildIO(Load(t, path))
		if busy == "" {
			return path
		}
		t.Logf("capture %d: %s wrote or read beside the scenario; measuring again once the builds are over", attempt, busy)
		workload.WaitQuiet(t)
	}
	return path
}

// buildNoise is the disk IO of a Go build tool in one capture above which
// the capture is not the scenario's alone.
const buildNoise = 4 << 20

// buildIO names the processes of go test's own build work that did more
// than buildNoise of disk IO in the bundle, "" when none did.
func buildIO(m *model.Model) string {
	if len(m.Ticks) < 2 {
		return ""
	}
	var busy []string
	for _, p := range m.ProcessIO(0, len(m.Ticks)-1) {
		// The build tools a go command reaped unseen stand for it too.
		own := workload.OwnBuild(p.Proc.PID, p.Proc.PPID, p.Proc.Comm) || (p.Proc.ReapedBy != 0 && workload.OwnBuild(p.Proc.ReapedBy, 0, ""))
		if own && p.DiskBytes() > buildNoise {
			busy = append(busy, fmt.Sprintf("%s (PID %d, %d bytes)", p.Proc.Comm, p.Proc.PID, p.DiskBytes()))
		}
	}
	return strings.Join(busy, ", ")
}

func captureOnce(t testing.TB, cfg collector.Config, cancelAfter time.Duration) string {
	t.Helper()
	ctx := context.Background()
	if cancelAfter > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cancelAfter)
		defer cancel()
	}
	res, err := collector.Run(ctx, cfg)
	if err != nil {
		t.Fatalf("collector: %v", err)
	}
	return res.Path
}

// Load reads and models a bundle through the analyzer's loader.
func Load(t testing.TB, path string) *model.Model {
	t.Helper()
	return sampletest.Load(t, path)
}
