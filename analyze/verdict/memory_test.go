package verdict

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/report/content"
)

// swapMitigations is every mitigation of the swap-io finding, as text.
func swapMitigations(t *testing.T, d *Diagnosis) (content.Finding, string) {
	f := findingByID(t, d, "swap-io")
	var ms []string
	for _, m := range f.Mitigations {
		ms = append(ms, m.Action+" | "+m.How)
	}
	return f, strings.Join(ms, "\n")
}

// The swap-cgroup-limit sample: a cgroup at its limit on a node with
// room. The limit is the culprit, and raising it is the fix.
func TestSwapCgroupAtLimit(t *testing.T) {
	d := Diagnose(sampleModel(t, "swap-cgroup-limit"), window.Defaults())
	f, ms := swapMitigations(t, d)
	if !strings.Contains(ms, "Raise the memory limit") || strings.Contains(ms, "Reduce the node's memory load") {
		t.Errorf("mitigations:\n%s", ms)
	}
	if c := d.Verdict.Culprit; c == nil || c.Kind != "limit" {
		t.Errorf("culprit %+v, want the limit", c)
	}
	if _, ok := f.Figure("swap_bytes"); !ok {
		t.Error("the amount in swap is not a figure")
	}
}

// The same capture, read as if the node itself had little memory left
// (its last meminfo with 2 % available; a test-built variant of the
// sample): a node short of memory, whose fix is to reduce the node's
// load, not to raise one cgroup's limit.
func TestSwapNodeShort(t *testing.T) {
	m := *sampleModel(t, "swap-cgroup-limit")
	last := *m.Ticks[len(m.Ticks)-1]
	mem := procfs.Meminfo{}
	for k, v := range last.Meminfo {
		mem[k] = v
	}
	mem["MemAvailable"] = mem["MemTotal"] / 50
	last.Meminfo = mem
	m.Ticks = append(append([]*model.Tick(nil), m.Ticks[:len(m.Ticks)-1]...), &last)
	d := Diagnose(&m, window.Defaults())
	f, ms := swapMitigations(t, d)
	if !strings.Contains(ms, "Reduce the node's memory load") || strings.Contains(ms, "Raise the memory limit") {
		t.Errorf("mitigations:\n%s", ms)
	}
	if !strings.Contains(f.Summary, "The node is short of memory") {
		t.Errorf("summary: %s", f.Summary)
	}
	if c := d.Verdict.Culprit; c != nil && c.Kind == "limit" {
		t.Errorf("culprit %+v: a node short of memory has no limit to blame", c)
	}
}
