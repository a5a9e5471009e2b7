package model

import (
	"container/heap"
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

// hold sets every request's HeldNS: the busy time of its device it held.
func (bt *BlockTrace) hold() {
	for _, idx := range bt.byDevice() {
		holdSweep(bt.Requests, idx, func(inFlight []int, from, to int64) {
			bt.Requests[inFlight[0]].HeldNS += to - from
		})
	}
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
		holdSweep(bt.Requests, idx, func(inFlight []int, from, to int64) {
			holder := &bt.Requests[inFlight[0]]
			kind, weights := ch.of(holder)
			for _, w := range inFlight[1:] {
				r := &bt.Requests[w]
				if r.CompleteNS <= fromNS || r.CompleteNS > toNS || ch.kernel(r.Task()) {
					continue
				}
				waiter := r.Task()
				if out[waiter] == nil {
					out[waiter] = map[Task]float64{}
				}
				ns := float64(to - from)
				switch kind {
				case ownRequest:
					out[waiter][holder.Task()] += ns
				case journalRequest, writebackRequest, flushRequest:
					spread(weights, func(t Task, frac float64) { out[waiter][t] += ns * frac })
				default:
					out[waiter][Task{Comm: kernelName(holder.Comm)}] += ns
				}
			}
		})
	}
	return out
}
