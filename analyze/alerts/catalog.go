package alerts

import (
	"fmt"
	"strings"
	"time"
)

// The rules a finding can call for. Each takes its thresholds from the
// report's (window.Thresholds) or says its own; w is the rate window and
// hold the for: duration (Scale).

func rate(metric string, match map[string]string, w time.Duration) Rate {
	return Rate{Selector{metric, match}, w}
}

// perOp is rate(num) / clamp_min(rate(den), 1): a per-operation figure
// that does not blow up on an idle device.
func perOp(num, den Rate) Binary {
	return Binary{"/", num, ClampMin{den, 1}}
}

// DeviceSaturated fires while dev is over utilPct busy and its writes
// wait over awaitMS each.
func DeviceSaturated(dev string, utilPct, awaitMS float64, w, hold time.Duration) Rule {
	d := map[string]string{"device": dev}
	return Rule{Name: "DiskSaturated_" + Ident(dev), For: hold,
		Expr: Binary{"and",
			Binary{">", rate("node_disk_io_time_seconds_total", d, w), Num(round(utilPct/100, 2))},
			Binary{">", perOp(rate("node_disk_write_time_seconds_total", d, w), rate("node_disk_writes_completed_total", d, w)), Num(round(awaitMS/1000, 4))}},
		Labels:      map[string]string{"severity": "critical"},
		Annotations: map[string]string{"summary": fmt.Sprintf("%s over %.0f%% busy with writes waiting over %.0f ms", dev, utilPct, awaitMS)},
		Note:        deviceNote(dev),
	}
}

// SwapIO fires while the node swaps more than pagesPerSec pages a second,
// in and out together (node_exporter's vmstat collector exports pswpin
// and pswpout by default).
func SwapIO(pagesPerSec float64, w, hold time.Duration) Rule {
	return Rule{Name: "SwapIO", For: hold,
		Expr:        Binary{">", Binary{"+", rate("node_vmstat_pswpin", nil, w), rate("node_vmstat_pswpout", nil, w)}, Num(pagesPerSec)},
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": fmt.Sprintf("the node swaps more than %.0f pages a second: a memory limit below a working set turns into disk IO", pagesPerSec)},
	}
}

// deviceNote is what a reader must know to get a device's series:
// node_exporter's default --collector.diskstats.device-exclude drops
// loop, ram and zram devices, so their rules have no series until the
// exporter is told to keep them.
func deviceNote(dev string) string {
	for _, p := range []string{"loop", "ram", "zram"} {
		if rest, ok := strings.CutPrefix(dev, p); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			return fmt.Sprintf("node_exporter leaves %s devices out by default (--collector.diskstats.device-exclude): start it with a device-exclude that keeps %s, or alert on the disk beneath it", p, dev)
		}
	}
	return ""
}

// IOPressure fires while all non-idle tasks stall on IO more than
// fullPct of the time (PSI io full).
func IOPressure(fullPct float64, w, hold time.Duration) Rule {
	return Rule{Name: "IOPressureHigh", For: hold,
		Expr:        Binary{">", rate("node_pressure_io_stalled_seconds_total", nil, w), Num(round(fullPct/100, 2))},
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": fmt.Sprintf("all non-idle tasks stalled on IO more than %.0f%% of the time", fullPct)},
	}
}

// Sync storms: a device that flushes its cache for a fifth of its writes
// or more, at least 10 times a second. Buffered writeback flushes about
// once per journal commit (every 5 s on ext4); one flush per few writes
// is applications syncing.
const (
	syncFlushPerWrite = 0.2
	syncFlushPerSec   = 10
)

// SyncStorm fires while dev's cache flushes follow its writes closely:
// applications syncing (fsync, O_SYNC) rather than the page cache
// writing back.
func SyncStorm(dev string, w, hold time.Duration) Rule {
	d := map[string]string{"device": dev}
	flush := rate("node_disk_flush_requests_total", d, w)
	return Rule{Name: "DiskSyncStorm_" + Ident(dev), For: hold,
		Expr: Binary{"and",
			Binary{">", perOp(flush, rate("node_disk_writes_completed_total", d, w)), Num(syncFlushPerWrite)},
			Binary{">", flush, Num(syncFlushPerSec)}},
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": fmt.Sprintf("%s flushes its cache for more than %.0f%% of its writes, over %d times a second: applications syncing", dev, syncFlushPerWrite*100, syncFlushPerSec)},
		Note:        deviceNote(dev),
	}
}

// ContainerWriteFlood fires while container issues more than perSec
// write operations a second (cAdvisor's container_fs_writes_total, its
// cgroup's block-layer writes).
func ContainerWriteFlood(container string, perSec float64, w, hold time.Duration) Rule {
	return Rule{Name: "ContainerWriteFlood", For: hold,
		Expr:        Binary{">", SumBy{[]string{"container"}, rate("container_fs_writes_total", map[string]string{"container": container}, w)}, Num(perSec)},
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": fmt.Sprintf("container %s issues more than %.0f writes/s", container, perSec)},
	}
}

// CgroupThrottled fires while the cgroup (cAdvisor's id label: its path
// in its hierarchy) moves more than usePct of its bytes-a-second limit on
// a device (major:minor), in the operation the limit is on ("Write" or
// "Read"): cAdvisor's container_blkio_device_usage_total is the cgroup's
// io.stat (v2) or blkio.throttle.io_service_bytes (v1); no exporter
// exports the limit itself, so the rule holds its value.
func CgroupThrottled(id, major, minor, op string, limit, usePct float64, w, hold time.Duration) Rule {
	sel := map[string]string{"id": id, "major": major, "minor": minor, "operation": op}
	return Rule{Name: "CgroupIOThrottled", For: hold,
		Expr:        Binary{">", rate("container_blkio_device_usage_total", sel, w), Num(round(limit*usePct/100, 0))},
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": fmt.Sprintf("cgroup %s runs at %.0f%% or more of its IO limit on %s:%s: its processes wait for the limit, not the device", id, usePct, major, minor)},
	}
}

// FilesystemAlmostFull fires while the filesystem at mountpoint is more
// than pct full (free bytes for unprivileged users, as df counts).
func FilesystemAlmostFull(mountpoint string, pct float64, hold time.Duration) Rule {
	m := map[string]string{"mountpoint": mountpoint}
	return Rule{Name: "FilesystemAlmostFull", For: hold,
		Expr: Binary{">", Binary{"*", Binary{"-", Num(1),
			Binary{"/", Selector{"node_filesystem_avail_bytes", m}, Selector{"node_filesystem_size_bytes", m}}}, Num(100)}, Num(pct)},
		Labels:      map[string]string{"severity": "warning"},
		Annotations: map[string]string{"summary": fmt.Sprintf("%s is more than %.0f%% full", mountpoint, pct)},
	}
}

// FillHorizon is how far ahead FilesystemFillingUp looks, and the
// severity it carries, for a filesystem the bundle saw fill in fillSecs
// at its rate: an hour and critical for one that fills within the hour
// (the alert must leave time to act), a day and warning otherwise.
func FillHorizon(fillSecs float64) (time.Duration, string) {
	if fillSecs > 0 && fillSecs < 3600 {
		return time.Hour, "critical"
	}
	return 24 * time.Hour, "warning"
}

// FilesystemFillingUp fires while the free bytes of the filesystem at
// mountpoint, extrapolated linearly over window w, run out within
// horizon.
func FilesystemFillingUp(mountpoint string, w, hold, horizon time.Duration, severity string) Rule {
	within := "24 hours"
	if horizon <= time.Hour {
		within = "an hour"
	}
	return Rule{Name: "FilesystemFillingUp", For: hold,
		Expr:        Binary{"<", PredictLinear{Selector{"node_filesystem_avail_bytes", map[string]string{"mountpoint": mountpoint}}, w, horizon}, Num(0)},
		Labels:      map[string]string{"severity": severity},
		Annotations: map[string]string{"summary": fmt.Sprintf("%s runs out of space within %s at the current rate", mountpoint, within)},
	}
}

// FilesystemReadOnly fires as soon as the filesystem at mountpoint is
// read-only (node_exporter's statfs ST_RDONLY flag): after IO errors the
// kernel remounts it so.
func FilesystemReadOnly(mountpoint string) Rule {
	return Rule{Name: "FilesystemReadOnly",
		Expr:        Binary{"==", Selector{"node_filesystem_readonly", map[string]string{"mountpoint": mountpoint}}, Num(1)},
		Labels:      map[string]string{"severity": "critical"},
		Annotations: map[string]string{"summary": mountpoint + " is read-only: every write there fails with EROFS"},
	}
}

// KernelIOErrors is a log-based rule (LogQL, for a Loki ruler) on the
// kernel's IO error lines about dev: no exporter turns them into a
// metric. It assumes the kernel log reaches Loki as {job="kernel"}.
func KernelIOErrors(dev string, w time.Duration) Rule {
	return Rule{Name: "KernelIOErrors_" + Ident(dev),
		LogQL:       fmt.Sprintf(`sum(count_over_time({job="kernel"} |= %q |~ "I/O error|EXT4-fs error|XFS .*error|BTRFS error" [%s])) > 0`, dev, Duration(w)),
		Labels:      map[string]string{"severity": "critical"},
		Annotations: map[string]string{"summary": "the kernel logs IO errors on " + dev},
		Note:        `log-based (LogQL for a Loki ruler): the kernel log is the only signal of these errors, no exporter counts them; {job="kernel"} stands for where your kernel log is shipped`,
	}
}

// Ident makes s usable in an alert name: every character but letters
// and digits becomes _.
func Ident(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

func round(x float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}
