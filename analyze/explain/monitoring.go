package explain

import (
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/internal/table"
	"github.com/iorca/iorca/report/content"
)

// monitoring lists what to watch, and Prometheus alert rules ready to
// paste, for the layers this incident's findings involve — nothing for a
// layer no finding touched, so that a report says only what it found.
// Metric names are those of node_exporter, cAdvisor (kubelet) and
// process-exporter.
func (e *explainer) monitoring() content.Monitoring {
	found := map[rules.Watch]bool{}
	serious := false
	for i := range e.d.Findings {
		f := &e.d.Findings[i]
		if f.Severity >= content.Warning {
			serious = true
			for _, w := range rules.Of(f).Watch {
				found[w] = true
			}
		}
	}
	if !serious {
		return content.Monitoring{}
	}
	cont := ""
	if cp := e.d.Verdict.Culprit; cp != nil {
		cont = cp.Container
	}
	t := &table.Table{Columns: []table.Column{{Name: "Layer", Left: true}, {Name: "Metric", Left: true}, {Name: "Why", Left: true}}}
	devs := e.alertDevices()
	if len(devs) > 0 {
		t.Add(table.Text("device"), table.Text("node_disk_io_time_seconds_total, node_disk_write_time_seconds_total / node_disk_writes_completed_total"), table.Text("%util and write await: saturation and latency of "+strings.Join(devs, ", ")))
	}
	if found[rules.WatchTasks] {
		t.Add(table.Text("tasks"), table.Text("node_pressure_io_stalled_seconds_total, node_pressure_io_waiting_seconds_total"), table.Text("how long tasks wait for IO (PSI)"))
	}
	if fs, ok := e.culpritInMemory(); ok && cont != "" {
		// Its writes reach no device: block-IO metrics would never move,
		// its memory does.
		t.Add(table.Text("container memory"), table.Text("container_memory_working_set_bytes against container_spec_memory_limit_bytes (cAdvisor); its cgroup's memory.current (v1 memory.usage_in_bytes) and memory.stat shmem"),
			table.Text("container "+cont+" writes to "+fs+": the files are Shmem pages charged to its memory limit, and its block-IO counters do not see them"))
		t.Add(table.Text("node memory"), table.Text("node_memory_Shmem_bytes"), table.Text(fs+" pages on the node, counted until the files are removed"))
	} else if cont != "" {
		t.Add(table.Text("container"), table.Text("container_fs_writes_bytes_total, container_fs_writes_total (cAdvisor)"), table.Text("what container "+cont+" writes, and in how many operations"+e.blockCountersMiss(cont)))
	}
	if found[rules.AlertThrottle] {
		t.Add(table.Text("cgroup IO limit"), table.Text("container_blkio_device_usage_total (cAdvisor: the cgroup's io.stat, or v1 blkio.throttle.io_service_bytes) against the limit; container_pressure_io_stalled_seconds_total (cAdvisor, from io.pressure: cgroup v2 only)"),
			table.Text("a cgroup held at its limit waits for the limit, not the device; no exporter exports the limit itself, so the alert rule holds its value"))
	}
	if found[rules.WatchContainerLog] {
		t.Add(table.Text("container log"), table.Text("kubelet_container_log_filesystem_used_bytes"), table.Text("a container whose log grows fast floods the disk through its runtime"))
		t.Add(table.Text("runtime shim"), table.Text("process-exporter group for containerd-shim, conmon, containerd"), table.Text("the runtime's write rate is the containers' stdout rate"))
	}
	if found[rules.WatchProcess] {
		t.Add(table.Text("process"), table.Text("namedprocess_namegroup_write_bytes_total (process-exporter, from /proc/PID/io write_bytes)"), table.Text("write_bytes vs wchar per process shows amplification and pipe traffic"))
	}
	if found[rules.WatchOverlay] {
		t.Add(table.Text("overlay"), table.Text("node_filesystem_avail_bytes and the write rate of the device holding the upper layers"), table.Text("upper layers live there, next to every container's image"))
	}
	if found[rules.WatchMemory] {
		t.Add(table.Text("memory"), table.Text("node_memory_Dirty_bytes, node_memory_Writeback_bytes"), table.Text("dirty pages become writeback IO, and writers wait once they reach the limits"))
	}
	if found[rules.WatchSwap] {
		t.Add(table.Text("swap"), table.Text("node_vmstat_pswpin, node_vmstat_pswpout; container_memory_failcnt or the cgroup's memory.events max (cAdvisor)"), table.Text("a memory limit below the working set turns into swap IO"))
	}
	m := content.Monitoring{Alerts: e.alerts(cont)}
	if len(t.Rows) > 0 {
		m.Metrics = t
	}
	return m
}

// blockCountersMiss says what cAdvisor's block counters do not see of a
// container: on cgroup v1 they count only the requests its own tasks
// submit (direct and synchronous writes), not the writeback of its
// buffered writes, which kernel threads outside its cgroup do; and where
// its cgroup counted no write at all in the capture, that they read zero
// here.
func (e *explainer) blockCountersMiss(cont string) string {
	if e.m.CgroupV1Root == "" {
		return ""
	}
	var writes uint64
	counted := false
	for _, p := range e.m.Procs {
		if p.Container == nil || p.Container.Name != cont {
			continue
		}
		for _, path := range p.IOCgroups() {
			if cg := e.m.Cgroups[path]; cg != nil && len(cg.Samples) > 1 {
				counted = true
				a, b := cg.Samples[0], cg.Samples[len(cg.Samples)-1]
				for d, io := range b.Bytes {
					writes += io.WIOs - a.Bytes[d].WIOs
				}
			}
		}
	}
	s := "; on cgroup v1 they count only the requests its own tasks submit, not the writeback of its buffered writes (kernel threads outside its cgroup do that)"
	if counted && writes == 0 {
		s += ", and they counted no write for it in this capture: watch its processes' write_bytes instead"
	}
	return s
}

// alertDevices are the devices of the findings that call for a device
// alert (a saturated device): an alert is pinned only where it would
// have fired.
func (e *explainer) alertDevices() []string {
	set := map[string]bool{}
	for i := range e.d.Findings {
		f := &e.d.Findings[i]
		if f.Subjects.Device != "" && slices.Contains(rules.Of(f).Watch, rules.AlertDevice) {
			set[f.Subjects.Device] = true
		}
	}
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// culpritInMemory reports whether the culprit writes its hot file to a
// filesystem held in memory (a tmpfs volume), and which.
func (e *explainer) culpritInMemory() (string, bool) {
	p := e.d.CulpritProc
	if p == nil {
		return "", false
	}
	tv := e.c.Target(p.PID)
	return e.c.InMemory(tv, e.c.HotFile(tv))
}
