package model

import "sort"

// Bursts is how a device's busy time was spread, from the block trace:
// a device busy half the time may have served one request at a time
// throughout, or queued many at once in bursts between idle stretches;
// the second makes requests slow on a device iostat calls half idle.
type Bursts struct {
	// BusyNS is the time with at least one request in flight; Depth the
	// requests in flight on average during it (their residences over
	// BusyNS).
	BusyNS, Depth float64
	// UnloadedMS is what a request of its busiest class took with nothing
	// else in flight (Request.UnloadedNS), 0 if unknown.
	UnloadedMS float64
}

// BurstsOn is the busy time of one device in the block trace; ok is false
// without a trace or requests on it.
func (m *Model) BurstsOn(dev string) (b Bursts, ok bool) {
	bt := m.BlockTrace
	if bt == nil {
		return b, false
	}
	var reqs []*Request
	for i := range bt.Requests {
		if r := &bt.Requests[i]; m.DeviceName(r.Dev) == dev && r.CompleteNS > r.IssueNS {
			reqs = append(reqs, r)
		}
	}
	if len(reqs) == 0 {
		return b, false
	}
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].IssueNS < reqs[j].IssueNS })
	var residence float64
	var start, end int64 = reqs[0].IssueNS, reqs[0].CompleteNS
	classes := map[byte]int{}
	for _, r := range reqs {
		residence += float64(r.ServiceNS())
		classes[requestClass(r)]++
		if r.IssueNS > end {
			b.BusyNS += float64(end - start)
			start = r.IssueNS
		}
		end = max(end, r.CompleteNS)
	}
	b.BusyNS += float64(end - start)
	b.Depth = residence / b.BusyNS
	var top byte
	for cl, n := range classes {
		if n > classes[top] || (n == classes[top] && cl < top) {
			top = cl
		}
	}
	for _, r := range reqs {
		if requestClass(r) == top {
			b.UnloadedMS = float64(r.UnloadedNS) / 1e6
			break
		}
	}
	return b, true
}
