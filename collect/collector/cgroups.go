package collector

import (
	"bytes"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iorca/iorca/internal/procfs"
)

// maxCgroups bounds how many cgroups are sampled each tick.
const maxCgroups = 256

// Per-tick cgroup IO counters (REFERENCE-IO.md 5.2, 5.3).
var (
	cgroupV2TickFiles = []string{"io.stat", "io.pressure", "memory.current", "memory.swap.current", "memory.events"}
	cgroupV1TickFiles = []string{"blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"}
	// v1 memory: usage with and without swap, and how often the limit
	// was hit.
	cgroupV1MemTickFiles = []string{"memory.usage_in_bytes", "memory.memsw.usage_in_bytes", "memory.failcnt"}
	// Limits read once, at the end, for the cgroups seen; memory.stat
	// with them for the cgroup's dirty and writeback pages (file_dirty,
	// file_writeback on v2; dirty, writeback on v1): a memory cgroup's
	// own dirty limit follows its memory limit.
	cgroupV2LimitFiles    = []string{"io.max", "io.weight", "io.latency", "io.bfq.weight", "memory.max", "memory.high", "memory.swap.max", "memory.stat"}
	cgroupV1MemLimitFiles = []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.stat"}
	cgroupV1LimitFiles    = []string{"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device", "blkio.weight", "blkio.bfq.weight"}
)

// cgroupSet tracks the cgroup directories that hold processes, found from
// each new process's /proc/PID/cgroup and the cgroup mounts in mountinfo.
type cgroupSet struct {
	v2Root  string // cgroup2 mount point, "" if none
	v1Blkio string // v1 hierarchy with the blkio controller, "" if none
	// v1Memory is the v1 hierarchy with the memory controller, "" if
	// none.
	v1Memory string
	dirs     map[string]bool
	v2       map[string]bool
	memory   map[string]bool // v1 memory cgroups
	absent   map[string]bool // files known not to exist: not read again
	full     bool
}

func newCgroupSet(mounts []procfs.Mount) *cgroupSet {
	cs := &cgroupSet{dirs: map[string]bool{}, v2: map[string]bool{}, memory: map[string]bool{}, absent: map[string]bool{}}
	for _, m := range mounts {
		switch m.FSType {
		case "cgroup2":
			if cs.v2Root == "" {
				cs.v2Root = m.MountPoint
			}
		case "cgroup":
			for _, o := range procfs.SplitOptions(m.SuperOptions) {
				if o == "blkio" && cs.v1Blkio == "" {
					cs.v1Blkio = m.MountPoint
				}
				if o == "memory" && cs.v1Memory == "" {
					cs.v1Memory = m.MountPoint
				}
			}
		}
	}
	return cs
}

// addProcess adds the cgroups named in one /proc/PID/cgroup. It reports
// false when the bound was reached and a cgroup was left out.
func (cs *cgroupSet) addProcess(cgroupFile []byte) bool {
	ok := true
	for _, l := range bytes.Split(cgroupFile, []byte{'\n'}) {
		// hierarchy-ID:controllers:path; the path may hold ':'.
		parts := strings.SplitN(string(l), ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") || strings.Contains(parts[2], "..") {
			continue
		}
		var dir string
		v2, memory := false, false
		switch {
		case parts[0] == "0" && parts[1] == "" && cs.v2Root != "":
			dir, v2 = filepath.Join(cs.v2Root, parts[2]), true
		case cs.v1Blkio != "" && hasController(parts[1], "blkio"):
			dir = filepath.Join(cs.v1Blkio, parts[2])
		case cs.v1Memory != "" && hasController(parts[1], "memory"):
			dir, memory = filepath.Join(cs.v1Memory, parts[2]), true
		default:
			continue
		}
		if cs.dirs[dir] {
			continue
		}
		if len(cs.dirs) >= maxCgroups {
			cs.full = true
			ok = false
			continue
		}
		cs.dirs[dir] = true
		cs.v2[dir] = v2
		cs.memory[dir] = memory
	}
	return ok
}

func hasController(list, c string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == c {
			return true
		}
	}
	return false
}

// files returns the files to read for every tracked cgroup, sorted.
func (cs *cgroupSet) files(limits bool) []string {
	var out []string
	for dir := range cs.dirs {
		names := cgroupV1TickFiles
		switch {
		case cs.v2[dir] && limits:
			names = cgroupV2LimitFiles
		case cs.v2[dir]:
			names = cgroupV2TickFiles
		case cs.memory[dir] && limits:
			names = cgroupV1MemLimitFiles
		case cs.memory[dir]:
			names = cgroupV1MemTickFiles
		case limits:
			names = cgroupV1LimitFiles
		}
		for _, n := range names {
			p := filepath.Join(dir, n)
			if !cs.absent[p] {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}
