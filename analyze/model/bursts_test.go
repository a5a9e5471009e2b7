package model

import (
	"math"
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// Made by hand: two devices each busy 40 ms of the trace. One served four
// 10 ms requests one after another; the other got the same four at once,
// in a burst on a device that serves one at a time (2.5 in flight on
// average in it; 1.75 over its busy time with the idle reads before),
// and one request alone (those idle reads) took 10 ms.
func TestBurstsOn(t *testing.T) {
	onDev := func(major int, rs ...Request) []Request {
		for i := range rs {
			rs[i].Dev.Major = major
		}
		return rs
	}
	even := onDev(8, req(1, 0, 10), req(1, 100, 110), req(1, 200, 210), req(1, 300, 310))
	burst := onDev(9, req(1, 0, 10), req(1, 100, 110), req(1, 200, 210), req(1, 300, 310),
		req(2, 400, 410), req(2, 400, 420), req(2, 400, 430), req(2, 400, 440))
	bt := &BlockTrace{Requests: append(even, burst...)}
	bt.hold()
	m := &Model{BlockTrace: bt}
	for _, tc := range []struct {
		major         int
		busyMS, depth float64
		unloadedMS    float64
	}{
		{8, 40, 1, 10},
		{9, 80, 140.0 / 80, 10},
	} {
		dev := m.DeviceName(procfs.Dev{Major: tc.major})
		b, ok := m.BurstsOn(dev)
		if !ok || math.Abs(b.BusyNS/1e6-tc.busyMS) > 1e-9 || math.Abs(b.Depth-tc.depth) > 1e-9 || b.UnloadedMS != tc.unloadedMS {
			t.Errorf("%s: %+v, want busy %.0f ms, depth %.3f, alone %.0f ms", dev, b, tc.busyMS, tc.depth, tc.unloadedMS)
		}
	}
}
