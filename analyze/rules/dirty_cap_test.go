package rules

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// dirtyFinding runs dirty-throttling over a fresh model of the
// dirty-throttled sample, its bdi settings replaced by bdis (nil: not
// captured).
func dirtyFinding(t *testing.T, bdis map[string]*model.BDI) content.Finding {
	t.Helper()
	m := sampletest.Load(t, sampletest.Path(t, "dirty-throttled"))
	m.BDIs = bdis
	fs := checkDirtyThrottling(window.New(m, window.Defaults()))
	if len(fs) != 1 {
		t.Fatalf("%d dirty-throttling findings", len(fs))
	}
	return fs[0]
}

// Throttled with the node's dirty memory at 1 % of its limit, below the
// free-run point: the finding names the device's own cap — whatever the
// sample's capture says, and the variants made here — and never advises
// the global vm.dirty_* sysctls, which would throttle every writer.
func TestDirtyThrottlingNamesTheCap(t *testing.T) {
	strict := &model.BDI{Name: "7:0", MaxRatio: 100, HasRatio: true, MaxBytes: 32 << 20, HasBytes: true, StrictLimit: true, HasStrictLimit: true,
		Settings: map[string]string{"strict_limit": "1", "max_ratio": "100", "max_bytes": "33554432"}}
	ratio := &model.BDI{Name: "7:0", MaxRatio: 2, HasRatio: true, Settings: map[string]string{"strict_limit": "0", "max_ratio": "2"}}
	open := &model.BDI{Name: "7:0", MaxRatio: 100, HasRatio: true, Settings: map[string]string{"strict_limit": "0", "max_ratio": "100"}}
	for _, tc := range []struct {
		name  string
		bdis  map[string]*model.BDI
		title string
		says  string
	}{
		{"strict with max_bytes", map[string]*model.BDI{"7:0": strict}, "bdi 7:0 (loop0) has strict_limit with max_bytes 32.0 MiB", "enforces the device's own share of the dirty limit from the first page"},
		{"max_ratio", map[string]*model.BDI{"7:0": ratio}, "bdi 7:0 (loop0) is capped at max_ratio 2 % of the dirty limit", "its share of the dirty limit is capped"},
		{"not captured", nil, "by a per-device or per-cgroup cap", "holds no per-device dirty settings"},
		{"not capped", map[string]*model.BDI{"7:0": open}, "by a per-device or per-cgroup cap", "is not capped (strict_limit 0, max_ratio 100)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := dirtyFinding(t, tc.bdis)
			if !strings.Contains(f.Title, tc.title) || !strings.Contains(f.Summary, tc.says) || !strings.Contains(f.Summary, "free-run point") {
				t.Errorf("title %q\nsummary %q\nwant %q and %q", f.Title, f.Summary, tc.title, tc.says)
			}
			if strings.Contains(f.Summary, "follows its writeback speed") {
				t.Errorf("the old explanation survives: %q", f.Summary)
			}
			for _, mi := range f.Mitigations {
				if strings.Contains(mi.How, "sysctl vm.dirty") {
					t.Errorf("advises the global sysctls for a per-device cap: %q", mi.How)
				}
			}
		})
	}
}

// The dirty forecast on bulk-writer's figures (208 MiB dirty, background
// threshold 2.3 GiB, limit 4.6 GiB, dirty_expire_centisecs 3000): at
// 24 MiB/s the flushers write the file back once its oldest page is 30 s
// old (checked every 5 s), so dirty memory rises to about 840 MiB and
// falls back, below the thresholds; at 200 MiB/s it reaches
// the background threshold and then the free-run point, (background +
// limit) / 2, where pacing starts — not the limit.
func TestDirtyForecastSawtoothOrReachesFreerun(t *testing.T) {
	c := window.New(sampletest.Model(t, "bulk-writer"), window.Defaults())
	slow := advice.DirtyForecast(c, 24<<20)
	if !strings.Contains(slow, "rises to about 840.0 MiB, the writes of 35 s, and falls back each time") || !strings.Contains(slow, "dirty_expire_centisecs 30 s") {
		t.Errorf("at 24 MiB/s: %q", slow)
	}
	fast := advice.DirtyForecast(c, 200<<20)
	if !strings.Contains(fast, "reaches the background threshold (2.3 GiB") || !strings.Contains(fast, "the free-run point (3.5 GiB, halfway to the dirty limit 4.6 GiB, from which the kernel paces writers) in about 17 s") {
		t.Errorf("at 200 MiB/s: %q", fast)
	}
}

// The dirty-throttled sample, recaptured with the bdi capture: its script
// set strict_limit and max_bytes 32 MiB on loop0's bdi; the kernel keeps
// the bytes as a ratio (max_ratio then reads 0), and the report quotes
// the setting made, not the derived ratio.
func TestDirtyThrottledSampleNamesItsCap(t *testing.T) {
	m := sampletest.Model(t, "dirty-throttled")
	b := m.BDIs["7:0"]
	if b == nil || !b.StrictLimit || b.MaxBytes < 32<<20 || b.MaxBytes > 33<<20 {
		t.Fatalf("bdi 7:0 as captured: %+v", b)
	}
	fs := checkDirtyThrottling(window.New(m, window.Defaults()))
	if len(fs) != 1 || !strings.HasSuffix(fs[0].Title, "bdi 7:0 (loop0) has strict_limit with max_bytes 32.0 MiB") || strings.Contains(fs[0].Summary, "max_ratio 0") {
		t.Errorf("findings %+v", fs)
	}
}
