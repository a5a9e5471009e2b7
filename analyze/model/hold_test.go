package model

import (
	"math"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// req is a read of one device for the hold tests: issued at issue ms,
// completed at done ms, queued by pid.
func req(pid int, issue, done float64) Request {
	return Request{Matched: ftrace.Matched{PID: pid, Comm: "p", IssueNS: int64(issue * 1e6), CompleteNS: int64(done * 1e6),
		Request: ftrace.Request{Dev: procfs.Dev{Major: 7}, RWBS: "R", Bytes: 4096}}}
}

// write is req for a write.
func write(pid int, issue, done float64) Request {
	r := req(pid, issue, done)
	r.RWBS = "W"
	return r
}

// Worked by hand: the held times of a device's requests add up to its busy
// time, and a request that waited behind another holds only the time from
// that one's completion to its own.
func TestHold(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reqs     []Request
		heldMS   []float64
		busyMS   float64
		behindMS map[int]map[int]float64 // waiter PID -> holder PID -> ms
		// waitMS is each request's wait when it is not its residence
		// less what it held (a device that overlapped it with others).
		waitMS []float64
	}{
		{
			// A device that serves one at a time: a 2 ms read issued 5 ms
			// into a 20 ms write waits for it, then takes its 2 ms (as
			// three reads on the idle device did).
			name:     "read behind a slow write",
			reqs:     []Request{write(1, 0, 20), req(2, 5, 22), req(2, 30, 32), req(2, 40, 42), req(2, 50, 52)},
			heldMS:   []float64{20, 2, 2, 2, 2},
			busyMS:   28,
			behindMS: map[int]map[int]float64{2: {1: 15}},
		},
		{
			// Without reads on the idle device, nothing shows what a read
			// takes alone: its shortest residence bounds it, and the read
			// issued into the write is not said to have waited.
			name:   "no evidence of a read's own service",
			reqs:   []Request{write(1, 0, 20), req(2, 5, 22)},
			heldMS: []float64{20, 2},
			busyMS: 22,
			waitMS: []float64{0, 0},
		},
		{
			name:   "idle between",
			reqs:   []Request{req(1, 0, 5), req(2, 10, 15)},
			heldMS: []float64{5, 5},
			busyMS: 10,
		},
		{
			// A device that serves several: the one that finishes first
			// holds until it finishes, the other from then on. The
			// shortest read took 4 ms: only what a read spent beyond
			// that is waiting (PID 3's 8 ms: 4, in the proportion of
			// the time it spent behind each).
			name:     "parallel, out of order",
			reqs:     []Request{req(1, 0, 10), req(2, 2, 6), req(3, 4, 12)},
			heldMS:   []float64{6, 4, 2},
			busyMS:   12,
			behindMS: map[int]map[int]float64{1: {2: 4}, 3: {2: 4.0 / 3, 1: 8.0 / 3}},
			waitMS:   []float64{4, 0, 4},
		},
		{
			// Adversarial, made by hand: a device that delays every read
			// 20 ms and serves them in parallel (a network block device, a
			// delay filter without serialisation). A scanner (PID 9) keeps
			// reads in flight; a lookup (PID 2) issued among them takes the
			// same 20 ms it takes on the idle device (its three reads
			// there). It shares the busy time, but it waited for nothing:
			// no one is named as having held it up.
			name: "adversarial: overlap on a parallel device is not waiting",
			reqs: []Request{req(2, 0, 20), req(2, 100, 120), req(2, 200, 220),
				req(9, 300, 320), req(9, 305, 325), req(2, 307, 327), req(9, 310, 330), req(9, 315, 335)},
			heldMS: []float64{20, 20, 20, 20, 5, 2, 3, 5},
			busyMS: 95,
			waitMS: []float64{0, 0, 0, 0, 0, 0, 0, 0},
		},
		{
			// The same requests on a device that serves one at a time:
			// each completes 20 ms after the one before, and the lookup
			// waited behind the scanner's two reads ahead of it.
			name: "the same on a device that serves one at a time",
			reqs: []Request{req(2, 0, 20), req(2, 100, 120), req(2, 200, 220),
				req(9, 300, 320), req(9, 305, 340), req(2, 307, 360), req(9, 310, 380), req(9, 315, 400)},
			heldMS:   []float64{20, 20, 20, 20, 20, 20, 20, 20},
			busyMS:   160,
			behindMS: map[int]map[int]float64{2: {9: 33}},
			waitMS:   []float64{0, 0, 0, 0, 15, 33, 50, 65},
		},
		{
			// A request issued the instant another completes does not
			// share that instant.
			name:   "back to back",
			reqs:   []Request{req(1, 0, 3), req(2, 3, 7), req(1, 7, 8)},
			heldMS: []float64{3, 4, 1},
			busyMS: 8,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bt := &BlockTrace{Requests: tc.reqs}
			bt.hold()
			var busy float64
			for i, r := range bt.Requests {
				if got := float64(r.HeldNS) / 1e6; math.Abs(got-tc.heldMS[i]) > 1e-9 {
					t.Errorf("request %d held %.3f ms, want %.3f", i, got, tc.heldMS[i])
				}
				want := float64(r.ServiceNS()-r.HeldNS) / 1e6
				if tc.waitMS != nil {
					want = tc.waitMS[i]
				}
				if got := float64(r.WaitNS()) / 1e6; math.Abs(got-want) > 1e-9 {
					t.Errorf("request %d: wait %.3f ms, want %.3f (residence %d, held %d, unloaded %d)", i, got, want, r.ServiceNS(), r.HeldNS, r.UnloadedNS)
				}
				busy += float64(r.HeldNS) / 1e6
			}
			if math.Abs(busy-tc.busyMS) > 1e-9 {
				t.Errorf("busy %.3f ms, want %.3f", busy, tc.busyMS)
			}
			m := &Model{BlockTrace: bt}
			got := m.WaitedBehind(m.DeviceName(procfs.Dev{Major: 7}), math.MinInt64, math.MaxInt64)
			if tc.behindMS == nil && len(got) > 0 {
				t.Errorf("waits named behind others: %v", got)
			}
			for w, hs := range tc.behindMS {
				for h, ms := range hs {
					if v := got[Task{PID: w, Comm: "p"}][Task{PID: h, Comm: "p"}] / 1e6; math.Abs(v-ms) > 1e-9 {
						t.Errorf("PID %d waited %.3f ms behind PID %d, want %.3f (all: %v)", w, v, h, ms, got)
					}
				}
			}
		})
	}
}

// On every sample with a block trace, each device's requests hold at
// most the trace's span in all, and no request holds more than its
// residence.
func TestHoldOnSamples(t *testing.T) {
	for _, name := range []string{"overlay-slow-disk", "dirty-throttled"} {
		m, err := LoadFile("../../samples/"+name+".tar.zst", bundle.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		bt := m.BlockTrace
		if bt == nil {
			t.Fatalf("%s has no block trace", name)
		}
		span := float64(bt.LastNS - bt.FirstNS)
		for dev, dt := range m.DeviceTimes() {
			if dt.BusyNS > span*1.0001 || dt.BusyNS <= 0 {
				t.Errorf("%s %s: busy %.0f ns over a %.0f ns trace", name, dev, dt.BusyNS, span)
			}
		}
		for i, r := range bt.Requests {
			if r.HeldNS < 0 || r.HeldNS > r.ServiceNS() {
				t.Fatalf("%s request %d: held %d of a %d ns residence", name, i, r.HeldNS, r.ServiceNS())
			}
		}
	}
}
