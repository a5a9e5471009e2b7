package rules

import (
	"sort"
)

// Rule is one check over the model.
type Rule struct {
	ID    string
	Check func(*Context) []Finding
}

// Rules lists every rule, in the order they run and their findings are
// listed before ranking. Their ids are stable: reports, JSON consumers and
// regression tests rely on them.
var Rules = []Rule{
	deviceSaturated,
	dominantIOProcess,
	cpuCost,
	containerLogFlood,
	smallWrites,
	syncWrites,
	writeAmplification,
	overlayHotPath,
	ioStalls,
	ioVictims,
	dirtyThrottling,
	cgroupThrottle,
	fsFull,
	kernelIOErrors,
	swapIO,
}

// Run runs every rule and ranks the findings: by severity, then by score,
// then by rule order and subject, so that the order is deterministic.
func Run(c *Context) []Finding {
	var out []Finding
	order := map[string]int{}
	for i, r := range Rules {
		order[r.ID] = i
		if len(c.Model.Ticks) < 2 {
			continue
		}
		out = append(out, r.Check(c)...)
	}
	out = mergeApps(c, out)
	gradeConfidence(c, out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if order[a.ID] != order[b.ID] {
			return order[a.ID] < order[b.ID]
		}
		return a.Subjects.Path+a.Subjects.Device < b.Subjects.Path+b.Subjects.Device
	})
	return out
}
