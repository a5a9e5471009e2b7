package model

import (
	"container/heap"
	"slices"
	"sort"

	"github.com/iorca/iorca/internal/procfs"
)

// Whose time is it (REFERENCE-IO.md §14)? A request's residence, issue to
// completion, is not what it cost the device: while requests overlap,
// they share the device's busy time, and the rest of each one's residence
// is waiting behind the others. Every stretch of time with requests in
// flight is held by the one among them that completes first — on a device
// that serves one request at a time, the one being served (its time from
// the previous completion); on one that serves several, the next to
// finish — and every other request in flight waits behind it. The held
// times of a device's requests add up to its busy time, never more.
//
// Held time is a share of busy time, not a measure of waiting. On a
// device that serves several requests at once (a disk with a deep
// queue, a network block device, a delay that every request pays in
// parallel) a request in flight beside others is served meanwhile, not
// queued: it took what it would have taken alone. So what a request
// waited in flight is only its residence beyond its unloaded service —
// what a request of its class took with nothing else in flight
// (unloadedService) — and never more than the time it did not hold. On
// a device that serves one at a time the two agree: a request held its
// own service, and the rest of its residence it waited.

// holdSweep walks the requests idx of one device in time order and calls
// fn for every stretch [from, to) with requests in flight: inFlight[0]
// holds it, the others wait behind it. Completions at an instant come
// before issues at that instant.
func holdSweep(reqs []Request, idx []int, fn func(inFlight []int, from, to int64)) {
	order := append([]int(nil), idx...)
	sort.Slice(order, func(a, b int) bool {
		ra, rb := &reqs[order[a]], &reqs[order[b]]
		if ra.IssueNS != rb.IssueNS {
			return ra.IssueNS < rb.IssueNS
		}
		return order[a] < order[b]
	})
	h := &flight{reqs: reqs}
	var now int64
	for next := 0; next < len(order) || h.Len() > 0; {
		// The next event: the earliest completion in flight, or the
		// next issue, whichever comes first (a completion on a tie).
		at, issue := int64(0), false
		switch {
		case h.Len() == 0:
			at, issue = reqs[order[next]].IssueNS, true
		case next < len(order) && reqs[order[next]].IssueNS < reqs[h.idx[0]].CompleteNS:
			at, issue = reqs[order[next]].IssueNS, true
		default:
			at = reqs[h.idx[0]].CompleteNS
		}
		if h.Len() > 0 && at > now {
			fn(h.idx, now, at)
		}
		now = max(now, at)
		if issue {
			heap.Push(h, order[next])
			next++
		} else {
			heap.Pop(h)
		}
	}
}

// flight is the requests in flight, the first to complete at the top.
type flight struct {
	reqs []Request
	idx  []int
}

func (f *flight) Len() int { return len(f.idx) }
func (f *flight) Less(i, j int) bool {
	a, b := &f.reqs[f.idx[i]], &f.reqs[f.idx[j]]
	if a.CompleteNS != b.CompleteNS {
		return a.CompleteNS < b.CompleteNS
	}
	return f.idx[i] < f.idx[j]
}
func (f *flight) Swap(i, j int) { f.idx[i], f.idx[j] = f.idx[j], f.idx[i] }
func (f *flight) Push(x any)    { f.idx = append(f.idx, x.(int)) }
func (f *flight) Pop() any {
	n := len(f.idx) - 1
	x := f.idx[n]
	f.idx = f.idx[:n]
	return x
}

// byDevice groups the requests' indices by device.
func (bt *BlockTrace) byDevice() map[procfs.Dev][]int {
	out := map[procfs.Dev][]int{}
	for i := range bt.Requests {
		d := bt.Requests[i].Dev
		out[d] = append(out[d], i)
	}
	return out
}

// hold sets every request's HeldNS, the busy time of its device it
// held, and UnloadedNS, its class's service with nothing else in flight.
func (bt *BlockTrace) hold() {
	for _, idx := range bt.byDevice() {
		holdSweep(bt.Requests, idx, func(inFlight []int, from, to int64) {
			bt.Requests[inFlight[0]].HeldNS += to - from
		})
		unloadedService(bt.Requests, idx)
	}
}

// minIdleSamples is how many requests of a class issued to an idle
// device make their median its unloaded service.
const minIdleSamples = 3

// requestClass groups requests the device serves alike: reads, writes,
// data-less flushes, discards.
func requestClass(r *Request) byte {
	switch {
	case r.Discard():
		return 'D'
	case r.Read():
		return 'R'
	case r.Write() && r.Bytes > 0:
		return 'W'
	case r.Flush():
		return 'F'
	}
	return '?'
}

// unloadedService sets UnloadedNS on the requests idx of one device, per
// class: the median residence of those issued while nothing else was in
// flight (served at once, whatever the device's parallelism), or, with
// fewer than minIdleSamples of them, the class's shortest residence —
// an upper bound on its service, so that the wait claimed is never more
// than the evidence shows.
func unloadedService(reqs []Request, idx []int) {
	idle := map[byte][]int64{}
	shortest := map[byte]int64{}
	order := append([]int(nil), idx...)
	sort.Slice(order, func(a, b int) bool { return reqs[order[a]].IssueNS < reqs[order[b]].IssueNS })
	var busyUntil int64 // the latest completion of the requests issued so far
	for n, i := range order {
		r := &reqs[i]
		cl := requestClass(r)
		if s, ok := shortest[cl]; !ok || r.ServiceNS() < s {
			shortest[cl] = r.ServiceNS()
		}
		if n == 0 || r.IssueNS >= busyUntil {
			idle[cl] = append(idle[cl], r.ServiceNS())
		}
		busyUntil = max(busyUntil, r.CompleteNS)
	}
	unloaded := map[byte]int64{}
	for cl, s := range shortest {
		unloaded[cl] = s
		if l := idle[cl]; len(l) >= minIdleSamples {
			slices.Sort(l)
			unloaded[cl] = l[len(l)/2]
		}
	}
	for _, i := range idx {
		reqs[i].UnloadedNS = unloaded[requestClass(&reqs[i])]
	}
}

// inFlightWaitNS is how long the request waited in flight: its
// residence beyond both what it held and its class's unloaded service.
func (r *Request) inFlightWaitNS() int64 {
	return max(0, r.ServiceNS()-max(r.HeldNS, r.UnloadedNS))
}

// WaitedBehind is, for the requests of one device that completed in
// (fromNS, toNS], how long each task's own requests waited in flight
// behind whom: the cause of the request that held the device meanwhile,
// as DeviceTimes charges it (a writeback request's dirtiers, a journal
// commit's sync writers, by their weights; a kernel thread left as the
// cause by its kind).
func (m *Model) WaitedBehind(dev string, fromNS, toNS int64) map[Task]map[Task]float64 {
	bt := m.BlockTrace
	if bt == nil {
		return nil
	}
	ch := m.charger()
	out := map[Task]map[Task]float64{}
	for d, idx := range bt.byDevice() {
		if m.DeviceName(d) != dev {
			continue
		}
		// Each request's time in flight behind others, by holder; then
		// scaled to what it waited (inFlightWaitNS): on a device that
		// served it meanwhile, the overlap was not waiting.
		behind := map[int]map[Task]float64{}
		holdSweep(bt.Requests, idx, func(inFlight []int, from, to int64) {
			holder := &bt.Requests[inFlight[0]]
			kind, weights := ch.of(holder)
			for _, w := range inFlight[1:] {
				r := &bt.Requests[w]
				if r.CompleteNS <= fromNS || r.CompleteNS > toNS || ch.kernel(r.Task()) {
					continue
				}
				if behind[w] == nil {
					behind[w] = map[Task]float64{}
				}
				ns := float64(to - from)
				switch kind {
				case ownRequest:
					behind[w][holder.Task()] += ns
				case journalRequest, writebackRequest, flushRequest:
					spread(weights, func(t Task, frac float64) { behind[w][t] += ns * frac })
				default:
					behind[w][Task{Comm: kernelName(holder.Comm)}] += ns
				}
			}
		})
		for w, holders := range behind {
			r := &bt.Requests[w]
			overlap := float64(r.ServiceNS() - r.HeldNS)
			if overlap <= 0 {
				continue
			}
			part := float64(r.inFlightWaitNS()) / overlap
			if part <= 0 {
				continue
			}
			waiter := r.Task()
			if out[waiter] == nil {
				out[waiter] = map[Task]float64{}
			}
			for h, ns := range holders {
				out[waiter][h] += ns * part
			}
		}
	}
	return out
}
