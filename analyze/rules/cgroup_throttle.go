package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// cgroupThrottle reports a cgroup held at an IO limit it has configured
// (v2 io.max; v1 blkio.throttle.*_device): the rate it moved on that
// device over the window is at least ThrottleUsePct of the limit. Its
// processes' stalls then come from the throttle, not the device, and the
// report says the device's own utilisation to show it.
var cgroupThrottle = &Rule{ID: "cgroup-throttle",
	Role: content.Cause, Check: checkCgroupThrottle,
	Deciding: [][]Condition{{{Figure: FigUsePct, Threshold: func(t window.Thresholds) float64 { return t.ThrottleUsePct }, Bounded: true, What: "% of the limit"}}},
	Watch:    []Watch{AlertThrottle},
}

// Figures of a throttle finding's limit, for its alert: the limit's
// value, and whether it is on writes and in bytes (1) or not (0).
const (
	FigLimit        = "limit"
	FigLimitWrites  = "limit_on_writes"
	FigLimitInBytes = "limit_in_bytes"
)

type limitUse struct {
	dir         string // "write bytes", "read IOs"...
	limit, used float64
	unit        string
}

func checkCgroupThrottle(c *window.Window) []content.Finding {
	var dirs []string
	for d := range c.Model.Cgroups {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var out []content.Finding
	for _, d := range dirs {
		cg := c.Model.Cgroups[d]
		if len(cg.Samples) < 2 || (cg.IOMax == nil && cg.V1Limits == nil) {
			continue
		}
		a, b := cg.Samples[0], cg.Samples[len(cg.Samples)-1]
		secs := float64(b.Mono-a.Mono) / 1e9
		if secs <= 0 {
			continue
		}
		for _, dev := range limitedDevices(cg) {
			ua, ub := a.Bytes[dev], b.Bytes[dev]
			rates := map[string]float64{
				"read bytes": float64(ub.RBytes-ua.RBytes) / secs, "write bytes": float64(ub.WBytes-ua.WBytes) / secs,
				"read IOs": float64(ub.RIOs-ua.RIOs) / secs, "write IOs": float64(ub.WIOs-ua.WIOs) / secs,
			}
			var hits []limitUse
			for _, l := range limitsOf(cg, dev) {
				l.used = rates[l.dir]
				if l.limit > 0 && l.used >= c.Thresholds.ThrottleUsePct/100*l.limit {
					hits = append(hits, l)
				}
			}
			if len(hits) == 0 {
				continue
			}
			out = append(out, throttleFinding(c, cg, dev, hits, secs))
		}
	}
	return out
}

func limitedDevices(cg *model.Cgroup) []procfs.Dev {
	set := map[procfs.Dev]bool{}
	for dev, m := range cg.IOMax {
		if m.Limited() {
			set[dev] = true
		}
	}
	for _, lim := range cg.V1Limits {
		for dev, v := range lim {
			if v > 0 {
				set[dev] = true
			}
		}
	}
	var out []procfs.Dev
	for d := range set {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func limitsOf(cg *model.Cgroup, dev procfs.Dev) []limitUse {
	var out []limitUse
	if m, ok := cg.IOMax[dev]; ok {
		for _, x := range []struct {
			v    int64
			dir  string
			unit string
		}{{m.RBPS, "read bytes", "B/s"}, {m.WBPS, "write bytes", "B/s"}, {m.RIOPS, "read IOs", "IO/s"}, {m.WIOPS, "write IOs", "IO/s"}} {
			if x.v != procfs.Unlimited {
				out = append(out, limitUse{dir: x.dir, limit: float64(x.v), unit: x.unit})
			}
		}
	}
	names := map[string][2]string{"read_bps_device": {"read bytes", "B/s"}, "write_bps_device": {"write bytes", "B/s"},
		"read_iops_device": {"read IOs", "IO/s"}, "write_iops_device": {"write IOs", "IO/s"}}
	var keys []string
	for k := range cg.V1Limits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := cg.V1Limits[k][dev]; ok && v > 0 {
			n := names[k]
			out = append(out, limitUse{dir: n[0], limit: float64(v), unit: n[1]})
		}
	}
	return out
}

func throttleFinding(c *window.Window, cg *model.Cgroup, dev procfs.Dev, hits []limitUse, secs float64) content.Finding {
	devName := c.Model.DeviceName(dev)
	rel := cg.Path
	for _, root := range []string{c.Model.CgroupV1Root, c.Model.CgroupV2Root} {
		if root != "" && strings.HasPrefix(cg.Path, root) {
			rel = strings.TrimPrefix(cg.Path, root)
		}
	}
	if rel == "" {
		rel = "/"
	}
	// The subject names its hierarchy: a v1 blkio cgroup, or the v2
	// (unified) one, as /proc/PID/cgroup and the evidence chain do.
	file, label := "io.max", "unified:"+rel
	if !cg.V2 {
		file, label = "blkio.throttle.*_device", "blkio:"+rel
	}
	name := c.CgroupName(cg, "blkio")
	var parts []string
	for _, h := range hits {
		parts = append(parts, fmt.Sprintf("%s at %s of a %s limit (%.0f %%)", h.dir, rateText(h.used, h.unit), rateText(h.limit, h.unit), prose.Pct(h.used, h.limit)))
	}
	f := content.Finding{
		ID: "cgroup-throttle", Limit: content.IOLimit, Severity: content.Warning, Confidence: content.High, Score: prose.Pct(hits[0].used, hits[0].limit),
		Title:    fmt.Sprintf("The %s is held at its IO limit on %s: %s", name, devName, parts[0]),
		Subjects: content.Subjects{Cgroup: label, Device: devName},
		Evidence: []content.Evidence{
			{Member: bundle.CgroupLimitsMember + " (" + file + ")", What: fmt.Sprintf("%s/%s limits %s: %s", cg.Path, file, devName, limitsText(c, cg, dev))},
			{Member: c.TicksMembers() + " (cgroup IO counters)", Ticks: c.TickSpan(), What: fmt.Sprintf("over %.1f s the cgroup moved %s", secs, strings.Join(parts, "; ")),
				Figures: map[string]float64{FigUsePct: prose.Pct(hits[0].used, hits[0].limit), FigLimit: hits[0].limit, FigRate: hits[0].used,
					FigLimitWrites: boolFigure(strings.HasPrefix(hits[0].dir, "write")), FigLimitInBytes: boolFigure(hits[0].unit == "B/s")}},
		},
	}
	// Its processes, and whether they wait.
	var names []string
	for i := range c.Procs {
		p := &c.Procs[i]
		if inCgroup(p.Proc, rel, cg.V2) {
			f.Subjects.PIDs = append(f.Subjects.PIDs, p.Proc.PID)
			s := fmt.Sprintf("%s (D state in %d of %d ticks", window.Name(p.Proc), p.DStates, p.Samples)
			if io := p.IOPercent(c.Model.Manifest.Host.UserHZ); io > 0 {
				s += fmt.Sprintf(", IO delay %.0f %%", io)
			}
			names = append(names, s+")")
		}
	}
	if len(names) > 0 {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.ProcTableMember + " (cgroup) and ticks (/proc/PID/stat)", Ticks: c.TickSpan(), What: "processes in the cgroup: " + strings.Join(names, "; ")})
	}
	util := "not sampled"
	if x, ok := c.Devices[devName]; ok {
		util = fmt.Sprintf("%%util %.1f, await %.2f ms", x.Util, x.Await)
		f.Evidence = append(f.Evidence, content.Evidence{Member: c.TicksMembers() + " (/proc/diskstats)", Ticks: c.TickSpan(),
			What: fmt.Sprintf("%s itself: %s — the waits come from the throttle, not from the device", devName, util), Figures: map[string]float64{FigUtilPct: x.Util, FigAwaitMS: x.Await}})
	}
	f.Summary = fmt.Sprintf("The %s has an IO limit on %s and runs at it: %s. Its processes wait because of the limit; the device itself shows %s.", name, devName, strings.Join(parts, "; "), util)
	// How long work takes under the limit, and what it holds on v1.
	for _, h := range hits {
		if h.unit == "B/s" && h.limit > 0 {
			verb := "read"
			if strings.HasPrefix(h.dir, "write") {
				verb = "written"
			}
			f.Summary += fmt.Sprintf(" At %s/s, each GiB %s takes %.1f minutes.", prose.Bytes(h.limit), verb, float64(1<<30)/h.limit/60)
			break
		}
	}
	if !cg.V2 {
		f.Evidence = append(f.Evidence, content.Evidence{Member: bundle.CgroupLimitsMember, What: "a cgroup v1 blkio limit holds only for direct and synchronous IO: buffered writes escape it, written back later by kworkers outside the cgroup"})
	}
	f.Mitigations = []content.Mitigation{
		{Horizon: content.Immediate, Action: "Check whether the limit is intended, and who set it", How: undoLimit(cg, dev) + " (limits come from systemd's IOWriteBandwidthMax=/IOReadBandwidthMax=, docker run --device-write-bps, or a manual write to the file; Kubernetes sets none)", Effect: "The workload runs at the device's speed again"},
		{Horizon: content.ShortTerm, Action: "If it is intended, size it for the workload or make the workload fit", How: "Raise the limit to the workload's need, or have the workload write less (see its other findings)", Effect: "No more stalls at the limit"},
		{Horizon: content.LongTerm, Action: "Alert on throttling, not only on device saturation", How: throttleTrack(cg.V2), Effect: "A throttled service is told apart from a slow disk at once"},
	}
	return f
}

// undoLimit says how to read the limit and lift it, for the cgroup's
// version.
func undoLimit(cg *model.Cgroup, dev procfs.Dev) string {
	if cg.V2 {
		return fmt.Sprintf("cat %s/io.max; to lift it: echo \"%s rbps=max wbps=max riops=max wiops=max\" > %s/io.max", cg.Path, dev, cg.Path)
	}
	var files []string
	for k := range cg.V1Limits {
		files = append(files, k)
	}
	sort.Strings(files)
	var parts []string
	for _, f := range files {
		parts = append(parts, fmt.Sprintf("echo \"%s 0\" > %s/blkio.throttle.%s", dev, cg.Path, f))
	}
	return fmt.Sprintf("grep . %s/blkio.throttle.*_device; to lift it: %s", cg.Path, strings.Join(parts, "; "))
}

func rateText(v float64, unit string) string {
	if unit == "B/s" {
		return prose.Bytes(v) + "/s"
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

func limitsText(c *window.Window, cg *model.Cgroup, dev procfs.Dev) string {
	var parts []string
	for _, l := range limitsOf(cg, dev) {
		parts = append(parts, l.dir+" "+rateText(l.limit, l.unit))
	}
	return strings.Join(parts, ", ")
}

// inCgroup reports whether a process's cgroup (v2, or v1 blkio) is rel or
// below it.
func inCgroup(p *model.Process, rel string, v2 bool) bool {
	for _, cg := range p.Cgroups {
		isV2 := cg.HierarchyID == 0 && cg.Controllers == nil
		if isV2 != v2 {
			continue
		}
		if !v2 && !hasString(cg.Controllers, "blkio") {
			continue
		}
		if cg.Path == rel || strings.HasPrefix(cg.Path, strings.TrimSuffix(rel, "/")+"/") {
			return true
		}
	}
	return false
}

func hasString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func boolFigure(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// throttleTrack is what to watch for a throttled cgroup, in its cgroup
// version's files.
func throttleTrack(v2 bool) string {
	if v2 {
		return "Track the cgroup's io.stat rate against its io.max, and its io.pressure"
	}
	return "Track the cgroup's blkio.throttle.io_service_bytes and io_serviced rates against its blkio.throttle.*_device limits"
}
