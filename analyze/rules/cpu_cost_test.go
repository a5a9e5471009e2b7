package rules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/window"
)

// TestCPUCostNeedsKernelTimeOnSmallCalls: CPU is blamed on IO calls only
// when it is spent in the kernel on calls that move small buffers. The
// bundle in testdata is file-by-file-fsync as first captured, while a go
// build beside it ran compilers whose reaped children made thousands of
// read calls a second on 127 % of a CPU, almost all of it user time: no
// cpu-cost. The loggers that copy 58-byte and 413-byte lines keep theirs.
func TestCPUCostNeedsKernelTimeOnSmallCalls(t *testing.T) {
	m := sampletest.Load(t, filepath.Join("testdata", "go-build-children.tar.zst"))
	if fs := cpuCost.Check(window.New(m, window.Defaults())); len(fs) != 0 {
		for _, f := range fs {
			t.Errorf("cpu-cost on compilers' user time: %s", f.Title)
		}
	}
	for _, s := range []string{"nginx-logger-stdout", "overlay-sync-logger-tmpfs"} {
		fs := checkOn(t, cpuCost, s, window.Defaults())
		if len(fs) == 0 {
			t.Fatalf("%s: no cpu-cost", s)
		}
		sys, _ := fs[0].Figure("system_share_pct")
		per, _ := fs[0].Figure("bytes_per_call")
		if sys < minSysShare*100 || per >= maxBytesPerCall || !strings.Contains(fs[0].Summary, "in the kernel") {
			t.Errorf("%s: system share %.0f %%, %.0f bytes a call: %s", s, sys, per, fs[0].Summary)
		}
	}
}
