package advice

import (
	"fmt"

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
	s := "tmpfs is memory: its pages are Shmem, charged to the writer's memory cgroup (a pod's memory limit) like any other memory, and reclaimable only to swap"
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
	return s + "; an emptyDir with medium: Memory needs a sizeLimit, and a default emptyDir is no tmpfs but a directory on the kubelet's filesystem (/var/lib/kubelet), usually the same disk"
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
