package replay

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/table"
)

// errNoBlockTrace is the block views' answer for a bundle without one.
var errNoBlockTrace = errors.New("the bundle has no block trace (collected with --no-block-trace, on a kernel without tracefs, or by an older collector)")

// biotop is bcc's biotop over the block trace: per device, who holds its
// time — a process's own requests, and the writeback and journal commits
// it caused — with its requests' count, size and mean latency.
func biotop(m *model.Model, o Options) ([]Block, error) {
	bt := m.BlockTrace
	if bt == nil {
		return nil, errNoBlockTrace
	}
	var blocks []Block
	for _, iv := range intervals(m, o) {
		from, to := m.Ticks[iv[0]].Mono, m.Ticks[iv[1]].Mono
		title := blockTitle(m, iv[0], iv[1])
		if o.Summary {
			from, to = bt.FirstNS-1, bt.LastNS
			title = "biotop over the whole block trace"
		}
		head := []string{"TIME% is the share of the device's busy time it caused: its own requests (OWN) plus the writeback of pages it dirtied (WBACK), the journal commits its synchronous writes forced (JRNL), the cache flushes that wrote out its data, whoever asked for them (FLUSH) and, under a loop, dm or md device, the stacking driver's, the flushers' and the journal's requests for what it sent the device above (STACK), and the writeback of others' dirty pages its sync() or syncfs() calls forced out (SYNC); PID -1 is time no user process explains",
			"I/O and Kbytes are the requests the device served for it: its own, and its part of the writeback and journal requests charged to it",
			"each stretch of busy time is held by the request in flight that completes first, and the others wait behind it: AVGms is its own requests' time from issue to completion, WAITms the part of it (and of their time in the scheduler's queue) spent waiting"}
		switch {
		case to <= bt.FirstNS || from >= bt.LastNS:
			head = append(head, fmt.Sprintf("outside the block trace (%.1f s from the start of the capture)", bt.Seconds()))
		case bt.Info.Overruns > 0:
			head = append(head, bt.LostNote())
		}
		if note := bt.OtherTracersNote(); note != "" {
			head = append(head, note)
		}
		blocks = append(blocks, Block{Title: title, From: iv[0], To: iv[1], Time: m.Ticks[iv[1]].Wall, Seconds: m.Seconds(iv[0], iv[1]),
			Header: head, Table: biotopTable(m.DeviceTimesBetween(from, to), o)})
	}
	return blocks, nil
}

// biotopTable is one interval's rows: per device, its causes.
func biotopTable(dts map[string]*model.DeviceTime, o Options) *table.Table {
	t := &table.Table{Columns: []table.Column{{Name: "DISK", Left: true}, {Name: "PID", Prec: -1}, {Name: "COMM", Left: true},
		{Name: "I/O", Key: "io", Prec: -1}, {Name: "Kbytes", Prec: 0}, {Name: "AVGms", Key: "avg_ms", Prec: 2}, {Name: "WAITms", Key: "wait_ms", Prec: 2}, {Name: "TIME%", Prec: 1},
		{Name: "OWN%", Prec: 1}, {Name: "WBACK%", Prec: 1}, {Name: "JRNL%", Prec: 1}, {Name: "FLUSH%", Prec: 1}, {Name: "STACK%", Prec: 1}, {Name: "SYNC%", Prec: 1}}}
	for _, name := range sortedDevices(dts) {
		dt := dts[name]
		pct := func(ns float64) float64 {
			if dt.BusyNS <= 0 {
				return 0
			}
			return ns / dt.BusyNS * 100
		}
		for _, s := range dt.Shares {
			if o.PID > 0 && s.Task.PID != o.PID {
				continue
			}
			pid, comm := int64(s.Task.PID), s.Task.Comm
			switch {
			case s.Kernel:
				pid, comm = -1, comm+" (kernel)"
			case s.Process != nil && s.Process.Collector:
				comm += " (iorca)"
			}
			reqs, bytes := s.CausedRequests, s.CausedBytes
			if s.Kernel {
				reqs, bytes = float64(s.Requests), float64(s.Bytes)
			}
			t.Add(table.Text(name), table.Int(pid), table.Text(comm), table.Int(int64(math.Round(reqs))), table.Num(bytes/1024),
				table.Num(s.Latency.MeanMS()), table.Num(s.MeanWaitMS()), table.Num(pct(s.NS())), table.Num(pct(s.DirectNS)), table.Num(pct(s.WritebackNS)), table.Num(pct(s.JournalNS)), table.Num(pct(s.FlushNS)), table.Num(pct(s.StackedNS)), table.Num(pct(s.ForcedNS)))
		}
	}
	return t
}

// biolatency is bcc's biolatency -D over the block trace: per device, the
// distribution of service times (issue to completion) in power-of-two
// microsecond buckets, and of queue times where a scheduler queued them.
func biolatency(m *model.Model, o Options) ([]Block, error) {
	dts := m.DeviceTimes()
	if dts == nil {
		return nil, errNoBlockTrace
	}
	var out []Block
	for _, name := range sortedDevices(dts) {
		dt := dts[name]
		b := histBlock(fmt.Sprintf("disk = %s, service time (issue to completion)", name), dt.Service)
		if note := m.BlockTrace.OtherTracersNote(); note != "" {
			b.Header = append(b.Header, note)
		}
		out = append(out, b)
		if dt.Queue.SumNS > 0 {
			out = append(out, histBlock(fmt.Sprintf("disk = %s, queue time (insert to issue)", name), dt.Queue))
		}
	}
	return out, nil
}

func histBlock(title string, h model.Histogram) Block {
	t := &table.Table{Columns: []table.Column{{Name: "usecs", Left: true}, {Name: "count", Prec: -1}, {Name: "distribution", Left: true}}}
	lo, hi := -1, -1
	var peak int64
	for i, c := range h.Buckets {
		if c > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
			peak = max(peak, c)
		}
	}
	for i := max(lo, 0); i <= hi; i++ {
		from := uint64(0)
		if i > 0 {
			from = 1 << i
		}
		bar := 0
		if peak > 0 {
			bar = int(h.Buckets[i] * 40 / peak)
		}
		t.Add(table.Text(fmt.Sprintf("%d -> %d", from, uint64(1)<<(i+1)-1)), table.Int(h.Buckets[i]), table.Text("|"+strings.Repeat("*", bar)+strings.Repeat(" ", 40-bar)+"|"))
	}
	head := []string{fmt.Sprintf("%d requests, mean %.2f ms, p50 <= %.3f ms, p99 <= %.3f ms", h.Count, h.MeanMS(), h.Percentile(50), h.Percentile(99))}
	return Block{Title: title, Header: head, Table: t}
}

func sortedDevices(dts map[string]*model.DeviceTime) []string {
	names := make([]string, 0, len(dts))
	for n := range dts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
