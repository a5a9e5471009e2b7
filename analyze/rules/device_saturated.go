package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/advice"
	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/report/content"
)

// deviceSaturated reports a whole device whose %util and await over the
// window are both above their thresholds: it is busy and requests wait.
// Evidence: iostat -x over the window and the worst tick.
var deviceSaturated = &Rule{ID: "device-saturated",
	Role: content.Saturation, Check: checkDeviceSaturated,
	Deciding: [][]Condition{
		{
			{Figure: FigUtilPct, Threshold: func(t window.Thresholds) float64 { return t.UtilPct }, Bounded: true, What: "%util"},
			{Figure: FigAquSz, Threshold: func(t window.Thresholds) float64 { return t.QueueDepth }, What: "requests queued (aqu-sz)"},
		},
		{{Figure: FigAwaitMS, Threshold: func(t window.Thresholds) float64 { return t.AwaitMS }, What: "ms await"}},
	},
	Watch: []Watch{AlertDevice},
}

func checkDeviceSaturated(c *window.Window) []content.Finding {
	var out []content.Finding
	names := make([]string, 0, len(c.Devices))
	for d := range c.Devices {
		names = append(names, d)
	}
	sort.Strings(names)
	var saturated []string
	for _, d := range names {
		if c.IsSaturated(d, c.Devices[d]) {
			saturated = append(saturated, d)
		}
	}
	// One iostat per one-second interval serves every saturated device.
	type perTick struct {
		busy   int
		worst  float64
		worstK int
	}
	ticks := make(map[string]*perTick, len(saturated))
	for _, d := range saturated {
		ticks[d] = &perTick{}
	}
	for k := c.From + 1; k <= c.To && len(saturated) > 0; k++ {
		stats := c.Model.DeviceIostat(k-1, k)
		for _, d := range saturated {
			t, p := stats[d], ticks[d]
			if c.IsSaturated(d, t) {
				p.busy++
			}
			if t.Util > p.worst {
				p.worst, p.worstK = t.Util, k
			}
		}
	}
	for _, d := range saturated {
		x := c.Devices[d]
		busy, worst, worstK := ticks[d].busy, ticks[d].worst, ticks[d].worstK
		what := fmt.Sprintf("iostat -x over %.0f s: %%util %.1f, await %.2f ms (r_await %.2f, w_await %.2f), aqu-sz %.2f, %.1f r/s %.1f w/s, %.1f rkB/s %.1f wkB/s",
			c.Seconds, x.Util, x.Await, x.RAwait, x.WAwait, x.AquSz, x.RPS, x.WPS, x.RkBPS, x.WkBPS)
		f := content.Finding{
			ID: "device-saturated", Severity: content.Critical, Confidence: content.High,
			Title:    fmt.Sprintf("Device %s is saturated: %.0f %% busy, %.1f ms per request", d, x.Util, x.Await),
			Summary:  saturationText(c, d, x),
			Subjects: content.Subjects{Device: d},
			Score:    x.Util * x.Await,
			Evidence: []content.Evidence{
				{Member: c.TicksMembers() + " (/proc/diskstats)", Ticks: c.TickSpan(), What: what,
					Figures: map[string]float64{FigUtilPct: x.Util, FigAwaitMS: x.Await, FigWPerS: x.WPS, FigWkbPerS: x.WkBPS, FigAquSz: x.AquSz}},
				{Member: "ticks (/proc/diskstats)", Ticks: c.TickSpan(),
					What: fmt.Sprintf("%d of %d one-second intervals above both thresholds; worst %%util %.1f at tick %s", busy, c.To-c.From, worst, c.Model.FormatTick(worstK))},
			},
			Mitigations: []content.Mitigation{
				{Horizon: content.Immediate, Key: "find-loader", Subject: d, Action: "Find the process that loads " + d, How: "iorca replay BUNDLE biotop --summary (with a block trace) or iotop --summary names who holds it; then the mitigations of its findings", Effect: "Other processes get the device back once it yields"},
				moveOff(c, d, x),
				sizeForLoad(x),
			},
		}
		addContributors(c, d, &f)
		selfInflictedSaturation(c, &f)
		if b := c.Model.Blocks[d]; b != nil {
			f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.HostMember, What: fmt.Sprintf("%s: scheduler %s, rotational %v, nr_requests %s", d, orDash(b.Scheduler), b.Rotational, orDash(b.Settings["queue/nr_requests"]))})
			if !b.Rotational && x.Util > c.Thresholds.UtilPct {
				f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.HostMember, What: "a non-rotational device serves requests in parallel; %util can reach 100 while it still has capacity (iostat(1)), which is why await is required too"})
			}
		}
		out = append(out, f)
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// addContributors names who holds a saturated device's time: the
// processes whose share reaches DeviceSharePct become the finding's
// subjects, the largest first, and the first mitigation names them.
func addContributors(c *window.Window, d string, f *content.Finding) {
	dt := c.DeviceTimes[d]
	if dt == nil || dt.BusyNS <= 0 {
		return
	}
	var parts []string
	for _, s := range c.Shares(d) {
		if len(parts) == 5 {
			break
		}
		if s.NS() > 0 {
			parts = append(parts, c.ShareText(d, s))
		}
	}
	if len(parts) == 0 {
		return
	}
	top := c.Contributors(d, 5)
	figs := map[string]float64{}
	for i, s := range top {
		if dt.Fraction(s)*100 < c.Thresholds.DeviceSharePct {
			break
		}
		f.Subjects.PIDs = append(f.Subjects.PIDs, s.Task.PID)
		if i == 0 {
			figs["top_share_pct"] = dt.Fraction(s) * 100
			f.Summary += fmt.Sprintf(" %s holds %.0f %% of its time.", prose.Sentence(c.ShareName(d, s)), dt.Fraction(s)*100)
			how := "See the findings on its write pattern below"
			if s.Process != nil {
				if m, ok := advice.SlowDown(c, s.Process, d); ok {
					how += "; meanwhile " + m.How
				}
			}
			f.Mitigations[0] = content.Mitigation{Horizon: content.Immediate, Action: "Slow, stop or move " + c.ShareName(d, s) + "'s IO on " + d,
				How: how, Effect: "The device's time goes back to the processes waiting for it"}
		}
	}
	what := fmt.Sprintf("who holds its time over %.1f s of block trace (%d requests): %s", dt.Seconds, dt.Requests, strings.Join(parts, "; "))
	if c.DeviceTimesEstimated {
		what = "estimated who holds its time (no block trace): " + strings.Join(parts, "; ")
	}
	f.Evidence = append(f.Evidence, content.Evidence{Member: c.DeviceTimeSource(), What: what, Figures: figs})
}

// saturationText says which test the device met.
func saturationText(c *window.Window, d string, x model.Iostat) string {
	if x.Util > c.Thresholds.UtilPct {
		return fmt.Sprintf("Device %s was busy %.0f %% of the time and requests waited %.1f ms on average (thresholds %.0f %% and %.0f ms).", d, x.Util, x.Await, c.Thresholds.UtilPct, c.Thresholds.AwaitMS)
	}
	t := fmt.Sprintf("Device %s had %.1f requests queued on average and they waited %.1f ms each (thresholds %.0f requests and %.0f ms); its %%util reads only %.0f %% because requests that last longer than a clock tick are undercounted in io_ticks", d, x.AquSz, x.Await, c.Thresholds.QueueDepth, c.Thresholds.AwaitMS, x.Util)
	if busy := c.TraceBusyPct(d); busy >= 0 {
		t += fmt.Sprintf(": the block trace shows a request in flight %.0f %% of the time", busy)
	}
	return t + "."
}

// selfInflictedSaturation lowers a saturation to info when the
// application holding the device is the only one that waited (the kernel
// threads doing its IO aside): the device paces its own load, and no one
// else pays for it.
func selfInflictedSaturation(c *window.Window, f *content.Finding) {
	if len(f.Subjects.PIDs) == 0 {
		return
	}
	holder := c.ByPID[f.Subjects.PIDs[0]]
	if holder == nil || holder.Proc.Kernel {
		return
	}
	if others, cgroups := otherWaiters(c, holder.Proc); len(others) > 0 || len(cgroups) > 0 {
		return
	}
	f.Severity = content.Info
	f.Summary += fmt.Sprintf(" Self-inflicted: no other task waited for %s; only %s and the kernel threads doing its IO did, so the device paces its own load.", f.Subjects.Device, window.Name(holder.Proc))
}

// lowBandwidthKBps is the data rate under which a saturated device is
// busy with operations (syncs, flushes, small requests), not with bytes.
const lowBandwidthKBps = 1024

// sizeForLoad is the long-term step for a saturated device: a faster
// device for a load of bytes; for a device saturated at a trickle of
// data, its operations are the load, and a bigger device would wait for
// each flush the same way.
func sizeForLoad(x model.Iostat) content.Mitigation {
	if x.RkBPS+x.WkBPS < lowBandwidthKBps {
		return content.Mitigation{Horizon: content.LongTerm, Action: "Alert before the device saturates; fix its operations, not its size",
			How:    fmt.Sprintf("It moved only %.0f kB/s: its time goes to syncs, flushes and small requests, which a bigger device does not make fewer (one with power-loss protection makes flushes cheap); the alert rules below", x.RkBPS+x.WkBPS),
			Effect: "Saturation is seen minutes before users see it"}
	}
	return content.Mitigation{Horizon: content.LongTerm, Action: "Size the device for the load, and alert before it saturates", How: "A faster device class, or spread the load over devices; the alert rules below", Effect: "Saturation is seen minutes before users see it"}
}

// moveOff is the short-term step of moving data off a saturated device:
// for a device busy writing, the writes this report names (to tmpfs,
// with its memory cost, when they are disposable); for one busy reading
// (a scan, a cold cache), the latency-sensitive data away from what is
// read.
func moveOff(c *window.Window, d string, x model.Iostat) content.Mitigation {
	if x.RkBPS+x.RPS > 0 && x.RkBPS > x.WkBPS {
		return advice.IsolateLatency(c, d, journalWaiters(c), content.ShortTerm)
	}
	return content.Mitigation{Horizon: content.ShortTerm, Key: advice.MoveHotDataKey, Subject: d, Generic: true, Action: "Move the hot data off " + d,
		How: "A separate volume (or tmpfs for disposable data such as logs) for the writes this report names; " + advice.TmpfsCost(c, nil, 0), Effect: "The workloads on " + d + " get low latency back"}
}
