package explain

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/analyze/verdict"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/report/content"
)

func build(t *testing.T, name string) (*content.Report, *verdict.Diagnosis) {
	t.Helper()
	d := verdict.Diagnose(sampletest.Model(t, name), window.Defaults())
	return Build("/some/where/"+name+".tar.zst", d), d
}

// A report carries the diagnosis as it is — the verdict, the findings in
// their order — and names the bundle by its file name only, never a path
// of the machine that made the report.
func TestBuildCarriesTheDiagnosis(t *testing.T) {
	r, d := build(t, "overlay-slow-disk")
	if r.Bundle != "overlay-slow-disk.tar.zst" || strings.Contains(r.Intro.Plain(), "/some/where") {
		t.Errorf("bundle %q, intro %q", r.Bundle, r.Intro.Plain())
	}
	if r.Verdict.Summary != d.Verdict.Summary || len(r.Findings) != len(d.Findings) {
		t.Fatalf("verdict or findings differ from the diagnosis")
	}
	for i := range r.Findings {
		if r.Findings[i].ID != d.Findings[i].ID || r.Findings[i].Title != d.Findings[i].Title {
			t.Errorf("finding %d: %s, diagnosis %s", i, r.Findings[i].ID, d.Findings[i].ID)
		}
	}
	m := d.Window.Model
	if r.Window.Ticks != len(m.Ticks) || r.Window.Seconds != d.Window.Seconds {
		t.Errorf("window %+v", r.Window)
	}
	if len(r.Chain) < 3 {
		t.Errorf("evidence chain of %d steps", len(r.Chain))
	}
}

// Mitigations are grouped by horizon, immediate first, each action once,
// and only from warning or critical findings.
func TestMitigationsGrouped(t *testing.T) {
	r, d := build(t, "overlay-slow-disk")
	serious := map[string]bool{}
	for _, f := range d.Findings {
		if f.Severity >= content.Warning {
			serious[f.ID] = true
		}
	}
	order := map[content.Horizon]int{content.Immediate: 0, content.ShortTerm: 1, content.LongTerm: 2}
	last := -1
	seen := map[string]bool{}
	for _, g := range r.Mitigations {
		if order[g.Horizon] <= last {
			t.Errorf("horizon %q out of order", g.Horizon)
		}
		last = order[g.Horizon]
		for _, row := range g.Rows {
			if seen[row.Action] {
				t.Errorf("action %q twice", row.Action)
			}
			seen[row.Action] = true
			for _, id := range row.Findings {
				if !serious[id] {
					t.Errorf("mitigation %q from %s, not a serious finding", row.Action, id)
				}
			}
			if len(row.Findings) == 0 {
				t.Errorf("mitigation %q for no finding", row.Action)
			}
		}
	}
	if len(seen) == 0 {
		t.Error("no mitigation")
	}
}

// Monitoring follows the findings: a saturated device gets its alert,
// stalls the pressure alert, syncs the flush alert — each proven on the
// bundle's series; the container write alert is not proposed where the
// container's write counters stay at zero (this kernel's v1 blkio); a
// quiet node gets nothing.
func TestMonitoringFollowsFindings(t *testing.T) {
	r, d := build(t, "overlay-slow-disk")
	var sat string
	for _, f := range d.Findings {
		if f.Role == content.Saturation {
			sat = f.Subjects.Device
		}
	}
	if sat == "" {
		t.Fatal("the slow-disk sample has no saturated device")
	}
	names := map[string]content.Alert{}
	for _, a := range r.Monitoring.Alerts {
		names[a.Name] = a
		if a.FiresAt.Before(r.Window.Start) || a.FiresAt.After(r.Window.End) {
			t.Errorf("%s fires at %s, outside the capture", a.Name, a.FiresAt)
		}
	}
	for _, want := range []string{"DiskSaturated_" + sat, "IOPressureHigh", "DiskSyncStorm_" + sat} {
		if _, ok := names[want]; !ok {
			t.Errorf("no alert %s in %+v", want, r.Monitoring.Alerts)
		}
	}
	for _, not := range []string{"FilesystemAlmostFull", "ContainerWriteFlood"} {
		if _, ok := names[not]; ok {
			t.Errorf("alert %s would not have fired on this bundle", not)
		}
	}
	if quiet, _ := build(t, "idle"); len(quiet.Monitoring.Alerts) != 0 || quiet.Monitoring.Metrics != nil {
		t.Errorf("a quiet node gets monitoring: %+v", quiet.Monitoring)
	}
}

// Every kind of watch a rule can call for is one the monitoring section
// knows how to write.
func TestEveryWatchIsWritten(t *testing.T) {
	for _, r := range rules.Rules {
		for _, w := range r.Watch {
			if w < rules.WatchTasks || w > rules.AlertThrottle {
				t.Errorf("rule %s calls for unknown watch %d", r.ID, w)
			}
		}
	}
}

// The HTML report's charts: each with an id and a title; a time chart's
// points lie within the capture, in order, and every series has a value
// for each of them (rates per interval, levels such as dirty memory per
// tick).
func TestCharts(t *testing.T) {
	_, d := build(t, "overlay-slow-disk")
	charts := Charts(d)
	if len(charts) == 0 {
		t.Fatal("no charts")
	}
	m := d.Window.Model
	span := m.Seconds(0, len(m.Ticks)-1)
	for _, c := range charts {
		if c.Title == "" || c.ID == "" || c.Alt == "" {
			t.Errorf("chart without id, title or text alternative: %+v", c)
		}
		if c.Kind == content.ChartBars {
			continue
		}
		if len(c.X) < len(m.Ticks)-1 || len(c.X) > len(m.Ticks) {
			t.Errorf("%s: %d points for %d ticks", c.ID, len(c.X), len(m.Ticks))
		}
		for i, x := range c.X {
			if x < 0 || x > span || (i > 0 && x <= c.X[i-1]) {
				t.Errorf("%s: point %d at %.2f s of a %.2f s capture", c.ID, i, x, span)
			}
		}
		for _, s := range c.Series {
			if len(s.Values) != len(c.X) {
				t.Errorf("%s/%s: %d values for %d points", c.ID, s.Name, len(s.Values), len(c.X))
			}
		}
	}
}

// One row per action (a hand-made list of findings): the same step asked
// for by two findings, or for two devices, is one row that lists every
// finding it answers, at the most urgent horizon, naming both devices;
// an info finding's advice is left out.
func TestMitigationsMerged(t *testing.T) {
	move := func(d string) content.Mitigation {
		return content.Mitigation{Horizon: content.ShortTerm, Key: "move-off-device", Subject: d, Action: "Move the hot data off " + d, How: "A separate volume", Effect: "The workloads on " + d + " get low latency back"}
	}
	fs := []content.Finding{
		{ID: "device-saturated", Severity: content.Critical, Mitigations: []content.Mitigation{move("loop0")}},
		{ID: "device-saturated", Severity: content.Critical, Mitigations: []content.Mitigation{move("loop1")}},
		{ID: "write-amplification", Severity: content.Warning, Mitigations: []content.Mitigation{{Horizon: content.ShortTerm, Key: "buffer-writes:7", Action: "Write in page-sized or larger pieces"}}},
		{ID: "small-writes", Severity: content.Warning, Mitigations: []content.Mitigation{{Horizon: content.ShortTerm, Key: "buffer-writes:7", Subject: "/var/log/a.log", Action: "Buffer the writes to /var/log/a.log"}}},
		{ID: "dirty-throttling", Severity: content.Warning, Mitigations: []content.Mitigation{{Horizon: content.Immediate, Key: "buffer-writes:7", Action: "Slow it"}}},
		{ID: "dominant-io-process", Severity: content.Info, Mitigations: []content.Mitigation{{Horizon: content.Immediate, Action: "Cap it"}}},
		// A generic wording (the cpu cost's) never displaces a precise one
		// (the overlay's volume) of the same step, whichever comes first.
		{ID: "cpu-cost", Severity: content.Warning, Mitigations: []content.Mitigation{{Horizon: content.ShortTerm, Key: "move-hot-data", Subject: "loop2", Generic: true, Action: "Move the hot data off loop2"}}},
		{ID: "overlay-hot-path", Severity: content.Warning, Mitigations: []content.Mitigation{{Horizon: content.ShortTerm, Key: "move-hot-data", Subject: "loop2", Action: "Mount a volume at /var/log/nginx"}}},
	}
	got := mitigations(fs)
	var rows []string
	for _, g := range got {
		for _, r := range g.Rows {
			rows = append(rows, fmt.Sprintf("%s|%s|%s|%s", g.Horizon, r.Action, r.Effect, strings.Join(r.Findings, ",")))
		}
	}
	want := []string{
		"immediate|Buffer the writes to /var/log/a.log||write-amplification,small-writes,dirty-throttling",
		"short term|Move the hot data off loop0 and loop1|The workloads on loop0 and loop1 get low latency back|device-saturated",
		"short term|Mount a volume at /var/log/nginx||cpu-cost,overlay-hot-path",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// Every sample's report gives each step once: no two rows of its
// mitigations (all horizons) share a step and subject (their Key and
// Subject), nor an action, a how or an effect word for word — two rows
// a reader cannot tell apart are one step written twice.
func TestMitigationRowsDistinctOnSamples(t *testing.T) {
	for _, name := range sampletest.Names(t) {
		r, _ := build(t, name)
		seen := map[string]string{}
		for _, g := range r.Mitigations {
			for _, row := range g.Rows {
				for what, v := range map[string]string{"step": row.MergeKey() + "\x00" + row.Subject, "action": row.Action, "how": row.How, "effect": row.Effect} {
					k := what + "\x00" + v
					if v == "" {
						continue
					}
					if prev, ok := seen[k]; ok {
						t.Errorf("%s: two rows share their %s: %q (%s) and %q", name, what, prev, v, row.Action)
					}
					seen[k] = row.Action
				}
			}
		}
	}
}

// Each cgroup line of the evidence chain names its hierarchy: the
// throttled-cgroup sample (a hybrid host) has a v1 blkio cgroup, a v1
// memory cgroup and a v2 one, which bare paths would not tell apart.
func TestChainCgroupsNameTheirController(t *testing.T) {
	r, _ := build(t, "throttled-cgroup")
	var got []string
	for _, s := range r.Chain {
		for _, f := range s.Facts {
			if p := f.Text.Plain(); strings.HasPrefix(p, "cgroup ") {
				got = append(got, p)
			}
		}
	}
	want := []string{"cgroup blkio:/iorca-throttled", "cgroup unified:/"}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("no %q among %q", w, got)
		}
	}
	for _, g := range got {
		if !strings.Contains(g, ":/") {
			t.Errorf("unlabelled cgroup line %q", g)
		}
	}
}

// The iotop table writes n/a for IO % where the kernel gave a task no
// delay figures: overlay-slow-disk's writer started before the collector
// turned task_delayacct on and was in D state all along; the limits say
// which tasks. In every sample, a row reads n/a exactly when the limit
// line names its task, or all are when delay accounting was off.
func TestIotopIOPercentNotAvailable(t *testing.T) {
	r, _ := build(t, "overlay-slow-disk")
	if got := ioPercentCell(r, 7932); got != "n/a" {
		t.Errorf("overlay-slow-disk PID 7932 IO %% = %q, want n/a", got)
	}
	for _, name := range sampletest.Names(t) {
		r, _ := build(t, name)
		var limit string
		off := false // delay accounting was off: every row is n/a
		for _, l := range r.Appendix.Limits {
			if strings.HasPrefix(l.Plain(), "IO % is n/a for ") {
				limit = l.Plain()
			}
			off = off || strings.Contains(l.Plain(), "task_delayacct was 0")
		}
		figures := 0
		for _, row := range r.Appendix.Iotop.Rows {
			named := off || strings.Contains(limit, fmt.Sprintf("PID %.0f (", row[0].Num))
			na := ioPercentCell(r, row[0].Num) == "n/a"
			if na != named {
				t.Errorf("%s PID %.0f: IO %% n/a %v, named in the limit line %v", name, row[0].Num, na, named)
			}
			if !na {
				figures++
			}
		}
		t.Logf("%s: %d of %d rows with an IO %% figure", name, figures, len(r.Appendix.Iotop.Rows))
	}
}

// ioPercentCell is the IO % cell of a PID's iotop row.
func ioPercentCell(r *content.Report, pid float64) string {
	for _, row := range r.Appendix.Iotop.Rows {
		if last := row[len(row)-1]; row[0].Num == pid {
			if last.IsNum {
				return fmt.Sprint(last.Num)
			}
			return last.Text
		}
	}
	return "(no row)"
}

// A writer whose file is on tmpfs reaches no device: its report watches
// its memory (the container's working set and Shmem), never block-IO
// counters that cannot move. The same logger on overlay keeps them.
func TestMonitoringOfATmpfsWriter(t *testing.T) {
	metrics := func(r *content.Report) string {
		var out []string
		if m := r.Monitoring.Metrics; m != nil {
			for _, row := range m.Rows {
				out = append(out, row[1].Text)
			}
		}
		return strings.Join(out, "\n")
	}
	r, _ := build(t, "overlay-sync-logger-tmpfs")
	if m := metrics(r); !strings.Contains(m, "node_memory_Shmem_bytes") || !strings.Contains(m, "container_memory_working_set_bytes") || strings.Contains(m, "container_fs_writes") {
		t.Errorf("tmpfs writer's metrics:\n%s", m)
	}
	for _, a := range r.Monitoring.Alerts {
		if a.Name == "ContainerWriteFlood" || strings.Contains(a.Expr, "container_fs_writes") {
			t.Errorf("block-IO alert for a tmpfs writer: %s", a.Name)
		}
	}
	r, _ = build(t, "overlay-sync-logger")
	if m := metrics(r); !strings.Contains(m, "container_fs_writes_total") || strings.Contains(m, "Shmem") {
		t.Errorf("overlay writer's metrics:\n%s", m)
	}
}

// Alerts are published as they would work in production and say how
// they were proven: every Prometheus rule's rate windows and for: are at
// least 5m (the proof's are the bundle's, shorter), and every alert says
// what it was evaluated on. Incidents get the alert of their class: a
// cgroup at its limit the throttle rule, a tmpfs filling and a log
// filling its disk in seconds a predict_linear over an hour, critical.
func TestAlertsPublishedForProduction(t *testing.T) {
	want := map[string]string{"throttled-cgroup": "CgroupIOThrottled", "overlay-sync-logger-tmpfs": "FilesystemFillingUp", "nginx-logger-stdout": "FilesystemFillingUp"}
	for _, name := range sampletest.Names(t) {
		r, _ := build(t, name)
		found := false
		for _, a := range r.Monitoring.Alerts {
			found = found || a.Name == want[name]
			if a.EvaluatedOn == "" {
				t.Errorf("%s: %s does not say what it was evaluated on", name, a.Name)
			}
			if a.Kind != "prometheus" {
				continue
			}
			if a.ProofExpr == "" || (a.For != "0s" && a.For != "5m" && a.For != "10m") {
				t.Errorf("%s: %s is published with for: %s (proof %q)", name, a.Name, a.For, a.ProofExpr)
			}
			if strings.Contains(a.Expr, "[") && !strings.Contains(a.Expr, "[5m]") && !strings.Contains(a.Expr, "[10m]") {
				t.Errorf("%s: %s is published with a window shorter than 5m: %s", name, a.Name, a.Expr)
			}
			if a.Name == "FilesystemFillingUp" && name != "overlay-slow-disk" && (a.Labels["severity"] != "critical" || !strings.Contains(a.Expr, ", 3600)")) {
				t.Errorf("%s: a filesystem the bundle saw fill within the hour gets %s %s", name, a.Labels["severity"], a.Expr)
			}
		}
		if w := want[name]; w != "" && !found {
			t.Errorf("%s: no %s alert", name, w)
		}
	}
}

// Remedies that cannot work there are not offered: a copy whose device
// time is its own reads is not told to write O_DIRECT, nor that ionice
// cannot reach it (its reads carry its priority), and a volume a
// mechanism finding explains takes that finding's remedies (rotation,
// dirty cap); a WAL with one committer is told how one committer
// batches; a writer bounded by its disk's latency gets no tmpfs forecast
// at the rate the disk allowed.
func TestRemediesFitWhereTheyApply(t *testing.T) {
	rows := func(name string) string {
		r, _ := build(t, name)
		var b strings.Builder
		for _, g := range r.Mitigations {
			for _, row := range g.Rows {
				fmt.Fprintf(&b, "%s | %s | %s\n", row.Action, row.How, row.Effect)
			}
		}
		for _, f := range r.Findings {
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "evidence: %s\n", e.What)
			}
		}
		return b.String()
	}
	for name, wrong := range map[string][]string{
		"copytruncate-rotation": {"Write it without flooding the page cache", "(logrotate)'s writes are buffered"},
		"dirty-throttled":       {"Write it without flooding the page cache", "other writers' throttling"},
		"fsync-storm":           {"nothing to group"},
		"overlay-sync-logger":   {"an hour of it is"},
	} {
		got := rows(name)
		for _, w := range wrong {
			if strings.Contains(got, w) {
				t.Errorf("%s: %q where it cannot work:\n%s", name, w, got)
			}
		}
	}
	if got := rows("overlay-sync-logger"); !strings.Contains(got, "cannot forecast") {
		t.Errorf("overlay-sync-logger: the tmpfs row forecasts a sync-bound writer's rate:\n%s", got)
	}
	// A path only the container sees is truncated inside its mount
	// namespace: the command pastes on the node.
	if got := rows("overlay-sync-logger-tmpfs"); !strings.Contains(got, "nsenter -t 27863 -m -- truncate -s 0 /var/log/nginx/access.log") {
		t.Errorf("overlay-sync-logger-tmpfs: the truncate does not enter the container's mounts:\n%s", got)
	}
	if got := rows("fsync-storm"); !strings.Contains(got, "a single committer does the same") {
		t.Errorf("fsync-storm: nothing for one committer:\n%s", got)
	}
}

// The evidence chain describes the device the verdict's finding is
// about, on every sample: its device step starts with that device. On
// sync-caller the agent's own stdout file is on the root disk while the
// finding is about loop0, whose time it holds through its sync() calls:
// the chain names loop0's filesystem, not the file.
func TestChainFollowsTheFindingsDevice(t *testing.T) {
	for _, name := range sampletest.Names(t) {
		r, d := build(t, name)
		dev := d.FindingDevice()
		if dev == "" || d.CulpritProc == nil {
			continue
		}
		var first string
		for _, s := range r.Chain {
			if s.Title == "The device" && len(s.Facts) > 0 {
				first = s.Facts[0].Text.Plain()
			}
		}
		if !strings.HasPrefix(first, dev+":") {
			t.Errorf("%s: the finding is about %s, the chain's device step starts %q", name, dev, first)
		}
	}
	r, _ := build(t, "sync-caller")
	for _, s := range r.Chain {
		for _, f := range s.Facts {
			if strings.Contains(f.Text.Plain(), "samples2.log") {
				t.Errorf("step %q describes the agent's stdout file: %s", s.Title, f.Text.Plain())
			}
		}
	}
}
