package model

import (
	"slices"
	"sort"

	"github.com/iorca/iorca/internal/procfs"
)

// Time through a stack belongs to whoever sent the requests above it
// (REFERENCE-IO.md §14). A loop device's requests reach the device under
// its backing file as the loop worker's own IO, or as pages of the backing
// file that the flushers write back — kernel threads, on behalf of the
// processes whose requests reached the loop device. The time those kernel
// threads hold on the lower device (and the journal commits of the
// filesystem that holds the backing file) is charged to the processes that
// sent the loop device its requests over the same window, in proportion to
// the bytes it served for each.

// stackedKernel reports a kernel share the stack above a device explains:
// the flushers, the loop workers, the journal of the lower filesystem.
func stackedKernel(s *Share) bool {
	c := s.Task.Comm
	return s.Kernel && (c == "kworker" || len(c) >= 4 && c[:4] == "loop" || len(c) >= 5 && c[:5] == "jbd2/")
}

// uppers maps each device to the loop devices whose backing file it holds.
func (m *Model) uppers() map[string][]string {
	out := map[string][]string{}
	for name, b := range m.Blocks {
		if b.BackingFile == "" {
			continue
		}
		mt, ok := MountFor(m.Mounts, b.BackingFile)
		if !ok {
			continue
		}
		lower := m.DiskName(procfs.Dev{Major: mt.Major, Minor: mt.Minor})
		if lower != "" && lower != name {
			out[lower] = append(out[lower], name)
		}
	}
	for _, u := range out {
		sort.Strings(u)
	}
	return out
}

// throughStacks moves the kernel time on each lower device to the shares
// of the loop devices above it, by the bytes each loop device served in
// the window and, within it, by the bytes it served for each. A kernel
// thread's requests above (ext4lazyinit zeroing inode tables, the
// flushers with no dirtier known) keep their part as that thread's,
// kernel work again on the lower device: never a user's, never a culprit.
func (m *Model) throughStacks(out map[string]*DeviceTime, share func(*DeviceTime, Task, bool) *Share, shares map[string]map[Task]*Share) {
	for lower, ups := range m.uppers() {
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
		// What each loop device above served, in bytes, for whom.
		type sender struct {
			task   Task
			kernel bool
			bytes  float64
			dev    string
		}
		var senders []sender
		var total float64
		for _, up := range ups {
			for _, s := range shares[up] {
				bytes := s.CausedBytes
				if s.Kernel {
					bytes = float64(s.Bytes)
				}
				if bytes > 0 {
					senders = append(senders, sender{s.Task, s.Kernel, bytes, up})
					total += bytes
				}
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
