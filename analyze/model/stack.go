package model

import (
	"slices"
	"sort"
	"strings"

	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/internal/procfs"
)

// Time through a stack belongs to whoever sent the requests above it
// (REFERENCE-IO.md §14). One rule holds for every stacking driver: the
// time kernel threads hold on a lower device — the driver's own threads,
// the flushers, the journal of a filesystem above — is charged to the
// tasks that sent the device above its requests over the same window, in
// proportion to the bytes it served for each. What differs is where the
// upper device's requests show in the trace:
//
//   - a loop device (and a request-based dm device, multipath) has
//     requests of its own; they reach the disk under its backing file as
//     the loop worker's IO or as pages of the backing file the flushers
//     write. What it served for whom is what the charger found on it.
//   - a bio-based dm device (linear, crypt, thin) and every md array have
//     no block_rq_* events: their bios are remapped to their slaves, whose
//     requests the trace shows, issued in the submitter's context (a
//     user's keeps its PID and stays its own) or by the driver's thread
//     (dmcrypt_write, kcryptd in kworkers, md0_raid1). Pages dirtied on
//     such a device's bdi reach its slaves as the flushers' requests, so
//     the charger takes its dirtiers (and writeback_single_inode on its
//     bdi) for the flushers' requests on them (throughBDIs); its
//     filesystem's journal (jbd2/dm-0-8) and its sync writers' requests
//     land there too. What it served for whom is what the charger found on
//     the devices its requests landed on: the user tasks' own and caused
//     bytes there. md RAID1 writes every request to each member: each
//     member's kernel time goes to the same senders.
//
// A limit: on a disk that also holds a filesystem of its own beside a
// bio-based device's partition, its users' own requests cannot be told
// from those that came through the device (the trace names the disk, not
// the partition or the layer): they share its kernel time too.

// stackedKernel reports a kernel share the stack above a device explains:
// the flushers, the loop workers, the journal of a filesystem, dm-crypt's
// threads, an md array's thread. An md resync, like ext4lazyinit, is the
// kernel's own upkeep: it stays kernel work.
func stackedKernel(s *Share) bool {
	c := s.Task.Comm
	if !s.Kernel {
		return false
	}
	switch {
	case ftrace.MDTask(c):
		return !strings.HasSuffix(c, "_resync")
	case c == "kworker", strings.HasPrefix(c, "loop"), ftrace.JournalTask(c):
		return true
	}
	return strings.HasPrefix(c, "dmcrypt_write") || strings.HasPrefix(c, "kcryptd") || strings.HasPrefix(c, "kdmflush")
}

// stacks is how the capture's block devices stack.
type stacks struct {
	// lowers are, for each stacked device, the devices its requests go
	// to: a loop device's, the disk that holds its backing file; a dm or
	// md device's, its slaves (a partition stands for its disk).
	lowers map[string][]string
	// own are the devices with requests of their own in the trace.
	own map[string]bool
}

// stacks reads the stacking from the block devices' facts, the mount
// table and the trace.
func (m *Model) stacks() *stacks {
	s := &stacks{lowers: map[string][]string{}, own: map[string]bool{}}
	add := func(upper, lower string) {
		if lower != "" && lower != upper && !slices.Contains(s.lowers[upper], lower) {
			s.lowers[upper] = append(s.lowers[upper], lower)
		}
	}
	for name, b := range m.Blocks {
		if b.BackingFile != "" {
			if mt, ok := MountFor(m.Mounts, b.BackingFile); ok {
				add(name, m.DiskName(procfs.Dev{Major: mt.Major, Minor: mt.Minor}))
			}
		}
		// Both sides are read: a bundle may hold one listing and not the
		// other (a device that went away between the two reads).
		for _, sl := range b.Slaves {
			add(name, m.diskOf(sl))
		}
		for _, h := range b.Holders {
			add(h, name)
		}
	}
	for _, l := range s.lowers {
		sort.Strings(l)
	}
	if m.BlockTrace != nil {
		seen := map[procfs.Dev]bool{}
		for i := range m.BlockTrace.Requests {
			if d := m.BlockTrace.Requests[i].Dev; !seen[d] {
				seen[d] = true
				s.own[m.DeviceName(d)] = true
			}
		}
	}
	return s
}

// passThrough reports a stacked device whose requests are not its own:
// one with lower devices, no backing file, and no request in the trace
// (a bio-based dm device, an md array).
func (s *stacks) passThrough(m *Model, name string) bool {
	b := m.Blocks[name]
	return len(s.lowers[name]) > 0 && (b == nil || b.BackingFile == "") && !s.own[name]
}

// surfaces are the devices on which a device's requests show in the
// trace: itself, or for a pass-through device those of its lowers, down
// through any pass-through device under it (dm-crypt on md on disks).
func (s *stacks) surfaces(m *Model, name string) []string {
	var out []string
	var walk func(string, int)
	walk = func(d string, depth int) {
		if depth > 8 { // a loop in the listings would be a broken capture
			return
		}
		if !s.passThrough(m, d) {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
			return
		}
		for _, l := range s.lowers[d] {
			walk(l, depth+1)
		}
	}
	walk(name, 0)
	sort.Strings(out)
	return out
}

// uppers maps each device on which requests show to the stacked devices
// whose requests reach it.
func (s *stacks) uppers(m *Model) map[string][]string {
	out := map[string][]string{}
	for upper, ls := range s.lowers {
		for _, l := range ls {
			for _, surf := range s.surfaces(m, l) {
				if surf != upper && !slices.Contains(out[surf], upper) {
					out[surf] = append(out[surf], upper)
				}
			}
		}
	}
	for _, u := range out {
		sort.Strings(u)
	}
	return out
}

// throughBDIs maps each device to the bdis of the pass-through devices
// whose requests show on it: the flushers' requests on it may be the
// writeback of pages dirtied there.
func (s *stacks) throughBDIs(m *Model) map[procfs.Dev][]procfs.Dev {
	out := map[procfs.Dev][]procfs.Dev{}
	for upper := range s.lowers {
		ub := m.Blocks[upper]
		if ub == nil || !s.passThrough(m, upper) {
			continue
		}
		for _, surf := range s.surfaces(m, upper) {
			if b := m.Blocks[surf]; b != nil {
				out[b.Dev] = append(out[b.Dev], ub.Dev)
			}
		}
	}
	return out
}

// sender is a task an upper device served bytes for.
type sender struct {
	task   Task
	kernel bool
	bytes  float64
	dev    string
}

// sendersOf are the tasks an upper device served, with its bytes for
// each: what the charger found on its own requests, or for a
// pass-through device on the devices its requests landed on — less the
// stacked kernel shares there, the time being moved.
func (s *stacks) sendersOf(m *Model, up string, shares map[string]map[Task]*Share) []sender {
	on := []string{up}
	if s.passThrough(m, up) {
		on = s.surfaces(m, up)
	}
	var out []sender
	for _, d := range on {
		for _, sh := range shares[d] {
			if stackedKernel(sh) {
				continue
			}
			bytes := sh.CausedBytes
			if sh.Kernel {
				bytes = float64(sh.Bytes)
			}
			if bytes > 0 {
				out = append(out, sender{sh.Task, sh.Kernel, bytes, up})
			}
		}
	}
	return out
}

// throughStacks moves the kernel time on each lower device to the shares
// of the tasks that sent the devices above it their requests, by the
// bytes each upper device served in the window and, within it, by the
// bytes it served for each. A kernel thread's requests above (ext4lazyinit
// zeroing inode tables, the flushers with no dirtier known) keep their
// part as that thread's, kernel work again on the lower device: never a
// user's, never a culprit.
func (m *Model) throughStacks(out map[string]*DeviceTime, share func(*DeviceTime, Task, bool) *Share, shares map[string]map[Task]*Share) {
	st := m.stacks()
	for lower, ups := range st.uppers(m) {
		dt := out[lower]
		if dt == nil {
			continue
		}
		var kernelNS float64
		var moved []*Share
		for _, s := range shares[lower] {
			if stackedKernel(s) && s.NS() > 0 {
				kernelNS += s.NS()
				moved = append(moved, s)
			}
		}
		var senders []sender
		var total float64
		for _, up := range ups {
			for _, sd := range st.sendersOf(m, up, shares) {
				senders = append(senders, sd)
				total += sd.bytes
			}
		}
		if kernelNS <= 0 || total <= 0 {
			continue
		}
		sort.Slice(senders, func(i, j int) bool {
			a, b := senders[i], senders[j]
			if a.task.PID != b.task.PID {
				return a.task.PID < b.task.PID
			}
			if a.task.Comm != b.task.Comm {
				return a.task.Comm < b.task.Comm
			}
			return a.dev < b.dev
		})
		for _, s := range moved {
			s.DirectNS, s.WritebackNS, s.JournalNS, s.FlushNS = 0, 0, 0, 0
		}
		for _, sd := range senders {
			frac := sd.bytes / total
			sh := share(dt, sd.task, sd.kernel)
			sh.StackedNS += kernelNS * frac
			if !slices.Contains(sh.Through, sd.dev) {
				sh.Through = append(sh.Through, sd.dev)
			}
		}
	}
}

// Lowers are the devices a stacked device's requests go to (a loop
// device's: the disk holding its backing file; a dm or md device's: its
// slaves), nil for a device that stacks on nothing. Each call reads the
// stacking again: it is asked for a device or two per report.
func (m *Model) Lowers(name string) []string {
	return m.stacks().lowers[name]
}
