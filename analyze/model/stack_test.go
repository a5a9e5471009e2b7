package model

import (
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// Worked by hand: loop1 is backed by a file on loop0's filesystem. On
// loop1, PID 20 had 3 MiB served and PID 30 1 MiB; on loop0 a kworker held
// 8 ms and jbd2 2 ms, PID 40 (a process of loop0's own) 5 ms. The 10 ms of
// kernel time go through loop1, 7.5 ms to PID 20 and 2.5 to PID 30; PID
// 40's own time stays its own.
func TestThroughStacks(t *testing.T) {
	m := &Model{
		Blocks: map[string]*Block{
			"loop0": {Name: "loop0", Dev: procfs.Dev{Major: 7, Minor: 0}},
			"loop1": {Name: "loop1", Dev: procfs.Dev{Major: 7, Minor: 1}, BackingFile: "/srv/lower/backing.img"},
		},
		Mounts: []procfs.Mount{{MountPoint: "/srv/lower", Major: 7, Minor: 0, FSType: "ext4"}},
	}
	lower, upper := &DeviceTime{Device: "loop0", BusyNS: 15e6}, &DeviceTime{Device: "loop1", BusyNS: 4e6}
	out := map[string]*DeviceTime{"loop0": lower, "loop1": upper}
	shares := map[string]map[Task]*Share{
		"loop0": {
			{Comm: "kworker"}:      {Task: Task{Comm: "kworker"}, Kernel: true, DirectNS: 8e6},
			{Comm: "jbd2/loop0-8"}: {Task: Task{Comm: "jbd2/loop0-8"}, Kernel: true, DirectNS: 2e6},
			{PID: 40}:              {Task: Task{PID: 40}, DirectNS: 5e6},
		},
		"loop1": {
			{PID: 20}: {Task: Task{PID: 20}, DirectNS: 3e6, CausedBytes: 3 << 20},
			{PID: 30}: {Task: Task{PID: 30}, DirectNS: 1e6, CausedBytes: 1 << 20},
			// A kernel thread's own requests above (a new filesystem's
			// inode tables zeroed): its part stays kernel work below.
			{Comm: "ext4lazyinit"}: {Task: Task{PID: 77, Comm: "ext4lazyinit"}, Kernel: true, DirectNS: 2e6, Bytes: 4 << 20},
		},
	}
	share := func(dt *DeviceTime, tk Task, kernel bool) *Share {
		key := Task{PID: tk.PID}
		if kernel {
			key = tk
		}
		s := shares[dt.Device][key]
		if s == nil {
			s = &Share{Task: tk, Kernel: kernel}
			shares[dt.Device][key] = s
		}
		return s
	}
	m.throughStacks(out, share, shares)
	if k := shares["loop0"][Task{PID: 77, Comm: "ext4lazyinit"}]; k == nil || !k.Kernel || k.StackedNS != 5e6 {
		t.Errorf("ext4lazyinit on loop0: %+v, want 5 ms of kernel work through loop1", k)
	}
	for pid, want := range map[int]float64{20: 3.75e6, 30: 1.25e6} {
		s := shares["loop0"][Task{PID: pid}]
		if s == nil || s.StackedNS != want || len(s.Through) != 1 || s.Through[0] != "loop1" {
			t.Errorf("PID %d on loop0: %+v, want %.1f ms through loop1", pid, s, want/1e6)
		}
	}
	if s := shares["loop0"][Task{PID: 40}]; s.NS() != 5e6 || s.StackedNS != 0 {
		t.Errorf("PID 40's own time changed: %+v", s)
	}
	if k := shares["loop0"][Task{Comm: "kworker"}]; k.NS() != 0 {
		t.Errorf("the kworker keeps %.0f ns", k.NS())
	}
}
