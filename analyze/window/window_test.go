package window

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
)

// The slow-disk sample (samples/overlay-slow-disk.sh) has a block trace:
// who holds loop0's time comes from its requests. The saturated device is
// the one over both thresholds; its contributors are the user processes
// holding its time, largest first, their fractions adding up to at most
// the whole; the O_SYNC logger holds most of it.
func TestDeviceTimeFromTheBlockTrace(t *testing.T) {
	m := sampletest.Model(t, "overlay-slow-disk")
	w := New(m, Defaults())
	if w.DeviceTimesEstimated {
		t.Fatal("the sample has a block trace, the device times are estimated")
	}
	sat := w.Saturated()
	if len(sat) != 1 || !w.IsSaturated(sat[0], w.Devices[sat[0]]) {
		t.Fatalf("saturated %v", sat)
	}
	dev := sat[0]
	x := w.Devices[dev]
	if !(x.Util > w.Thresholds.UtilPct && x.Await > w.Thresholds.AwaitMS) {
		t.Errorf("%s: %%util %.1f, await %.1f ms is not saturated by the defaults", dev, x.Util, x.Await)
	}
	if h := w.Hurting(); len(h) != 1 || h[0] != dev {
		t.Errorf("hurting %v, want the saturated %s", h, dev)
	}
	dt := w.DeviceTimes[dev]
	top := w.Contributors(dev, 10)
	sum := 0.0
	for i, s := range top {
		if s.Kernel {
			t.Errorf("kernel thread %s among the contributors", s.Task.Comm)
		}
		if i > 0 && s.NS() > top[i-1].NS() {
			t.Errorf("contributors out of order at %d", i)
		}
		sum += dt.Fraction(s)
	}
	if sum > 1.0001 || len(top) == 0 {
		t.Fatalf("%d contributors holding %.3f of the device", len(top), sum)
	}
	logger := top[0]
	if !strings.Contains(logger.Task.Comm, "access-logger") || dt.Fraction(logger) < 0.5 {
		t.Errorf("top contributor %s holds %.2f", logger.Task.Comm, dt.Fraction(logger))
	}
	if got := w.DeviceShare(logger.Task.PID, dev); got != dt.Fraction(logger) {
		t.Errorf("DeviceShare %.3f, share %.3f", got, dt.Fraction(logger))
	}
	if d, f, ok := w.HoldsSaturated(logger.Task.PID); !ok || d != dev || f != dt.Fraction(logger) {
		t.Errorf("HoldsSaturated = %s %.2f %v", d, f, ok)
	}
	if !strings.Contains(w.ShareText(dev, logger), "journal commits its syncs forced") {
		t.Errorf("share text %q does not split the logger's time", w.ShareText(dev, logger))
	}
}

// The logger's file is on its container's overlay root: its data lands in
// the upper layer, on the device that holds the upper directory.
func TestPlaceOnOverlay(t *testing.T) {
	w := New(sampletest.Model(t, "overlay-slow-disk"), Defaults())
	var found bool
	for _, tv := range w.Targets {
		pl, ok := w.Place(tv, w.HotFile(tv))
		if !ok || pl.Overlay == nil {
			continue
		}
		found = true
		if pl.Mount.FSType != "overlay" || !strings.HasPrefix(pl.UpperPath, pl.Overlay.Upper+"/") || !strings.HasSuffix(pl.UpperPath, pl.Path) {
			t.Errorf("%s: mount %s, upper path %q (upper dir %q)", pl.Path, pl.Mount.FSType, pl.UpperPath, pl.Overlay.Upper)
		}
		if _, ok := w.Devices[pl.Device]; !ok {
			t.Errorf("%s lands on %q, not a whole disk of the window", pl.Path, pl.Device)
		}
		if _, mem := w.InMemory(tv, pl.Path); mem {
			t.Errorf("%s on an overlay called in memory", pl.Path)
		}
	}
	if !found {
		t.Fatal("no target writes onto an overlay")
	}
}

// Without a block trace (the fsync-storm sample) a target's time on its
// device is estimated: one request per average request size of its
// write_bytes, plus its syncs at the untraced rate, each costing the
// device's w_await.
func TestDeviceTimeEstimated(t *testing.T) {
	w := New(sampletest.Model(t, "fsync-storm"), Defaults())
	if !w.DeviceTimesEstimated {
		t.Fatal("the sample has no block trace, yet the device times are not estimated")
	}
	var checked int
	for _, tv := range w.Targets {
		pl, ok := w.Place(tv, w.HotFile(tv))
		if !ok || tv.IO == nil || tv.Summary == nil {
			continue
		}
		x := w.Devices[pl.Device]
		s := w.ShareOf(tv.Target.Process.PID, pl.Device)
		if s == nil {
			t.Fatalf("no estimated share for PID %d on %s", tv.Target.Process.PID, pl.Device)
		}
		ops := float64(tv.IO.Delta.IO.WriteBytes) / (x.WareqSz * 1024)
		if syncFile(w, tv, pl.Path) {
			ops = float64(tv.IO.Delta.IO.SyscW)
		}
		for _, f := range tv.Summary.Files {
			if f.Path == pl.Path {
				ops += float64(f.Syncs) / tv.Target.Info.Strace.TracedSeconds * tv.IO.Seconds
			}
		}
		if want := ops * x.WAwait * 1e6; math.Abs(s.DirectNS-want) > 1e-6*want {
			t.Errorf("PID %d: %.0f ns on %s, want %.0f", tv.Target.Process.PID, s.DirectNS, pl.Device, want)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no target checked")
	}
}

// A window over part of the capture covers those ticks only; a range
// outside the capture gives an empty window, not a panic.
func TestRange(t *testing.T) {
	m := sampletest.Model(t, "fsync-storm")
	last := len(m.Ticks) - 1
	w := NewRange(m, Defaults(), 2, last)
	if w.From != 2 || w.To != last || w.Seconds != m.Seconds(2, last) || w.TickSpan() != "2-"+strconv.Itoa(last) {
		t.Errorf("window %d-%d over %.2f s (%s)", w.From, w.To, w.Seconds, w.TickSpan())
	}
	whole := New(m, Defaults())
	if w.Seconds >= whole.Seconds {
		t.Errorf("part %.2f s, whole %.2f s", w.Seconds, whole.Seconds)
	}
	for _, bad := range [][2]int{{-1, 2}, {3, 3}, {0, last + 1}} {
		if e := NewRange(m, Defaults(), bad[0], bad[1]); len(e.Procs) != 0 || e.Seconds != 0 {
			t.Errorf("range %v: %d processes over %.1f s", bad, len(e.Procs), e.Seconds)
		}
	}
}

// A deep queue with a long await passes for saturation where %util
// undercounts long requests — unless the block trace, the device's own
// figure, shows it had a request in flight only part of the time: a
// device serving a writeback burst in parallel at 41 % is not saturated.
// (Hand-made figures: the rule's three cases.)
func TestSaturationByTheDevicesOwnBusyTime(t *testing.T) {
	x := model.Iostat{Util: 41, Await: 25, AquSz: 12}
	for _, tc := range []struct {
		name   string
		busyNS float64 // over 10 s; 0: no trace of the device
		want   bool
	}{
		{"no block trace: the queue decides", 0, true},
		{"trace: busy 41 % of the time", 4.1e9, false},
		{"trace: busy 95 % of the time (io_ticks undercounted)", 9.5e9, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &Window{Thresholds: Defaults(), Devices: map[string]model.Iostat{"vda": x}}
			if tc.busyNS > 0 {
				w.DeviceTimes = map[string]*model.DeviceTime{"vda": {Device: "vda", BusyNS: tc.busyNS, Seconds: 10}}
			}
			if got := w.IsSaturated("vda", x); got != tc.want {
				t.Errorf("saturated %v, want %v", got, tc.want)
			}
		})
	}
}

// Hand-made case: a share's words tell writeback of pages it dirtied in
// the trace from writeback charged because it held the file open (pages
// dirtied before the trace began), and say the latter even alone.
func TestShareHowOpenedWriteback(t *testing.T) {
	dt := &model.DeviceTime{BusyNS: 100}
	for _, tc := range []struct {
		s    model.Share
		want string
	}{
		{model.Share{WritebackNS: 40}, " (40 % writeback of pages it dirtied)"},
		{model.Share{WritebackNS: 40, OpenedNS: 40}, " (40 % writeback of files it held open for writing, dirtied before the trace began)"},
		{model.Share{WritebackNS: 40, OpenedNS: 30}, " (10 % writeback of pages it dirtied and 30 % writeback of files it held open for writing, dirtied before the trace began)"},
	} {
		if got := ShareHow(dt, &tc.s); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s, got, tc.want)
		}
	}
}
