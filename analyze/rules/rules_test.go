package rules

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// The rule tests run each rule on the models of real bundles: the
// samples, which the collector captured from incidents reproduced on a
// real machine (samples/*.sh). They check that a rule fires on the
// incident it is for, stays silent on the others, and moves with its
// thresholds.

// sampleModel is a sample's model, loaded once for the package's tests.
func sampleModel(t *testing.T, name string) *model.Model { return sampletest.Model(t, name) }

// first is the first finding on a sample, failing the test (rather than
// panicking) when the rule did not fire there.
func first(t *testing.T, got map[string][]content.Finding, sample string) content.Finding {
	t.Helper()
	fs := got[sample]
	if len(fs) == 0 {
		t.Fatalf("no finding on %s; fired on %q", sample, keys(got))
	}
	return fs[0]
}

var samples = []string{"nginx-logger-stdout", "overlay-sync-logger", "fsync-storm", "bulk-writer", "throttled-cgroup", "idle"}

// fires runs one rule on every sample with thresholds t and returns the
// samples it fired on.
func fires(t *testing.T, r *Rule, th window.Thresholds) map[string][]content.Finding {
	out := map[string][]content.Finding{}
	for _, s := range samples {
		c := window.New(sampleModel(t, s), th)
		if fs := r.Check(c); len(fs) > 0 {
			out[s] = fs
		}
	}
	return out
}

func keys(m map[string][]content.Finding) string {
	var out []string
	for _, s := range samples {
		if _, ok := m[s]; ok {
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

func TestSmallWrites(t *testing.T) {
	got := fires(t, smallWrites, window.Defaults())
	if k := keys(got); k != "nginx-logger-stdout,overlay-sync-logger,fsync-storm" {
		t.Errorf("small-writes fired on %s", k)
	}
	f := first(t, got, "overlay-sync-logger")
	if f.Subjects.Path != "/var/log/nginx/access.log" || f.Confidence != content.High || len(f.Evidence[0].Lines) == 0 {
		t.Errorf("finding %+v", f)
	}
	// Pipes never count: the container's own process writes its lines to
	// a pipe (stdout) and is not reported, only the shim's file writes.
	for _, f := range got["nginx-logger-stdout"] {
		if !strings.HasSuffix(f.Subjects.Path, ".log") {
			t.Errorf("small-writes on a non-file: %s", f.Subjects.Path)
		}
	}
	// Raising the size bound over the lines' 58 bytes is what makes them
	// small: below it they are not.
	th := window.Defaults()
	th.SmallWriteMaxAvg = 50
	if _, ok := fires(t, smallWrites, th)["overlay-sync-logger"]; ok {
		t.Error("58-byte writes reported small with a 50-byte bound")
	}
}

func TestSyncWritesNeedsProof(t *testing.T) {
	got := fires(t, syncWrites, window.Defaults())
	if k := keys(got); k != "overlay-sync-logger,fsync-storm" {
		t.Errorf("sync-writes fired on %s", k)
	}
	if f := first(t, got, "overlay-sync-logger"); !strings.Contains(f.Evidence[0].What, "O_SYNC") || !strings.Contains(f.Evidence[0].Member, "fdinfo") {
		t.Errorf("O_SYNC proof missing: %+v", f.Evidence[0])
	}
	if f := first(t, got, "fsync-storm"); !strings.Contains(f.Title, "syncs") {
		t.Errorf("fsync proof missing: %s", f.Title)
	}
	// The bulk writer waits on the device too (its writes are slow), but
	// neither opens O_SYNC nor calls fsync: no claim.
	if _, ok := got["bulk-writer"]; ok {
		t.Error("sync-writes claimed for the buffered bulk writer")
	}
}

func TestWriteAmplificationDirection(t *testing.T) {
	got := fires(t, writeAmplification, window.Defaults())
	if k := keys(got); k != "overlay-sync-logger,fsync-storm" {
		t.Errorf("write-amplification fired on %s", k)
	}
	// The shim's write_bytes equal its wchar (ratio 1): not amplification.
	if f := first(t, got, "overlay-sync-logger"); f.Evidence[0].Figures["ratio"] < 4 {
		t.Errorf("ratio %v", f.Evidence[0].Figures["ratio"])
	}
}

// Amplification matters where a device hurts: on fsync-storm loop0 is 64 %
// busy and the finding is a warning; with the bars of busy and slow
// raised over every device's figures, the same pages dirtied are
// inefficiency on a node whose disks cope, and the finding says so at
// info (a quiet node of the fleet test read as one with a problem when a
// shell's small appends to its idle root disk were a warning).
func TestWriteAmplificationWhereNoDeviceHurts(t *testing.T) {
	if f := first(t, fires(t, writeAmplification, window.Defaults()), "fsync-storm"); f.Severity != content.Warning || strings.Contains(f.Summary, "No device was hurting") {
		t.Errorf("loop0 64 %% busy: %v, %s", f.Severity, f.Summary)
	}
	th := window.Defaults()
	th.UtilPct, th.AwaitMS = 200, 1000
	f := first(t, fires(t, writeAmplification, th), "fsync-storm")
	if f.Severity != content.Info || !strings.Contains(f.Summary, "No device was hurting: the busiest, loop0") || len(f.Mitigations) == 0 {
		t.Errorf("no device hurting: %v, %s, %d mitigations", f.Severity, f.Summary, len(f.Mitigations))
	}
	// No device's figures at all is not a device that copes.
	c := window.New(sampleModel(t, "fsync-storm"), th)
	c.Devices = nil
	if why, calm := devicesCope(c); calm {
		t.Errorf("without device figures: %q, calm", why)
	}
}

// Without a block trace write_bytes/wchar is pages dirtied: the finding
// never says the disk wrote that much, and quotes the device's own write
// rate (iostat, every writer) beside the process's write() rate.
func TestWriteAmplificationWithoutTraceIsDirtied(t *testing.T) {
	got := fires(t, writeAmplification, window.Defaults())
	for _, s := range []string{"fsync-storm", "overlay-sync-logger"} {
		f := first(t, got, s)
		if strings.Contains(f.Title+f.Summary, "disk write") || strings.Contains(f.Summary, "block writes") {
			t.Errorf("%s: the ratio is told as the device's: %s / %s", s, f.Title, f.Summary)
		}
		if !strings.Contains(f.Title, "dirtied") || !strings.Contains(f.Summary, "pages dirtied, not what the device wrote") {
			t.Errorf("%s: %s / %s", s, f.Title, f.Summary)
		}
		dev, ok := f.Figure(FigDeviceWkBPS)
		if !ok || dev <= 0 || !strings.Contains(f.Summary, "loop0 wrote") {
			t.Errorf("%s: no device figure: %v %s", s, dev, f.Summary)
		}
		if c := writeAmplificationClause(&f); !strings.Contains(c, "loop0 wrote") || strings.Contains(c, "disk writes") {
			t.Errorf("%s: clause %q", s, c)
		}
	}
	if got := thousands(21004.4); got != "21,004" {
		t.Errorf("thousands = %q", got)
	}
}

// A tmpfs remedy states its memory cost: Shmem charged to the memory
// limit, the memory an hour at the writer's rate takes (no size chosen
// for the reader) — or, for a writer whose rate is its disk's (it waits
// for most of its writes), that the rate on tmpfs cannot be forecast —,
// sizeLimit, and that a default emptyDir is on the kubelet's disk.
func c0(t *testing.T) *window.Window {
	return window.New(sampleModel(t, "overlay-sync-logger"), window.Defaults())
}

func TestTmpfsRemedyCost(t *testing.T) {
	f := first(t, fires(t, overlayHotPath, window.Defaults()), "overlay-sync-logger")
	how := f.Mitigations[0].How
	for _, want := range []string{"medium: Memory", "Shmem, charged to the writer's memory cgroup (a pod's memory limit)", "comes out of the node's memory", "82 % of its time goes to these writes waiting for the disk", "a rate this capture cannot forecast", "needs a sizeLimit", "default emptyDir is no tmpfs but a directory on the kubelet's filesystem"} {
		if !strings.Contains(how, want) {
			t.Errorf("no %q in %q", want, how)
		}
	}
	// A writer that does not wait: an hour at its rate.
	if s := advice.TmpfsCostWaiting(c0(t), nil, 1<<20, 0.1); !strings.Contains(s, "at the 1.1 MiB/s it would write without waiting for the disk (it writes 1.0 MiB/s now, 10 % of its time in these writes), an hour of it is 3.9 GiB") {
		t.Errorf("a writer waiting 10 %% of its time: %q", s)
	}
	// Without a writer's rate: the cost, no time to fill.
	c := window.New(sampleModel(t, "overlay-sync-logger"), window.Defaults())
	if s := advice.TmpfsCost(c, nil, 0); !strings.Contains(s, "Shmem") || strings.Contains(s, "an hour of it") {
		t.Errorf("tmpfsCost without a rate: %q", s)
	}
	for secs, want := range map[float64]string{30: "30 s", 3120: "52 min", 4 * 3600: "4.0 h", 3.3 * 86400: "3.3 days"} {
		if got := advice.SpanText(secs); got != want {
			t.Errorf("spanText(%v) = %q, want %q", secs, got, want)
		}
	}
}

func TestOverlayHotPath(t *testing.T) {
	got := fires(t, overlayHotPath, window.Defaults())
	if k := keys(got); k != "overlay-sync-logger" {
		t.Errorf("overlay-hot-path fired on %s", k)
	}
	f := first(t, got, "overlay-sync-logger")
	if !strings.HasSuffix(f.Summary, "container layers.") || !strings.Contains(f.Summary, "/layers/upper") || f.Subjects.Device == "" {
		t.Errorf("finding %+v", f)
	}
}

func TestContainerLogFlood(t *testing.T) {
	got := fires(t, containerLogFlood, window.Defaults())
	if k := keys(got); k != "nginx-logger-stdout" {
		t.Errorf("container-log-flood fired on %s", k)
	}
	f := first(t, got, "nginx-logger-stdout")
	if f.Subjects.Container != "nginx-logger-12" || f.Severity != content.Critical || len(f.Subjects.PIDs) < 2 || !strings.HasSuffix(f.Subjects.Path, "nginx-logger-12.log") {
		t.Errorf("finding %+v", f)
	}
	var logMit bool
	for _, m := range f.Mitigations {
		logMit = logMit || strings.Contains(m.How, "containerLogMaxSize")
	}
	if !logMit {
		t.Error("no log rotation mitigation")
	}
}

func TestDominantIOProcess(t *testing.T) {
	got := fires(t, dominantIOProcess, window.Defaults())
	if k := keys(got); k != "nginx-logger-stdout,overlay-sync-logger,fsync-storm,bulk-writer,throttled-cgroup" {
		t.Errorf("dominant-io-process fired on %s", k)
	}
	th := window.Defaults()
	th.DominantMinBytesPerSec = 1 << 40
	if k := keys(fires(t, dominantIOProcess, th)); k != "" {
		t.Errorf("with an unreachable floor it still fired on %s", k)
	}
}

func TestCgroupThrottle(t *testing.T) {
	got := fires(t, cgroupThrottle, window.Defaults())
	if k := keys(got); k != "throttled-cgroup" {
		t.Errorf("cgroup-throttle fired on %s", k)
	}
	f := first(t, got, "throttled-cgroup")
	// A v1 cgroup names its hierarchy, blkio.
	if f.Subjects.Cgroup != "blkio:/iorca-throttled" || len(f.Subjects.PIDs) != 1 || !strings.Contains(f.Summary, "of a 2.0 MiB/s limit") {
		t.Errorf("finding %+v", f)
	}
	// Above the use it measured, it stays silent.
	use := f.Evidence[1].Figures["use_pct"]
	th := window.Defaults()
	th.ThrottleUsePct = use + 1
	if _, ok := fires(t, cgroupThrottle, th)["throttled-cgroup"]; ok || use < 90 {
		t.Errorf("use %.1f %%: fired with a threshold above it", use)
	}
}

func TestDeviceSaturated(t *testing.T) {
	if k := keys(fires(t, deviceSaturated, window.Defaults())); k != "" {
		t.Errorf("device-saturated fired on %s", k)
	}
	// The fsync storm kept its loop device about 70 % busy with
	// sub-millisecond waits: lowering both thresholds makes it fire.
	th := window.Defaults()
	th.UtilPct, th.AwaitMS = 50, 0.05
	got := fires(t, deviceSaturated, th)
	if _, ok := got["fsync-storm"]; !ok {
		t.Errorf("not saturated at 50 %% / 0.05 ms: %v", keys(got))
	}
}

func TestFSFullAndQuietRules(t *testing.T) {
	if k := keys(fires(t, fsFull, window.Defaults())); k != "" {
		t.Errorf("fs-full fired on %s", k)
	}
	th := window.Defaults()
	th.FSFullPct = 0
	if got := fires(t, fsFull, th); len(got["idle"]) == 0 {
		t.Error("fs-full did not fire at 0 %")
	}
	for _, r := range []*Rule{swapIO, dirtyThrottling} {
		if k := keys(fires(t, r, window.Defaults())); k != "" {
			t.Errorf("%s fired on %s", r.ID, k)
		}
	}
	if k := keys(fires(t, kernelIOErrors, window.Defaults())); strings.Contains(k, "idle") {
		for _, f := range fires(t, kernelIOErrors, window.Defaults())["idle"] {
			if f.Severity != content.Info {
				t.Errorf("kernel-io-errors on the idle sample: %+v", f)
			}
		}
	}
}

func TestThresholdsOverride(t *testing.T) {
	th := window.Defaults()
	if err := th.Set("util_pct=90"); err != nil || th.UtilPct != 90 {
		t.Errorf("Set: %v %v", err, th.UtilPct)
	}
	for _, bad := range []string{"nope=1", "util_pct", "util_pct=x", "util_pct=-1"} {
		if err := th.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	err := th.Load(strings.NewReader("# comment\nawait_ms = 20  # slow disks\n\nsmall_write_max_avg=512\n"), "rules.conf")
	if err != nil || th.AwaitMS != 20 || th.SmallWriteMaxAvg != 512 {
		t.Errorf("Load: %v %+v", err, th)
	}
	if err := th.Load(strings.NewReader("bogus = 1\n"), "rules.conf"); err == nil || !strings.Contains(err.Error(), "rules.conf:1") {
		t.Errorf("Load error %v", err)
	}
}

// A percentage is measured against the room left to 100 %: a throttled
// cgroup at 108 % of its limit is far past a 90 % threshold, at 95.5 %
// use against 95 % it is close.
func TestConditionMargin(t *testing.T) {
	c := Condition{Bounded: true}
	if m := c.Margin(108, 90); m < 0.2 {
		t.Errorf("108 %% against 90 %%: margin %.2f", m)
	}
	if m := c.Margin(95.5, 95); m >= 0.2 {
		t.Errorf("95.5 %% against 95 %%: margin %.2f", m)
	}
	if m := (Condition{Below: true}).Margin(50, 100); m != 1 {
		t.Errorf("50 bytes against at most 100: margin %.2f, want 1", m)
	}
}

// Every rule in the catalogue says what its findings are to the verdict,
// once: a rule without a role would be weighed as nothing.
func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if r.ID == "" || (r.Check == nil) == (r.After == nil) {
			t.Errorf("rule %+v: no id, or not one of Check and After", r)
		}
		if r.Role == content.NoRole {
			t.Errorf("rule %s has no role", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if Of(&content.Finding{ID: r.ID}) != r {
			t.Errorf("Of(%s) is not the rule", r.ID)
		}
		for _, group := range r.Deciding {
			for _, cond := range group {
				if cond.Figure == "" || cond.Threshold == nil || cond.What == "" {
					t.Errorf("rule %s: incomplete condition %+v", r.ID, cond)
				}
			}
		}
	}
}

// Every finding a rule makes on the samples has a role, and the roles
// the verdict weighs are the rule's, or one the rule chose for it.
func TestFindingsHaveRoles(t *testing.T) {
	for _, s := range append(samples, "failing-disk", "overlay-slow-disk", "dirty-throttled", "swap-cgroup-limit") {
		for _, f := range Check(window.New(sampleModel(t, s), window.Defaults())) {
			if f.Role == content.NoRole {
				t.Errorf("%s: finding %s (%s) has no role", s, f.ID, f.Title)
			}
			if r := Of(&f); f.Role != r.Role && f.Role != content.Failure && f.Role != content.Neighbour {
				t.Errorf("%s: finding %s has role %s, its rule %s", s, f.ID, f.Role, r.Role)
			}
		}
	}
}

// Every evidence figure's key is a named constant (figures.go): a key
// spelled out where it is written or read is one a reader of another
// file can misspell without a compiler noticing.
func TestFigureKeysAreConstants(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	literal := regexp.MustCompile(`Figures\["|map\[string\]float64\{[^}]*"[a-z][a-z0-9_]*":`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if literal.MatchString(line) {
				t.Errorf("%s:%d: a figure key spelled out: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}
