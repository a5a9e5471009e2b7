package collector

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/internal/procfs"
)

// target is a process chosen for a closer look.
type target struct {
	pid   int
	start uint64
	comm  string
	gone  bool
	info  bundle.Target
}

// procSnap is what selection needs of one process in one tick, as the
// sampler parsed it.
type procSnap struct {
	stat  procfs.PIDStat
	io    procfs.PIDIO
	hasIO bool
}

// candidate is a process's activity over the first window.
type candidate struct {
	pid        int
	start      uint64
	comm       string
	diskBytes  int64
	writeCalls int64
	// ioWait is the block-IO delay (delayacct_blkio_ticks) it accrued;
	// deviceNS the service time of the requests it issued itself (from
	// the block trace so far).
	ioWait, deviceNS int64
	// syncWrites is the synchronous or FUA write requests it issued.
	syncWrites int64
	// syncCalls is the sync() and syncfs() calls it (or the sync(1)
	// processes it ran) made: each writes whole filesystems back.
	syncCalls int64
	// majFlt is the major page faults it took: reads from swap (or from
	// files it maps) that it waited for.
	majFlt int64
}

// selectTargets picks the top processes by disk bytes (read_bytes +
// write_bytes) and by write syscalls (syscw) between two ticks, by the
// device time of the requests they issued and by their synchronous write
// requests (block trace), by their wait for block IO (delay accounting)
// and by major faults, plus the PIDs asked for. Kernel threads and the
// collector's own processes are left out. The write-syscall ranking is
// what finds a containerd shim copying a container's stdout: it moves
// bytes through pipes, which shows in syscw and wchar but never in
// write_bytes (REFERENCE-IO.md 8.1). The device-time and wait rankings
// find the quiet process on a slow disk — a few synchronous writes a
// second, each waiting for the device — and those that wait behind it;
// the synchronous-request ranking finds the waiter whose own writes are
// few and fast but each waits for a journal commit or a flush of someone
// else's data (a wait delay accounting does not count as block IO); the
// major-fault ranking finds who swaps.
//
// A process absent from first started during the window: all its counters
// are the window's. With onlyNew (a later window, after the first
// selection), only processes that began their IO in it are candidates —
// started during it, or with no disk bytes and no write call before it
// (a shell that execs a writer, a job woken by a timer); the ones already
// doing IO were weighed before.
func selectTargets(first, last map[int]*procSnap, dev *deviceTimer, top int, pids []int, exclude map[int]bool, onlyNew bool, maxWait int64) []*target {
	var cands []candidate
	var syncCalls map[int]int64
	if dev != nil {
		syncCalls = dev.syncCallsBy(first, last)
	}
	for pid, b := range last {
		a := first[pid]
		if a != nil && a.stat.StartTime != b.stat.StartTime {
			a = nil // the PID was reused: a new process
		}
		if a == nil {
			a = &procSnap{stat: procfs.PIDStat{StartTime: b.stat.StartTime}, hasIO: true}
		} else if onlyNew && (a.io.ReadBytes+a.io.WriteBytes > 0 || a.io.SyscW > 0) {
			continue
		}
		if !a.hasIO || !b.hasIO || exclude[pid] || b.stat.IsKernelThread() {
			continue
		}
		c := candidate{pid: pid, start: b.stat.StartTime, comm: b.stat.Comm,
			diskBytes:  (b.io.ReadBytes - a.io.ReadBytes) + (b.io.WriteBytes - a.io.WriteBytes),
			writeCalls: b.io.SyscW - a.io.SyscW,
			ioWait:     int64(b.stat.DelayAcctBlkioTicks - a.stat.DelayAcctBlkioTicks),
			majFlt:     int64(b.stat.MajFlt - a.stat.MajFlt)}
		if maxWait > 0 && c.ioWait > maxWait {
			c.ioWait = 0 // no wait since accounting began can be this long
		}
		if dev != nil {
			c.deviceNS, c.syncWrites, c.syncCalls = dev.byPID[pid], dev.syncWrites[pid], syncCalls[pid]
		}
		cands = append(cands, c)
	}
	byPID := map[int]*target{}
	var order []*target
	add := func(pid int, start uint64, comm, reason string) {
		t := byPID[pid]
		if t == nil {
			t = &target{pid: pid, start: start, comm: comm}
			byPID[pid] = t
			order = append(order, t)
		}
		t.info.Reasons = append(t.info.Reasons, reason)
	}
	for _, pid := range pids {
		var start uint64
		comm := ""
		if s := last[pid]; s != nil {
			start, comm = s.stat.StartTime, s.stat.Comm
		}
		add(pid, start, comm, "--pid")
	}
	rank := func(key func(candidate) int64, label string) {
		sort.Slice(cands, func(i, j int) bool {
			if ki, kj := key(cands[i]), key(cands[j]); ki != kj {
				return ki > kj
			}
			return cands[i].pid < cands[j].pid
		})
		for i, c := range cands {
			if i >= top || key(c) <= 0 {
				break
			}
			add(c.pid, c.start, c.comm, fmt.Sprintf("top %s (#%d, %d in the first window)", label, i+1, key(c)))
		}
	}
	rank(func(c candidate) int64 { return c.diskBytes }, "disk bytes")
	rank(func(c candidate) int64 { return c.writeCalls }, "write syscalls")
	rank(func(c candidate) int64 { return c.deviceNS / 1e6 }, "device time in ms")
	rank(func(c candidate) int64 { return c.syncWrites }, "synchronous write requests")
	rank(func(c candidate) int64 { return c.ioWait }, "block-IO wait in clock ticks")
	rank(func(c candidate) int64 { return c.majFlt }, "major page faults")
	rank(func(c candidate) int64 { return c.syncCalls }, "sync() and syncfs() calls")
	return order
}

// maxFDs bounds the descriptors described per target.
const maxFDs = 4096

// captureTarget reads a target's description into procs/PID.frames: what
// it is (cmdline, status, cgroup), what it sees (mountinfo), what it has
// open (fd links and fdinfo flags, which show O_SYNC, O_DSYNC, O_DIRECT,
// O_APPEND), what it has mapped (maps: a shared writable mapping of a
// file is written through without write() calls, and an msync names only
// an address), and where it is in the kernel.
func (c *collection) captureTarget(t *target, tick int) {
	base := fmt.Sprintf("/proc/%d/", t.pid)
	member := bundle.TargetMember(t.pid)
	var b []byte
	rd := &c.sampler.rd
	var mountinfo []byte
	read := func(name, source string) {
		data, st, err := rd.Read(base + name)
		c.ledger.read(source, base+name, t.pid, tick, st, err)
		if name == "cmdline" {
			data = c.table.maskCmdline(t.pid, data, member)
		}
		if name == "mountinfo" && st == bundle.StatusOK {
			mountinfo = append([]byte(nil), data...) // data is the reader's buffer
		}
		b = appendFrame(b, base+name, data, st, err)
	}
	link := func(name, source string) {
		data, st, err := readLink(base + name)
		c.ledger.read(source, base+name, t.pid, tick, st, err)
		b = appendFrame(b, base+name, data, st, err)
	}
	for _, name := range []string{"cmdline", "comm", "status", "stat", "io", "cgroup", "mountinfo", "maps", "wchan", "stack", "syscall"} {
		read(name, "target-"+name)
	}
	if mountinfo != nil {
		c.captureTargetStatfs(t.pid, mountinfo)
	}
	for _, name := range []string{"exe", "cwd", "root", "ns/mnt"} {
		link(name, "target-links")
	}
	fds, err := readDirNames(base + "fd")
	if err != nil {
		c.ledger.read("target-fd", base+"fd", t.pid, tick, capture.Classify(err), err)
	}
	sort.Slice(fds, func(i, j int) bool { a, _ := strconv.Atoi(fds[i]); b, _ := strconv.Atoi(fds[j]); return a < b })
	if len(fds) > maxFDs {
		c.bound(bundle.Bound{Name: "fds-per-target", Limit: maxFDs,
			What: fmt.Sprintf("target %d has %d open fds; the first %d were described", t.pid, len(fds), maxFDs)})
		fds = fds[:maxFDs]
	}
	for _, fd := range fds {
		link("fd/"+fd, "target-fd")
		read("fdinfo/"+fd, "target-fdinfo")
	}
	c.store.put(member, b)
	t.info.Member = member
}
