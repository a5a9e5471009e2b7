package alerts

import (
	"sort"
	"strings"
	"time"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// FromModel exports a bundle's counters as the series node_exporter and
// cAdvisor would expose, one sample a tick: per whole disk its busy and
// write time, completed writes, flushes (kernel 5.5+) and written bytes
// (/proc/diskstats); IO pressure (/proc/pressure/io); per container its
// write operations by device (its cgroup's io.stat wios or v1
// blkio.throttle.io_serviced Write); per filesystem its size and free
// bytes (the bundle reads statfs once: the same reading every tick, until
// SetFreeBytes says how it shrank).
func FromModel(m *model.Model) *Set {
	start, _ := m.Span()
	s := &Set{Interval: time.Duration(m.Manifest.Options.Interval), Start: start}
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	n := len(m.Ticks)
	for _, dev := range m.WholeDisks() {
		labels := map[string]string{"device": dev}
		busy, wtime, writes := s.Add("node_disk_io_time_seconds_total", labels, n), s.Add("node_disk_write_time_seconds_total", labels, n), s.Add("node_disk_writes_completed_total", labels, n)
		bytes := s.Add("node_disk_written_bytes_total", labels, n)
		var flush *Series
		for i, t := range m.Ticks {
			d, ok := t.Disks[dev]
			if !ok {
				continue
			}
			busy.Values[i], wtime.Values[i], writes.Values[i] = float64(d.IOTicks)/1000, float64(d.WriteTicks)/1000, float64(d.WriteIOs)
			bytes.Values[i] = float64(d.WriteSectors) * 512
			if d.Stats >= 17 {
				if flush == nil {
					flush = s.Add("node_disk_flush_requests_total", labels, n)
				}
				flush.Values[i] = float64(d.FlushIOs)
			}
		}
	}
	waiting, stalled := s.Add("node_pressure_io_waiting_seconds_total", nil, n), s.Add("node_pressure_io_stalled_seconds_total", nil, n)
	for i, t := range m.Ticks {
		if t.PSI != nil && t.PSI.Some != nil {
			waiting.Values[i] = float64(t.PSI.Some.TotalUS) / 1e6
		}
		if t.PSI != nil && t.PSI.Full != nil {
			stalled.Values[i] = float64(t.PSI.Full.TotalUS) / 1e6
		}
	}
	swapSeries(s, m)
	containerWrites(s, m)
	cgroupUsage(s, m)
	filesystems(s, m)
	return s
}

// cgroupUsage adds container_blkio_device_usage_total, as cAdvisor
// exposes it (bytes by operation and major:minor, id the cgroup's path
// in its hierarchy), for every cgroup that has an IO limit: the series a
// throttle alert needs, from the cgroup's io.stat or v1
// blkio.throttle.io_service_bytes per tick.
func cgroupUsage(s *Set, m *model.Model) {
	var paths []string
	for p, cg := range m.Cgroups {
		if len(cg.Samples) > 0 && (cg.IOMax != nil || cg.V1Limits != nil) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		cg := m.Cgroups[p]
		id := CgroupID(m, p)
		var devs []procfs.Dev
		for d := range cg.Samples[len(cg.Samples)-1].Bytes {
			devs = append(devs, d)
		}
		sort.Slice(devs, func(i, j int) bool { return devs[i].String() < devs[j].String() })
		for _, d := range devs {
			major, minor, _ := strings.Cut(d.String(), ":")
			base := map[string]string{"id": id, "major": major, "minor": minor, "device": "/dev/" + m.DeviceName(d)}
			w, r := map[string]string{"operation": "Write"}, map[string]string{"operation": "Read"}
			for k, v := range base {
				w[k], r[k] = v, v
			}
			ws, rs := s.Add("container_blkio_device_usage_total", w, len(m.Ticks)), s.Add("container_blkio_device_usage_total", r, len(m.Ticks))
			for _, smp := range cg.Samples {
				if smp.Tick >= 0 && smp.Tick < len(ws.Values) {
					ws.Values[smp.Tick], rs.Values[smp.Tick] = float64(smp.Bytes[d].WBytes), float64(smp.Bytes[d].RBytes)
				}
			}
		}
	}
}

// CgroupID is a cgroup's path in its hierarchy, as cAdvisor's id label
// has it ("/iorca-throttled"): the bundle's path less its hierarchy's
// mount point (the v1 blkio one, or the v2 one).
func CgroupID(m *model.Model, path string) string {
	for _, root := range []string{m.CgroupV1Root, m.CgroupV2Root} {
		if root == "" || !strings.HasPrefix(path, root) {
			continue
		}
		rel := strings.TrimPrefix(path, root)
		if rel == "" {
			rel = "/"
		}
		return rel
	}
	return path
}

// swapSeries adds node_vmstat_pswpin and pswpout from each tick's
// /proc/vmstat.
func swapSeries(s *Set, m *model.Model) {
	n := len(m.Ticks)
	in, out := s.Add("node_vmstat_pswpin", nil, n), s.Add("node_vmstat_pswpout", nil, n)
	for i, t := range m.Ticks {
		if t.Vmstat != nil {
			in.Values[i], out.Values[i] = float64(t.Vmstat["pswpin"]), float64(t.Vmstat["pswpout"])
		}
	}
}

// containerWrites adds container_fs_writes_total for every container
// whose cgroup has IO counters: of the cgroups that hold its processes,
// the one that counted the most writes (a v1 blkio and a v2 cgroup count
// the same writes; one is kept).
func containerWrites(s *Set, m *model.Model) {
	best := map[string]*model.Cgroup{}
	total := func(cg *model.Cgroup) uint64 {
		if len(cg.Samples) == 0 {
			return 0
		}
		var w uint64
		for _, io := range cg.Samples[len(cg.Samples)-1].Bytes {
			w += io.WIOs
		}
		return w
	}
	for _, p := range m.Procs {
		if p.Container == nil || p.Collector {
			continue
		}
		for _, path := range p.IOCgroups() {
			cg := m.Cgroups[path]
			if cg == nil || len(cg.Samples) == 0 {
				continue
			}
			if b := best[p.Container.Name]; b == nil || total(cg) > total(b) {
				best[p.Container.Name] = cg
			}
		}
	}
	names := make([]string, 0, len(best))
	for name := range best {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		byDev := map[procfs.Dev]*Series{}
		var devs []procfs.Dev
		for _, smp := range best[name].Samples {
			for d := range smp.Bytes {
				if byDev[d] == nil {
					devs = append(devs, d)
					byDev[d] = nil
				}
			}
		}
		sort.Slice(devs, func(i, j int) bool { return devs[i].String() < devs[j].String() })
		for _, d := range devs {
			x := s.Add("container_fs_writes_total", map[string]string{"container": name, "device": m.DeviceName(d)}, len(m.Ticks))
			for _, smp := range best[name].Samples {
				if smp.Tick >= 0 && smp.Tick < len(x.Values) {
					x.Values[smp.Tick] = float64(smp.Bytes[d].WIOs)
				}
			}
		}
	}
}

// filesystems adds node_filesystem_size_bytes and
// node_filesystem_avail_bytes per mount point that statfs read.
func filesystems(s *Set, m *model.Model) {
	for _, st := range m.Statfs {
		if st.Status != bundle.StatusOK || st.Blocks == 0 {
			continue
		}
		labels := map[string]string{"mountpoint": st.MountPoint}
		if s.Has("node_filesystem_size_bytes", labels) {
			continue
		}
		size, avail := s.Add("node_filesystem_size_bytes", labels, len(m.Ticks)), s.Add("node_filesystem_avail_bytes", labels, len(m.Ticks))
		for i := range size.Values {
			size.Values[i], avail.Values[i] = float64(st.Blocks)*float64(st.BlockSize), float64(st.BlocksAvail)*float64(st.BlockSize)
		}
	}
}

// Find returns the series of metric with exactly labels, nil if none.
func (s *Set) Find(metric string, labels map[string]string) *Series {
	for _, x := range s.Series {
		if x.Metric == metric && key(x.Labels) == key(labels) {
			return x
		}
	}
	return nil
}
