package rules

import "fmt"

// swapIO reports paging to and from swap (vmstat pswpin, pswpout): memory
// pressure turned into disk IO.
var swapIO = Rule{ID: "swap-io", Check: checkSwapIO}

func checkSwapIO(c *Context) []Finding {
	a, b := c.Model.Ticks[c.From].Vmstat, c.Model.Ticks[c.To].Vmstat
	if a == nil || b == nil || c.Seconds <= 0 {
		return nil
	}
	in := float64(b["pswpin"]-a["pswpin"]) / c.Seconds
	out := float64(b["pswpout"]-a["pswpout"]) / c.Seconds
	if in+out < c.Thresholds.SwapPagesPerSec {
		return nil
	}
	page := float64(c.Model.Manifest.Host.PageSize)
	mem := c.Model.Ticks[c.To].Meminfo
	return []Finding{{
		ID: "swap-io", Severity: Warning, Confidence: High, Score: in + out,
		Title:   fmt.Sprintf("The node swaps: %.0f pages/s in, %.0f out", in, out),
		Summary: fmt.Sprintf("Memory pressure makes the kernel page to swap: %s/s in and %s/s out, on top of the workload's own IO.", human(in*page), human(out*page)),
		Evidence: []Evidence{{Member: c.TicksMembers() + " (/proc/vmstat, /proc/meminfo)", Ticks: c.tickSpan(),
			What:    fmt.Sprintf("pswpin +%d, pswpout +%d pages over %.1f s; MemAvailable %d kB, SwapFree %d of %d kB", b["pswpin"]-a["pswpin"], b["pswpout"]-a["pswpout"], c.Seconds, mem["MemAvailable"], mem["SwapFree"], mem["SwapTotal"]),
			Figures: map[string]float64{"pswpin_per_s": in, "pswpout_per_s": out}}},
		Mitigations: []Mitigation{
			{Horizon: Immediate, Action: "Find the memory consumer", How: "ps -eo pid,rss,comm --sort=-rss | head; memory.current of the cgroups", Effect: "The cause of the paging is known"},
			{Horizon: ShortTerm, Action: "Bound memory per workload", How: "Memory limits (memory.max / resources.limits.memory) sized to the working set", Effect: "Paging stops; the OOM killer acts on the offender instead of the whole node slowing down"},
		},
	}}
}
