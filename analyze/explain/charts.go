package explain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

// maxChartSeries bounds the series of a chart: the busiest, then "others".
const maxChartSeries = 5

// Charts are the HTML report's figures, from the model: who writes and
// who reads over time, the busiest devices' %util and await against the
// alert thresholds, IO pressure, dirty memory against its thresholds, the
// targets' write sizes, and the devices' latency distributions. The onset
// and the trigger are marked on every time chart.
func Charts(d *verdict.Diagnosis) []content.Chart {
	c := d.Window
	m := c.Model
	if len(m.Ticks) < 2 {
		return nil
	}
	x := make([]float64, len(m.Ticks)-1)
	for k := 1; k < len(m.Ticks); k++ {
		x[k-1] = m.Seconds(0, k)
	}
	var marks []content.Mark
	if o := d.Verdict.Onset; o != nil && !o.UnderWay {
		marks = append(marks, content.Mark{Label: "onset", X: o.Seconds})
	}
	if t := d.Verdict.Trigger; t != nil && t.Tick > 0 && t.Tick < len(m.Ticks) {
		marks = append(marks, content.Mark{Label: "trigger", X: m.Seconds(0, t.Tick)})
	}
	var out []content.Chart
	add := func(ch *content.Chart) {
		if ch != nil {
			ch.Marks = marks
			if ch.Kind == content.ChartBars {
				ch.Marks = nil
			}
			out = append(out, *ch)
		}
	}
	perTick := appRates(c)
	add(ioChart(perTick, x, true))
	add(ioChart(perTick, x, false))
	util, await := deviceCharts(c, x)
	add(util)
	add(await)
	add(psiChart(c, x))
	add(dirtyChart(c))
	add(writeSizeChart(c))
	add(latencyChart(c))
	return out
}

// tickRates is one interval's write and read rates by application.
type tickRates struct{ write, read map[string]float64 }

// appRates sums, per interval, the write_bytes and read_bytes rates
// (MiB/s) of each application; kernel threads are left out (writeback, a
// loop device's worker: they do IO on behalf of others, who are counted
// already), as the report's totals leave them.
func appRates(c *window.Window) []tickRates {
	m := c.Model
	out := make([]tickRates, len(m.Ticks)-1)
	for k := 1; k < len(m.Ticks); k++ {
		tr := tickRates{write: map[string]float64{}, read: map[string]float64{}}
		out[k-1] = tr
		s := m.Seconds(k-1, k)
		if s <= 0 {
			continue
		}
		for _, p := range m.ProcessIO(k-1, k) {
			if p.Proc.Collector || p.Proc.Kernel || p.Delta.IO.WriteBytes+p.Delta.IO.ReadBytes <= 0 {
				continue
			}
			name := c.AppLabel(p.Proc, true)
			tr.write[name] += float64(p.Delta.IO.WriteBytes) / s / (1 << 20)
			tr.read[name] += float64(p.Delta.IO.ReadBytes) / s / (1 << 20)
		}
	}
	return out
}

// ioChart stacks the write (or read) rate of the busiest applications per
// interval, in MiB/s, with the rest as "others".
func ioChart(perTick []tickRates, x []float64, writes bool) *content.Chart {
	n := len(x)
	per := map[string][]float64{}
	total := map[string]float64{}
	for k, tr := range perTick {
		rates := tr.read
		if writes {
			rates = tr.write
		}
		for name, rate := range rates {
			if rate <= 0 {
				continue
			}
			if per[name] == nil {
				per[name] = make([]float64, n)
			}
			per[name][k] += rate
			total[name] += rate
		}
	}
	if len(per) == 0 {
		return nil
	}
	names := make([]string, 0, len(per))
	for k := range per {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if total[names[i]] != total[names[j]] {
			return total[names[i]] > total[names[j]]
		}
		return names[i] < names[j]
	})
	ch := &content.Chart{Kind: content.ChartStacked, X: x, XLabel: "seconds since the capture began", YLabel: "MiB/s"}
	var others []float64
	for i, name := range names {
		if i < maxChartSeries {
			ch.Series = append(ch.Series, content.Series{Name: name, Values: per[name]})
			continue
		}
		if others == nil {
			others = make([]float64, n)
		}
		for k, v := range per[name] {
			others[k] += v
		}
	}
	if others != nil {
		ch.Series = append(ch.Series, content.Series{Name: fmt.Sprintf("%d others", len(names)-maxChartSeries), Values: others})
	}
	top := names[0]
	if writes {
		ch.ID, ch.Title = "chart-writes", "Who dirties pages for writing, per second (write_bytes)"
		ch.Alt = fmt.Sprintf("Stacked write_bytes rates of the %d busiest applications per interval; %s dirtied the most, %.2f MiB/s on average. write_bytes counts page-cache pages dirtied, which writeback sends to the device later.", len(ch.Series), top, total[top]/float64(n))
	} else {
		ch.ID, ch.Title = "chart-reads", "Who reads from the devices, per second (read_bytes)"
		ch.Alt = fmt.Sprintf("Stacked read_bytes rates of the %d busiest applications per interval; %s read the most, %.2f MiB/s on average.", len(ch.Series), top, total[top]/float64(n))
	}
	return ch
}

// deviceCharts draw the busiest devices' %util and await per interval,
// with the thresholds the rules judge them by.
func deviceCharts(c *window.Window, x []float64) (*content.Chart, *content.Chart) {
	m := c.Model
	devs := make([]string, 0, len(c.Devices))
	for d := range c.Devices {
		devs = append(devs, d)
	}
	sort.Slice(devs, func(i, j int) bool {
		a, b := c.Devices[devs[i]], c.Devices[devs[j]]
		if a.Util != b.Util {
			return a.Util > b.Util
		}
		return devs[i] < devs[j]
	})
	if len(devs) > 3 {
		devs = devs[:3]
	}
	if len(devs) == 0 {
		return nil, nil
	}
	util := &content.Chart{ID: "chart-util", Kind: content.ChartLines, X: x, XLabel: "seconds since the capture began", YLabel: "%util", YMax: 100,
		Title: "How busy the devices were (%util, iostat -x)", Thresholds: []content.ChartThreshold{{Label: fmt.Sprintf("alert: %.0f %%", c.Thresholds.UtilPct), Value: c.Thresholds.UtilPct}}}
	await := &content.Chart{ID: "chart-await", Kind: content.ChartLines, X: x, XLabel: "seconds since the capture began", YLabel: "await, ms",
		Title: "How long requests took (await, iostat -x)", Thresholds: []content.ChartThreshold{{Label: fmt.Sprintf("alert: %.0f ms", c.Thresholds.AwaitMS), Value: c.Thresholds.AwaitMS}}}
	for _, d := range devs {
		u, a := make([]float64, len(x)), make([]float64, len(x))
		for k := 1; k < len(m.Ticks); k++ {
			st := m.DeviceIostat(k-1, k)[d]
			u[k-1], a[k-1] = st.Util, st.Await
		}
		util.Series = append(util.Series, content.Series{Name: d, Values: u})
		await.Series = append(await.Series, content.Series{Name: d, Values: a})
	}
	first := c.Devices[devs[0]]
	util.Alt = fmt.Sprintf("%%util per interval of %s; over the window %s was %.0f %% busy; the dashed line is the %.0f %% alert threshold.", strings.Join(devs, ", "), devs[0], first.Util, c.Thresholds.UtilPct)
	await.Alt = fmt.Sprintf("Mean time per request (await) per interval of %s; over the window %s's was %.1f ms; the dashed line is the %.0f ms alert threshold.", strings.Join(devs, ", "), devs[0], first.Await, c.Thresholds.AwaitMS)
	return util, await
}

// psiChart draws the share of each interval in which some or all
// non-idle tasks waited for IO.
func psiChart(c *window.Window, x []float64) *content.Chart {
	m := c.Model
	some, full := make([]float64, len(x)), make([]float64, len(x))
	seen := false
	for k := 1; k < len(m.Ticks); k++ {
		if sm, fl, ok := m.PSIShare(k-1, k); ok {
			some[k-1], full[k-1], seen = sm, fl, true
		}
	}
	if !seen {
		return nil
	}
	peak := 0.0
	for _, v := range some {
		peak = max(peak, v)
	}
	return &content.Chart{ID: "chart-psi", Kind: content.ChartLines, X: x, XLabel: "seconds since the capture began", YLabel: "% of the interval", YMax: 100,
		Title: "How long tasks stalled on IO (PSI io)", Series: []content.Series{{Name: "some task waited", Values: some}, {Name: "all tasks waited", Values: full}},
		Thresholds: []content.ChartThreshold{{Label: fmt.Sprintf("stall: %.0f %%", c.Thresholds.PSISomePct), Value: c.Thresholds.PSISomePct}},
		Alt:        fmt.Sprintf("The share of each interval in which some, or all, non-idle tasks waited for IO (/proc/pressure/io totals); some peaked at %.0f %%.", peak)}
}

// dirtyChart draws dirty and writeback memory per tick against the
// background threshold (where writeback starts) and the dirty limit
// (where writers are throttled), in MiB.
func dirtyChart(c *window.Window) *content.Chart {
	m := c.Model
	if m.Ticks[0].Vmstat == nil {
		return nil
	}
	page := float64(m.Manifest.Host.PageSize)
	if page <= 0 {
		page = 4096
	}
	x := make([]float64, len(m.Ticks))
	dirty, wb := make([]float64, len(m.Ticks)), make([]float64, len(m.Ticks))
	var bg, lim float64
	for k, tk := range m.Ticks {
		x[k] = m.Seconds(0, k)
		if v := tk.Vmstat; v != nil {
			dirty[k] = float64(v["nr_dirty"]) * page / (1 << 20)
			wb[k] = float64(v["nr_writeback"]) * page / (1 << 20)
			bg = float64(v["nr_dirty_background_threshold"]) * page / (1 << 20)
			lim = float64(v["nr_dirty_threshold"]) * page / (1 << 20)
		}
	}
	peak := 0.0
	for k := range dirty {
		peak = max(peak, dirty[k]+wb[k])
	}
	ch := &content.Chart{ID: "chart-dirty", Kind: content.ChartStacked, X: x, XLabel: "seconds since the capture began", YLabel: "MiB",
		Title:  "Dirty page cache against its thresholds",
		Series: []content.Series{{Name: "dirty", Values: dirty}, {Name: "under writeback", Values: wb}},
		Alt:    fmt.Sprintf("Dirty and writeback memory per tick (/proc/vmstat), at most %.1f MiB; writeback starts at the background threshold (%.0f MiB) and writers are throttled at the dirty limit (%.0f MiB).", peak, bg, lim)}
	// Thresholds far above the curve would flatten it: drawn when near.
	if bg > 0 && bg <= 4*max(peak, 1) {
		ch.Thresholds = append(ch.Thresholds, content.ChartThreshold{Label: fmt.Sprintf("background %.0f MiB", bg), Value: bg})
	}
	if lim > 0 && lim <= 4*max(peak, 1) {
		ch.Thresholds = append(ch.Thresholds, content.ChartThreshold{Label: fmt.Sprintf("dirty limit %.0f MiB", lim), Value: lim})
	}
	return ch
}

// writeSizeChart draws the traced targets' write sizes (strace).
func writeSizeChart(c *window.Window) *content.Chart {
	ch := &content.Chart{ID: "chart-write-sizes", Kind: content.ChartBars, Categories: model.SizeBucketNames, XLabel: "write size", YLabel: "writes"}
	total := 0
	for _, tv := range c.Targets {
		s := tv.Summary
		if s == nil {
			continue
		}
		hist := make([]float64, len(model.SizeBucketNames))
		n := 0
		for _, f := range s.Files {
			for i, v := range f.WriteHist {
				if i < len(hist) {
					hist[i] += float64(v)
					n += v
				}
			}
		}
		if n == 0 {
			continue
		}
		total += n
		ch.Series = append(ch.Series, content.Series{Name: fmt.Sprintf("%d %s", tv.Target.Info.PID, tv.Target.Info.Comm), Values: hist})
	}
	if total == 0 {
		return nil
	}
	ch.Title = "How large the traced writes were (strace)"
	ch.Alt = fmt.Sprintf("%d traced write calls by size, per target; writes under a page (4 KiB) cost a whole page of page cache and, synced, a whole block on the device.", total)
	return ch
}

// latencyChart draws each traced device's service-time distribution
// (biolatency -D), in power-of-two buckets.
func latencyChart(c *window.Window) *content.Chart {
	devs := make([]string, 0, len(c.DeviceTimes))
	for d, dt := range c.DeviceTimes {
		if dt != nil && dt.Service.Count > 0 && !c.DeviceTimesEstimated {
			devs = append(devs, d)
		}
	}
	if len(devs) == 0 {
		return nil
	}
	sort.Strings(devs)
	lo, hi := len(c.DeviceTimes[devs[0]].Service.Buckets), 0
	for _, d := range devs {
		for i, n := range c.DeviceTimes[d].Service.Buckets {
			if n > 0 {
				lo, hi = min(lo, i), max(hi, i)
			}
		}
	}
	ch := &content.Chart{ID: "chart-latency", Kind: content.ChartBars, XLabel: "service time (issue to completion)", YLabel: "requests"}
	for i := lo; i <= hi; i++ {
		ch.Categories = append(ch.Categories, latencyBucket(i))
	}
	var parts []string
	for _, d := range devs {
		h := c.DeviceTimes[d].Service
		v := make([]float64, 0, hi-lo+1)
		for i := lo; i <= hi; i++ {
			v = append(v, float64(h.Buckets[i]))
		}
		ch.Series = append(ch.Series, content.Series{Name: d, Values: v})
		parts = append(parts, fmt.Sprintf("%s: %d requests, mean %.2f ms, 99th percentile under %.2f ms", d, h.Count, h.MeanMS(), h.Percentile(99)))
	}
	ch.Title = "How long the devices took per request (block trace)"
	ch.Alt = "Service-time distribution of each traced device's requests, as biolatency -D: " + strings.Join(parts, "; ") + "."
	return ch
}

// latencyBucket names bucket i: [2^i, 2^(i+1)) µs.
func latencyBucket(i int) string {
	lo := uint64(1) << i
	switch {
	case lo >= 1000000:
		return fmt.Sprintf("%d s", lo/1000000)
	case lo >= 1000:
		return fmt.Sprintf("%d ms", lo/1000)
	}
	return fmt.Sprintf("%d µs", lo)
}
