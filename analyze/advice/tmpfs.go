package advice

import (
	"fmt"
	"strings"

	"github.com/iorca/iorca/analyze/internal/prose"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
)

// TmpfsCost says what a tmpfs remedy costs in memory, to follow its
// advice: tmpfs pages are Shmem, charged to the memory cgroup of the
// writer (a pod's memory limit) and reclaimable only to swap; how much
// memory an hour of the writer's rate of bytes handed to write() takes
// (a tmpfs is sized for what is kept between rotations, not at a size
// chosen here) and how long its memory limit, when the bundle has it,
// lasts at that rate (no figures when the bundle has no rate); that
// medium: Memory needs a sizeLimit;
// and that a default emptyDir is no tmpfs but a directory on the
// kubelet's filesystem. p may be nil (no single writer).
func TmpfsCost(c *window.Window, p *model.Process, bytesPerSec float64) string {
	return TmpfsCostWaiting(c, p, bytesPerSec, 0)
}

// waitBound is the share of its time a writer spends in its write and
// sync calls above which its rate is its device's, not its own: moved to
// tmpfs, it writes as fast as its callers produce, which the capture
// cannot measure.
const waitBound = 0.8

// TmpfsCostWaiting is TmpfsCost for a writer that spent waiting, a
// share of its time, in the calls that write the file: on tmpfs those
// calls wait for no device, so it writes faster than now — at the rate
// its calls would reach without the wait (bytesPerSec / (1 - waiting)),
// or, when it waited nearly all the time (waitBound), at a rate the
// capture cannot forecast.
func TmpfsCostWaiting(c *window.Window, p *model.Process, bytesPerSec, waiting float64) string {
	if waiting >= waitBound && bytesPerSec > 0 {
		s := strings.TrimSuffix(tmpfsCost(c, p, 0), tmpfsEmptyDir) + fmt.Sprintf("; it writes %s/s now, but %.0f %% of its time goes to these writes waiting for the disk: on tmpfs no write waits, so it will write as fast as its callers produce records, a rate this capture cannot forecast: size the tmpfs and rotate the file by size, not by time, and alert on its free space", prose.Bytes(bytesPerSec), waiting*100)
		return s + tmpfsEmptyDir
	}
	if waiting > 0 && bytesPerSec > 0 {
		// The rate its calls reach when they no longer wait.
		unbound := bytesPerSec / (1 - waiting)
		return strings.Replace(tmpfsCost(c, p, unbound), fmt.Sprintf("at the %s/s it writes,", prose.Bytes(unbound)),
			fmt.Sprintf("at the %s/s it would write without waiting for the disk (it writes %s/s now, %.0f %% of its time in these writes),", prose.Bytes(unbound), prose.Bytes(bytesPerSec), waiting*100), 1)
	}
	return tmpfsCost(c, p, bytesPerSec)
}

const (
	tmpfsIsMemory = "tmpfs is memory: its pages are Shmem, charged to the writer's memory cgroup (a pod's memory limit) like any other memory, and reclaimable only to swap"
	tmpfsEmptyDir = "; an emptyDir with medium: Memory needs a sizeLimit, and a default emptyDir is no tmpfs but a directory on the kubelet's filesystem (/var/lib/kubelet), usually the same disk"
)

func tmpfsCost(c *window.Window, p *model.Process, bytesPerSec float64) string {
	s := tmpfsIsMemory
	var limit uint64
	if p != nil {
		if cg := c.Model.MemoryCgroup(p); cg != nil {
			limit = cg.MemLimit
		}
	}
	if bytesPerSec > 0 {
		s += fmt.Sprintf("; at the %s/s it writes, an hour of it is %s of memory: size the tmpfs for what is kept between rotations", prose.Bytes(bytesPerSec), prose.Bytes(bytesPerSec*3600))
		if limit > 0 {
			s += fmt.Sprintf(", within its memory limit (%s, filled in %s at that rate if nothing is rotated away)", prose.Bytes(float64(limit)), SpanText(float64(limit)/bytesPerSec))
		}
	} else if limit > 0 {
		s += fmt.Sprintf(" (%s here)", prose.Bytes(float64(limit)))
	}
	if p != nil && limit == 0 {
		s += "; " + NodeMemoryBound(c)
	}
	return s + tmpfsEmptyDir
}

// SpanText says a duration in seconds in the unit people plan in.
func SpanText(secs float64) string {
	switch {
	case secs < 120:
		return fmt.Sprintf("%.0f s", secs)
	case secs < 2*3600:
		return fmt.Sprintf("%.0f min", secs/60)
	case secs < 2*86400:
		return fmt.Sprintf("%.1f h", secs/3600)
	}
	return fmt.Sprintf("%.1f days", secs/86400)
}

// NodeMemoryBound says that a writer's memory cgroup sets no limit, so
// what it keeps in memory comes out of the node's, with how much the node
// had available at the end of the capture.
func NodeMemoryBound(c *window.Window) string {
	s := "its memory cgroup has no limit: what it keeps comes out of the node's memory"
	if mi := c.Model.Ticks[c.To].Meminfo; mi["MemAvailable"] > 0 {
		s += fmt.Sprintf(" (%s available at the end of the capture)", prose.Bytes(float64(mi["MemAvailable"])*1024))
	}
	return s
}
