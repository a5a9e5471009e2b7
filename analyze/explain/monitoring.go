package explain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iorca/iorca/analyze/rules"
	"github.com/iorca/iorca/internal/table"
	"github.com/iorca/iorca/report/content"
)

// monitoring lists what to watch per layer, and Prometheus alert rules
// ready to paste, filled in with the devices and containers of this
// incident. Metric names are those of node_exporter, cAdvisor (kubelet)
// and process-exporter.
func (e *explainer) monitoring() content.Monitoring {
	c := e.c
	b := &strings.Builder{}
	devs := e.alertDevices()
	cont := ""
	if cp := e.d.Verdict.Culprit; cp != nil {
		cont = cp.Container
	}
	t := &table.Table{Columns: []table.Column{{Name: "Layer", Left: true}, {Name: "Metric", Left: true}, {Name: "Why", Left: true}}}
	t.Add(table.Text("device"), table.Text("node_disk_io_time_seconds_total, node_disk_write_time_seconds_total / node_disk_writes_completed_total"), table.Text("%util and write await: saturation and latency"))
	t.Add(table.Text("device"), table.Text("node_pressure_io_stalled_seconds_total, node_pressure_io_waiting_seconds_total"), table.Text("how long tasks wait for IO (PSI)"))
	t.Add(table.Text("container"), table.Text("container_fs_writes_bytes_total, container_fs_writes_total (cAdvisor)"), table.Text("which container writes, and in how many operations"))
	t.Add(table.Text("container log"), table.Text("kubelet_container_log_filesystem_used_bytes"), table.Text("a container whose log grows fast floods the disk through its runtime"))
	t.Add(table.Text("process"), table.Text("namedprocess_namegroup_write_bytes_total (process-exporter, from /proc/PID/io write_bytes)"), table.Text("write_bytes vs wchar per process shows amplification and pipe traffic"))
	t.Add(table.Text("runtime shim"), table.Text("process-exporter group for containerd-shim, conmon, containerd"), table.Text("the runtime's write rate is the containers' stdout rate"))
	t.Add(table.Text("overlay"), table.Text("node_filesystem_avail_bytes and the write rate of the device holding /var/lib/containerd"), table.Text("upper layers live there, next to every container's image"))
	t.Add(table.Text("memory"), table.Text("node_memory_Dirty_bytes, node_memory_Writeback_bytes, node_vmstat_pswpout"), table.Text("dirty-page throttling and swap turn memory into IO"))
	b.WriteString("groups:\n  - name: iorca-disk-io\n    rules:\n")
	th := c.Thresholds
	for _, d := range devs {
		fmt.Fprintf(b, `      - alert: DiskSaturated_%[1]s
        expr: |
          rate(node_disk_io_time_seconds_total{device="%[2]s"}[5m]) > %.2[3]f
          and
          rate(node_disk_write_time_seconds_total{device="%[2]s"}[5m])
            / clamp_min(rate(node_disk_writes_completed_total{device="%[2]s"}[5m]), 1) > %.3[4]f
        for: 5m
        labels: {severity: critical}
        annotations:
          summary: "%[2]s over %.0[5]f%% busy with writes waiting over %.0[6]f ms for 5 minutes"
`, alertName(d), d, th.UtilPct/100, th.AwaitMS/1000, th.UtilPct, th.AwaitMS)
	}
	fmt.Fprintf(b, `      - alert: IOPressureHigh
        expr: rate(node_pressure_io_stalled_seconds_total[5m]) > %.2f
        for: 5m
        labels: {severity: warning}
        annotations:
          summary: "all non-idle tasks stalled on IO more than %.0f%% of the time"
      - alert: FilesystemAlmostFull
        expr: |
          (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"}
             / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"}) * 100 > %.0f
        for: 10m
        labels: {severity: warning}
`, th.PSIFullPct/100, th.PSIFullPct, th.FSFullPct)
	if cont != "" {
		fmt.Fprintf(b, `      - alert: ContainerWriteFlood
        expr: |
          sum by (namespace, pod, container) (rate(container_fs_writes_total{container="%[1]s"}[5m])) > %.0[2]f
        for: 10m
        labels: {severity: warning}
        annotations:
          summary: "container %[1]s issues more than %.0[2]f writes/s"
      - alert: ContainerLogGrowth
        expr: deriv(kubelet_container_log_filesystem_used_bytes{container="%[1]s"}[10m]) > 1048576
        for: 10m
        labels: {severity: warning}
        annotations:
          summary: "the log of container %[1]s grows faster than 1 MiB/s"
`, cont, th.SmallWriteMinPerSec)
	}
	return content.Monitoring{Metrics: t, AlertRules: b.String()}
}

// alertDevices are the devices this incident involves, or the busiest.
func (e *explainer) alertDevices() []string {
	set := map[string]bool{}
	for _, f := range e.d.Findings {
		if f.Subjects.Device != "" && f.Severity >= rules.Warning {
			if _, ok := e.c.Devices[f.Subjects.Device]; ok {
				set[f.Subjects.Device] = true
			}
		}
	}
	if len(set) == 0 {
		best, bu := "", -1.0
		for _, n := range e.m.WholeDisks() {
			if x := e.c.Devices[n]; x.Util > bu {
				best, bu = n, x.Util
			}
		}
		if best != "" {
			set[best] = true
		}
	}
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func alertName(dev string) string {
	out := []byte{}
	for _, c := range []byte(dev) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			out = append(out, c)
		} else {
			out = append(out, '_')
		}
	}
	return string(out)
}
