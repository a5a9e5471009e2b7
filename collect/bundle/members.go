package bundle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The members of a bundle, and what each holds. Nothing outside this
// package spells a member name or a synthetic frame path: the collector
// writes and the analyzer reads through these names.
//
// Members are written, and listed in the manifest, in this order:
//
//  1. manifest.json (ManifestName);
//  2. static/ members (HostMember, StatfsMember, KmsgMember,
//     ProcTableMember, CgroupLimitsMember, ContainersMember,
//     UsersMember), by name;
//  3. procs/PID.frames (TargetMember), by name;
//  4. strace/PID.txt and strace/PID.meta.json (TraceMember,
//     TraceMetaMember), by name;
//  5. trace/ members of the block-layer capture (BlockTraceMember,
//     TraceFormatsMember, OpenWritersMember);
//  6. ticks/NNNNNN.frames (TickMember), by tick number, which is time
//     order.
//
// A truncated bundle therefore still holds the description of the host,
// and a reader may take ticks in the order they come.
const (
	// HostMember holds frames of the files read once at the start:
	// /proc/self/mountinfo, /proc/1/mountinfo, the vm and kernel sysctls,
	// /proc/cgroups, /proc/swaps, /etc/os-release, and for every block
	// device /sys/block/DEV/{dev,size,queue/...,loop/backing_file,
	// dm/name,md/level} where present, plus the synthetic BlockLinksFrame
	// paths (its slaves and holders, when it has any).
	HostMember = "static/host.frames"
	// StatfsMember holds the statfs of every mount, a JSON array of Statfs.
	StatfsMember = "static/statfs.json"
	// KmsgMember is the tail of the kernel log, records as /dev/kmsg gives
	// them ("prio,seq,usec,flags;text" and continuation lines).
	KmsgMember = "static/kmsg"
	// ProcTableMember describes every process the first time a tick saw
	// it: for each, /proc/PID/stat (as read in that tick), then status,
	// cmdline (masked when redacted) and cgroup. A stat frame opens the
	// entry the frames after it belong to.
	ProcTableMember = "static/proctable.frames"
	// CgroupLimitsMember holds the IO and memory limits of the cgroups
	// sampled (v2 io.max, io.weight, io.latency, memory.max,
	// memory.high, memory.swap.max; v1 blkio.throttle.*_device,
	// blkio.weight, memory.limit_in_bytes, memory.memsw.limit_in_bytes),
	// read at the end, and the CgroupRootsFrame.
	CgroupLimitsMember = "static/cgroup-limits.frames"
	// EndMember holds frames of files read again at the end of the
	// capture, for what may change during it: /proc/self/mountinfo (a
	// filesystem remounted read-only after IO errors) and /proc/swaps.
	EndMember = "static/end.frames"
	// ContainersMember names the containers the processes ran in, from
	// the runtime's own metadata where it is a plain file: a JSON array
	// of ContainerMeta (Docker's containers/ID/config.v2.json: Name,
	// Config.Image, Config.Labels — never Config.Env, which holds
	// secrets).
	ContainersMember = "static/containers.json"
	// UsersMember names the users the processes ran as: a JSON array of
	// UserName, by UID, for the real and effective UIDs of the processes
	// the proctable describes that the node's /etc/passwd names (PID 1's,
	// /proc/1/root/etc/passwd, or kthreadd's where PID 1's is denied, when
	// the collector runs in a mount namespace of its own), first entry for
	// a UID as getpwuid takes it;
	// read by the collector itself (static: no NSS, so LDAP or sssd users
	// stay numbers). Absent when /etc/passwd could not be read, and in
	// bundles of collectors before it: readers then show numeric UIDs.
	UsersMember = "static/users.json"
	// BlockTraceMember is the text of the block-layer capture's
	// trace_pipe, one event a line ("COMM-PID [CPU] FLAGS SECONDS: EVENT:
	// FIELDS", seconds of the instance's trace_clock); the manifest's
	// BlockTrace describes it.
	BlockTraceMember = "trace/block.txt"
	// TraceFormatsMember holds the format file of every enabled event
	// (events/SUBSYS/EVENT/format) as frames: event layouts change
	// between kernels.
	TraceFormatsMember = "trace/formats.frames"
	// OpenWritersMember names who held open for writing the files whose
	// pages the flushers wrote during the block trace while no traced
	// writeback_dirty_folio dirtied them (dirtied before the trace began,
	// up to dirty_expire_centisecs earlier): a JSON array of OpenWriter,
	// from a bounded scan of every process's /proc/PID/fdinfo when the
	// trace ends. Absent when there were no such files, and in bundles of
	// collectors before it (their writeback of those files stays the
	// kernel's).
	OpenWritersMember = "trace/open-writers.json"
)

// OpenWriter is one descriptor open for writing (fdinfo flags O_WRONLY or
// O_RDWR) on an inode the flushers wrote with no traced dirtier. It names
// no path and holds nothing of the file: the inode and its mount's device
// are what the trace's writeback_single_inode is matched against.
type OpenWriter struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
	FD   int    `json:"fd"`
	// Flags are fdinfo's, in octal as the kernel prints them.
	Flags string `json:"flags"`
	Ino   uint64 `json:"ino"`
	MntID int    `json:"mnt_id"`
	// Dev is the mount's device (mountinfo's MAJ:MIN): a partition's
	// for a filesystem on one, whose bdi is its disk's.
	Dev string `json:"dev"`
}

// Synthetic frame paths: frames that hold what the collector found rather
// than a file it read.
const (
	// ClockFrame is the first frame of every tick member; its data is
	// written by ClockData and read by ParseClock.
	ClockFrame = "clock"
	// CgroupRootsFrame, in CgroupLimitsMember, says where the cgroup
	// hierarchies are mounted; written by CgroupRootsData, read by
	// ParseCgroupRoots.
	CgroupRootsFrame = "cgroup-roots"
)

// BlockLinksFrame is the path of the frame in HostMember that lists the
// entries of /sys/block/DEV/SUB (SUB is "slaves" or "holders"), one name a
// line: the trailing slash marks a directory listing, not a file.
func BlockLinksFrame(dev, sub string) string { return "/sys/block/" + dev + "/" + sub + "/" }

// TickMember is the name of tick n's member. Its frames come in this
// order, which readers may rely on:
//
//  1. ClockFrame;
//  2. /proc/uptime, /proc/diskstats, /proc/vmstat, /proc/meminfo,
//     /proc/pressure/io, /proc/stat, /proc/loadavg;
//  3. /sys/block/DEV/stat for every device;
//  4. for every process, by PID: /proc/PID/stat and, only when that stat
//     was read, /proc/PID/io right after it, so an io frame always
//     belongs to the stat frame before it;
//  5. the cgroups' io.stat, io.pressure, memory.current,
//     memory.swap.current and memory.events (v2), or blkio.throttle
//     counters and memory.usage_in_bytes, memory.memsw.usage_in_bytes
//     and memory.failcnt (v1), by path;
//  6. for each target: /proc/PID/wchan, then each thread's
//     /proc/PID/task/TID/stat followed, for a thread in D state, by its
//     wchan, stack and syscall.
func TickMember(n int) string { return fmt.Sprintf("ticks/%06d.frames", n) }

// TargetMember is the name of the member describing target pid: its
// cmdline, comm, status, stat, io, cgroup, mountinfo, wchan, stack and
// syscall, the links exe, cwd, root and ns/mnt, and every fd link with its
// fdinfo, all under /proc/PID/.
func TargetMember(pid int) string { return fmt.Sprintf("procs/%d.frames", pid) }

// TraceMember is the name of target pid's strace output.
func TraceMember(pid int) string { return fmt.Sprintf("strace/%d.txt", pid) }

// TraceMetaMember is the name of the JSON StraceInfo of target pid's trace.
func TraceMetaMember(pid int) string { return fmt.Sprintf("strace/%d.meta.json", pid) }

// Kind is what a member holds, decided by its name.
type Kind int

// The kinds of member, in the order a bundle lists them.
const (
	KindStatic Kind = iota
	KindTarget
	KindTrace
	KindEvents
	KindTick
	KindOther
)

var kindPrefixes = [...]string{KindStatic: "static/", KindTarget: "procs/", KindTrace: "strace/", KindEvents: "trace/", KindTick: "ticks/"}

// KindOf returns the kind of a member name.
func KindOf(name string) Kind {
	for k, p := range kindPrefixes {
		if strings.HasPrefix(name, p) {
			return Kind(k)
		}
	}
	return KindOther
}

// MemberLess orders member names the way a bundle lists them (see the
// order above); it is a strict weak order for sort.Slice.
func MemberLess(a, b string) bool {
	if ka, kb := KindOf(a), KindOf(b); ka != kb {
		return ka < kb
	}
	return a < b
}

// ParseTickMember returns the tick number of a TickMember name.
func ParseTickMember(name string) (int, bool) {
	return numberIn(name, "ticks/", ".frames")
}

// ParseTargetMember returns the PID of a TargetMember name.
func ParseTargetMember(name string) (int, bool) {
	return numberIn(name, "procs/", ".frames")
}

// IsTraceText reports whether name is a TraceMember (not its meta file).
func IsTraceText(name string) bool {
	_, ok := numberIn(name, "strace/", ".txt")
	return ok
}

func numberIn(name, prefix, suffix string) (int, bool) {
	s, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	if s, ok = strings.CutSuffix(s, suffix); !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// ClockData is the data of a tick's ClockFrame: the clocks read when the
// tick began, and its number.
func ClockData(c Clock, tick int) []byte {
	return fmt.Appendf(nil, "wall %s\nmono_ns %d\nboot_ns %d\ntick %d\n", c.Wall.Format(time.RFC3339Nano), c.MonoNS, c.BootNS, tick)
}

// ParseClock reads the data of a ClockFrame. Unknown keys are ignored; a
// key whose value does not parse is left zero.
func ParseClock(b []byte) (Clock, int) {
	var c Clock
	tick := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "wall":
			c.Wall, _ = time.Parse(time.RFC3339Nano, v)
		case "mono_ns":
			c.MonoNS, _ = strconv.ParseInt(v, 10, 64)
		case "boot_ns":
			c.BootNS, _ = strconv.ParseInt(v, 10, 64)
		case "tick":
			tick, _ = strconv.Atoi(v)
		}
	}
	return c, tick
}

// CgroupRoots says where the cgroup hierarchies are mounted on the node.
type CgroupRoots struct {
	// V2 is the cgroup2 mount point, "" when there is none.
	V2 string
	// V1Blkio is the v1 hierarchy with the blkio controller, "" when
	// there is none.
	V1Blkio string
	// V1Memory is the v1 hierarchy with the memory controller, "" when
	// there is none.
	V1Memory string
}

// CgroupRootsData is the data of the CgroupRootsFrame.
func CgroupRootsData(r CgroupRoots) []byte {
	return fmt.Appendf(nil, "v2 %s\nv1-blkio %s\nv1-memory %s\n", r.V2, r.V1Blkio, r.V1Memory)
}

// ParseCgroupRoots reads the data of a CgroupRootsFrame.
func ParseCgroupRoots(b []byte) CgroupRoots {
	var r CgroupRoots
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "v2":
			r.V2 = v
		case "v1-blkio":
			r.V1Blkio = v
		case "v1-memory":
			r.V1Memory = v
		}
	}
	return r
}

// ContainerMeta is what a runtime's metadata says of one container.
type ContainerMeta struct {
	ID      string            `json:"id"`
	Runtime string            `json:"runtime"`
	Name    string            `json:"name"`
	Image   string            `json:"image,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Source is the file it was read from.
	Source string `json:"source"`
}

// UserName is one UID and the name /etc/passwd gives it.
type UserName struct {
	UID  int    `json:"uid"`
	Name string `json:"name"`
}
