package rules

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// An io.max limit is advised in the cgroup v2 file of the writer's own
// cgroup: the overlay-sync-logger sample as it would be on a node (not
// here as such) whose io controller is on cgroup v2.
func TestIOLimitOnCgroupV2(t *testing.T) {
	m := sampletest.Load(t, sampletest.Path(t, "overlay-sync-logger")) // a private copy, changed below
	m.CgroupV1Root, m.CgroupV2Root = "", "/sys/fs/cgroup"
	for _, p := range m.Procs {
		if p.Container != nil {
			p.Cgroups = []procfs.CgroupLine{{HierarchyID: 0, Path: "/k8s.io/" + p.Container.Name}}
		}
	}
	c := window.New(m, window.Defaults())
	var writer *model.Process
	for _, p := range m.Procs {
		if p.Container != nil && p.Comm == "access-logger" {
			writer = p
		}
	}
	if writer == nil {
		t.Fatal("no access-logger in the sample")
	}
	if how, why := advice.IOLimit(c, writer, "loop0"); !strings.Contains(how, "/sys/fs/cgroup/k8s.io/web-7/io.max") || why != "" {
		t.Errorf("io.max on cgroup v2: %q, %q", how, why)
	}
}

// Rates are the untraced ones: strace slowed the shim to a few thousand
// writes a second, /proc saw it make over a hundred thousand.
func TestRatesAreUntraced(t *testing.T) {
	m := sampleModel(t, "nginx-logger-stdout")
	got := fires(t, smallWrites, window.Defaults())
	f := first(t, got, "nginx-logger-stdout")
	c := window.New(m, window.Defaults())
	pio := c.ByPID[f.Subjects.PIDs[0]]
	untraced := float64(pio.Delta.IO.SyscW) / pio.Seconds
	if r := f.Score; r < untraced*0.5 || r > untraced*1.01 {
		t.Errorf("small-writes rate %.0f/s, /proc says %.0f/s untraced", r, untraced)
	}
}

// The sync mechanism comes from the stacks the bundle holds: the O_SYNC
// logger and the fdatasync writer wait in jbd2_log_wait_commit, on a loop
// device whose write cache is write back.
func TestSyncMechanismFromStacks(t *testing.T) {
	got := fires(t, syncWrites, window.Defaults())
	for _, s := range []string{"overlay-sync-logger", "fsync-storm"} {
		f := first(t, got, s)
		var what []string
		for _, e := range f.Evidence {
			what = append(what, e.What)
		}
		if all := strings.Join(what, "\n"); !strings.Contains(all, "jbd2_log_wait_commit") || !strings.Contains(all, "write back") {
			t.Errorf("%s: sync-writes does not explain the mechanism:\n%s", s, all)
		}
	}
}

// A throttle says who sets such limits, how long work takes under it and,
// on cgroup v1, that it holds for direct IO only.
func TestThrottleAdvice(t *testing.T) {
	f := first(t, fires(t, cgroupThrottle, window.Defaults()), "throttled-cgroup")
	var ev []string
	for _, e := range f.Evidence {
		ev = append(ev, e.What)
	}
	if !strings.Contains(f.Summary, "each GiB written takes") || !strings.Contains(strings.Join(ev, "\n"), "holds only for direct") ||
		!strings.Contains(f.Mitigations[0].How, "IOWriteBandwidthMax") {
		t.Errorf("throttle: %s\n%v\n%+v", f.Summary, ev, f.Mitigations[0])
	}
}

// A log whose filesystem fills in tens of seconds is truncated or
// rotated first: nginx-logger-stdout's log directory fills in about 41 s.
func TestFillForecastFirst(t *testing.T) {
	f := first(t, fires(t, containerLogFlood, window.Defaults()), "nginx-logger-stdout")
	if len(f.Mitigations) == 0 || !strings.HasPrefix(f.Mitigations[0].Action, "Truncate or rotate ") || f.Mitigations[0].Horizon != content.Immediate ||
		!strings.Contains(f.Mitigations[0].How, "fills in about 41 s") {
		t.Errorf("first mitigation %+v", f.Mitigations)
	}
}
