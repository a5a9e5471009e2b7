// Package livetest captures real bundles on this machine for the
// analyzer's tests, with the real collector, while real workloads run.
package livetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/collector"
)

// Config is a short collection into t's temporary directory.
func Config(t testing.TB, d time.Duration) collector.Config {
	return collector.Config{
		Output:         filepath.Join(t.TempDir(), "live.tar.zst"),
		Duration:       d,
		Interval:       time.Second,
		Top:            3,
		SelectAfter:    time.Second,
		Strace:         true,
		StraceDuration: 2 * time.Second,
		StraceMaxBytes: 4 << 20,
		MaxBundleBytes: 64 << 20,
		Redact:         true,
		Version:        "test",
	}
}

// Capture runs the collector with cfg (cancelled after cancelAfter when
// that is positive, giving a partial bundle) and returns the bundle path.
func Capture(t testing.TB, cfg collector.Config, cancelAfter time.Duration) string {
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

// Load reads and models a bundle.
func Load(t testing.TB, path string) *model.Model {
	t.Helper()
	b, err := bundle.ReadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
