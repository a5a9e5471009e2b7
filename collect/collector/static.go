package collector

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/internal/procfs"
)

// hostFiles are read once at the start.
var hostFiles = []string{
	"/proc/self/mountinfo", "/proc/1/mountinfo",
	"/proc/sys/vm/dirty_ratio", "/proc/sys/vm/dirty_background_ratio",
	"/proc/sys/vm/dirty_bytes", "/proc/sys/vm/dirty_background_bytes",
	"/proc/sys/vm/dirty_expire_centisecs", "/proc/sys/vm/dirty_writeback_centisecs",
	"/proc/sys/vm/swappiness", "/proc/sys/kernel/task_delayacct",
	"/proc/sys/kernel/hung_task_timeout_secs", "/proc/sys/kernel/dmesg_restrict",
	"/proc/cgroups", "/proc/swaps", "/proc/version", "/proc/cmdline", "/etc/os-release",
}

// endFiles are read again at the end: what an incident can change while
// it is captured.
var endFiles = []string{"/proc/self/mountinfo", "/proc/1/mountinfo", "/proc/swaps"}

// captureEnd reads endFiles into bundle.EndMember.
func (c *collection) captureEnd() {
	var b []byte
	for _, p := range endFiles {
		data, st, err := c.sampler.rd.Read(p)
		c.ledger.read("end", p, 0, 0, st, err)
		b = appendFrame(b, p, data, st, err)
	}
	c.store.put(bundle.EndMember, b)
}

// blockFiles are read once for every /sys/block device (queue settings
// decide what "saturated" means: a rotational disk with mq-deadline is not
// an NVMe with none). dm/name and md/level, with the slaves and holders
// listed below, say what a device-mapper or md device stacks on: whose
// time the kernel threads under it hold (REFERENCE-IO.md §14.3).
var blockFiles = []string{
	"dev", "size", "ro", "removable", "loop/backing_file", "dm/name", "md/level",
	"queue/scheduler", "queue/rotational", "queue/nr_requests", "queue/max_sectors_kb",
	"queue/max_hw_sectors_kb", "queue/read_ahead_kb", "queue/logical_block_size",
	"queue/physical_block_size", "queue/write_cache", "queue/wbt_lat_usec", "queue/nomerges",
	"queue/discard_max_bytes",
}

// bdiFiles are read once for every backing device (/sys/class/bdi/MAJ:MIN):
// its share of the dirty limit and whether that share is enforced from
// the first page (strict_limit: FUSE's bdis, or an admin's setting), which
// throttles a writer while the node's dirty memory is far below the
// global limit (REFERENCE-IO.md §14.4). min_bytes and max_bytes are
// absent before Linux 6.2.
var bdiFiles = []string{"min_ratio", "max_ratio", "min_bytes", "max_bytes", "strict_limit"}

// captureHost reads the once-only files and returns the host's mounts (for
// the cgroup hierarchy and statfs).
func (c *collection) captureHost() []procfs.Mount {
	var b []byte
	rd := &c.sampler.rd
	var selfMounts []byte
	for _, p := range hostFiles {
		data, st, err := rd.Read(p)
		c.ledger.read("host", p, 0, 0, st, err)
		if p == "/proc/self/mountinfo" && st == bundle.StatusOK {
			selfMounts = append([]byte(nil), data...)
		}
		b = appendFrame(b, p, data, st, err)
	}
	devs, err := readDirNames("/sys/block")
	if err != nil {
		c.ledger.read("block-queue", "/sys/block", 0, 0, capture.Classify(err), err)
	}
	for _, d := range devs {
		for _, f := range blockFiles {
			p := "/sys/block/" + d + "/" + f
			data, st, err := rd.Read(p)
			if st == bundle.StatusAbsent {
				continue // loop/ only exists for loop devices, and so on
			}
			c.ledger.sweepRead("block-queue", p, 0, st, err)
			b = appendFrame(b, p, data, st, err)
		}
		for _, sub := range []string{"slaves", "holders"} {
			names, err := readDirNames("/sys/block/" + d + "/" + sub)
			if err == nil && len(names) > 0 {
				b = appendFrame(b, bundle.BlockLinksFrame(d, sub), []byte(strings.Join(names, "\n")+"\n"), bundle.StatusOK, nil)
			}
		}
	}
	b = c.captureBDIs(b)
	c.store.put(bundle.HostMember, b)
	mounts, _ := procfs.ParseMountinfo(selfMounts)
	return mounts
}

// captureBDIs appends the dirty-limit settings of every backing device to
// b.
func (c *collection) captureBDIs(b []byte) []byte {
	bdis, err := readDirNames("/sys/class/bdi")
	if err != nil {
		c.ledger.read("bdi", "/sys/class/bdi", 0, 0, capture.Classify(err), err)
		return b
	}
	for _, d := range bdis {
		for _, f := range bdiFiles {
			p := "/sys/class/bdi/" + d + "/" + f
			data, st, err := c.sampler.rd.Read(p)
			if st == bundle.StatusAbsent {
				continue
			}
			c.ledger.sweepRead("bdi", p, 0, st, err)
			b = appendFrame(b, p, data, st, err)
		}
	}
	return b
}

// pseudoFS are filesystems with no blocks to run out of.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devpts": true, "mqueue": true,
	"debugfs": true, "tracefs": true, "securityfs": true, "pstore": true, "bpf": true,
	"configfs": true, "fusectl": true, "hugetlbfs": true, "binfmt_misc": true, "autofs": true,
	"nsfs": true, "rpc_pipefs": true, "selinuxfs": true, "efivarfs": true, "devtmpfs": true,
}

// statfsTimeout bounds one statfs: a hung NFS server must not hang the
// collector. A goroutine stuck in such a call is abandoned.
const statfsTimeout = 2 * time.Second

// captureStatfs records space and inodes of every real mount of the
// host; captureTargetStatfs adds those only a target sees.
func (c *collection) captureStatfs(mounts []procfs.Mount) {
	t0 := time.Now()
	seen := map[string]bool{}
	for _, m := range mounts {
		// Every host mount is known, read or not: a target's view adds
		// only mounts the host's table lacks.
		c.statfsIDs[m.ID] = true
		if pseudoFS[m.FSType] || seen[m.MountPoint] {
			continue
		}
		seen[m.MountPoint] = true
		c.statfs = append(c.statfs, c.statfsOf(m, m.MountPoint, 0))
	}
	c.ledger.time("statfs", time.Since(t0))
	c.putStatfs()
}

// captureTargetStatfs records the mounts a target sees that the host's
// table has not (a container's tmpfs or volume in its own mount
// namespace), through the target's root: a log written to a tmpfs only
// the container sees fills its memory, and the report can say when.
func (c *collection) captureTargetStatfs(pid int, mountinfo []byte) {
	mounts, err := procfs.ParseMountinfo(mountinfo)
	if err != nil {
		return
	}
	added := false
	for _, m := range mounts {
		if pseudoFS[m.FSType] || c.statfsIDs[m.ID] {
			continue
		}
		c.statfsIDs[m.ID] = true
		s := c.statfsOf(m, fmt.Sprintf("/proc/%d/root%s", pid, m.MountPoint), pid)
		c.statfs = append(c.statfs, s)
		added = true
	}
	if added {
		c.putStatfs()
	}
}

// statfsOf is one mount's statfs at path (its mount point, or under a
// target's root), bounded by statfsTimeout; pid is the target whose view
// it is (0: the host's).
func (c *collection) statfsOf(m procfs.Mount, path string, pid int) bundle.Statfs {
	s := bundle.Statfs{MountID: m.ID, MountPoint: m.MountPoint, FSType: m.FSType, Source: m.Source, PID: pid}
	type result struct {
		st  syscall.Statfs_t
		err error
	}
	ch := make(chan result, 1)
	go func(p string) {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		ch <- result{st, err}
	}(path)
	select {
	case r := <-ch:
		s.Status = capture.Classify(r.err)
		if r.err != nil {
			s.Error = r.err.Error()
		} else {
			s.BlockSize, s.Blocks, s.BlocksFree, s.BlocksAvail = int64(r.st.Bsize), r.st.Blocks, r.st.Bfree, r.st.Bavail
			s.Files, s.FilesFree = r.st.Files, r.st.Ffree
		}
		c.ledger.sweepRead("statfs", path, 0, s.Status, r.err)
	case <-time.After(statfsTimeout):
		s.Status, s.Error = bundle.StatusTimeout, fmt.Sprintf("no answer in %v", statfsTimeout)
		c.ledger.read("statfs", path, pid, 0, s.Status, nil)
	}
	return s
}

// putStatfs (re)writes the statfs member.
func (c *collection) putStatfs() {
	data, _ := json.MarshalIndent(c.statfs, "", "  ")
	c.store.put(bundle.StatfsMember, append(data, '\n'))
}

// captureCgroupLimits reads the IO limits of every cgroup seen.
func (c *collection) captureCgroupLimits() {
	var b []byte
	for _, p := range c.sampler.cgroups.files(true) {
		data, st, err := c.sampler.rd.Read(p)
		if st == bundle.StatusAbsent {
			continue
		}
		c.ledger.sweepRead("cgroup-limits", p, 0, st, err)
		b = appendFrame(b, p, data, st, err)
	}
	if cs := c.sampler.cgroups; cs.v2Root != "" || cs.v1Blkio != "" || cs.v1Memory != "" {
		roots := bundle.CgroupRootsData(bundle.CgroupRoots{V2: cs.v2Root, V1Blkio: cs.v1Blkio, V1Memory: cs.v1Memory})
		b = bundle.AppendFrame(b, bundle.Frame{Path: bundle.CgroupRootsFrame, Status: bundle.StatusOK, MonoNS: capture.Mono(), Data: roots})
	}
	c.store.put(bundle.CgroupLimitsMember, b)
}
