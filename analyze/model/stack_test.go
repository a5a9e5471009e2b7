package model

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
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

// handTrace writes a block trace by hand: requests one after another on
// their devices (none overlaps another, so each holds its whole service
// time), with the dirtying and writeback events given.
type handTrace struct {
	lines []string
	at    float64
}

func (h *handTrace) event(comm string, pid int, format string, args ...any) {
	h.at += 0.0001
	h.lines = append(h.lines, fmt.Sprintf("  %s-%d (%d) [000] ..... %.6f: ", comm, pid, pid, h.at)+fmt.Sprintf(format, args...))
}

// request is one request of sectors on dev ("8,0") held ms milliseconds.
func (h *handTrace) request(comm string, pid int, dev, rwbs string, sectors, ms int) {
	sector := len(h.lines) * 100000
	h.event(comm, pid, "block_rq_issue: %s %s %d () %d + %d be,0,4 [%s]", dev, rwbs, sectors*512, sector, sectors, comm)
	h.at += float64(ms)/1000 - 0.0001 // event adds its step back
	h.event("<idle>", 0, "block_rq_complete: %s %s () %d + %d be,0,4 [0]", dev, rwbs, sector, sectors)
}

func (h *handTrace) model(blocks ...*Block) *Model {
	m := &Model{Blocks: map[string]*Block{}}
	for _, b := range blocks {
		m.Blocks[b.Name] = b
	}
	m.BlockTrace = ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(strings.Join(h.lines, "\n")+"\n"))
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-3*math.Max(1, math.Abs(b)) }

// Hand-made case, a dm-crypt device on a disk's partition (this kernel
// has no device-mapper: no live test can run here). dm-0 is bio-based:
// the trace has no request of its own, only sda's. PID 20 dirtied 768
// pages of inode 12 on dm-0's bdi (253:0); on sda, dmcrypt_write writes 3
// MiB (10 ms) and a flusher 1 MiB (10 ms) — writeback of dm-0's pages,
// writeback_single_inode on 253:0 says of which —; PID 30's own
// synchronous write (10 ms, in its context) and the journal of dm-0's
// filesystem, jbd2/dm-0-8 (10 ms), follow. The 20 ms of writeback are PID
// 20's, the journal PID 30's, no kernel thread keeps any. Without the
// stack facts nothing ties the writeback on sda to dm-0's dirtier: the
// kernel keeps it.
func TestBioBasedDMWriteback(t *testing.T) {
	var h handTrace
	for i := range 768 {
		h.event("dd", 20, "writeback_dirty_folio: bdi 253:0: ino=12 index=%d", i)
	}
	h.request("dmcrypt_write/2", 300, "8,0", "W", 6144, 10)
	h.request("kworker/u8:2", 90, "8,0", "W", 2048, 10)
	h.event("kworker/u8:2", 90, "writeback_single_inode: bdi 253:0: ino=12 state=I_DIRTY_PAGES dirtied_when=1 age=3 index=0 to_write=1024 wrote=768 cgroup_ino=1")
	h.request("db", 30, "8,0", "WS", 2048, 10)
	h.request("jbd2/dm-0-8", 400, "8,0", "WS", 8, 10)
	dm := &Block{Name: "dm-0", Dev: procfs.Dev{Major: 253}, Slaves: []string{"sda2"}, DMName: "luks-home"}

	m := h.model(&Block{Name: "sda", Dev: procfs.Dev{Major: 8}, Holders: []string{"dm-0"}}, dm)
	dts := m.DeviceTimes()
	dt := dts["sda"]
	if dt == nil || !near(dt.BusyNS, 40e6) || len(dts) != 1 {
		t.Fatalf("device times %v, want sda's 40 ms alone", dts)
	}
	if s := dt.Find(20); s == nil || !near(s.WritebackNS, 20e6) || !near(s.NS(), 20e6) {
		t.Errorf("PID 20 on sda: %+v, want 20 ms of writeback", s)
	}
	if s := dt.Find(30); s == nil || !near(s.DirectNS, 10e6) || !near(s.JournalNS, 10e6) {
		t.Errorf("PID 30 on sda: %+v, want 10 ms its own and 10 of journal", s)
	}
	if k := kernelNS(dt); k != 0 {
		t.Errorf("kernel threads keep %.1f ms", k/1e6)
	}
	plain := h.model(&Block{Name: "sda", Dev: procfs.Dev{Major: 8}})
	if k := kernelNS(plain.DeviceTimes()["sda"]); !near(k, 20e6) {
		t.Errorf("without the stack the kernel holds %.1f ms, want 20", k/1e6)
	}
}

// Hand-made case, the same dm-crypt device with no dirtier in the trace:
// PID 30 read 1 MiB and PID 31 3 MiB through dm-0 (reads are submitted in
// the reader's context, 10 ms each), and dmcrypt_write wrote 2 MiB (20
// ms) no traced dirtier explains. Its time goes through dm-0 to the
// readers by the bytes dm-0 served them: 5 ms and 15 ms.
func TestBioBasedDMStack(t *testing.T) {
	var h handTrace
	h.request("db", 30, "8,0", "R", 2048, 10)
	h.request("scan", 31, "8,0", "R", 6144, 10)
	h.request("dmcrypt_write/2", 300, "8,0", "W", 4096, 20)
	m := h.model(&Block{Name: "sda", Dev: procfs.Dev{Major: 8}, Holders: []string{"dm-0"}},
		&Block{Name: "dm-0", Dev: procfs.Dev{Major: 253}, Slaves: []string{"sda2"}, DMName: "luks-home"})
	dt := m.DeviceTimes()["sda"]
	for pid, stacked := range map[int]float64{30: 5e6, 31: 15e6} {
		if s := dt.Find(pid); s == nil || !near(s.DirectNS, 10e6) || !near(s.StackedNS, stacked) || len(s.Through) != 1 || s.Through[0] != "dm-0" {
			t.Errorf("PID %d on sda: %+v, want its 10 ms and %.0f ms through dm-0", pid, s, stacked/1e6)
		}
	}
	if k := kernelNS(dt); k != 0 {
		t.Errorf("kernel threads keep %.1f ms", k/1e6)
	}
}

func kernelNS(dt *DeviceTime) float64 {
	var ns float64
	for _, s := range dt.Shares {
		if s.Kernel {
			ns += s.NS()
		}
	}
	return ns
}

// Hand-made case, an md RAID1 of two partitions (no md on this kernel:
// no live test). RAID1 writes every request to each member: PID 20 wrote
// 3 MiB and PID 30 1 MiB to md0, and both members show those requests in
// the writers' context (10 ms each on each). md0_raid1 wrote 1 MiB (9 ms)
// on each member, md0_resync read 1 MiB (4 ms) on sdb. md0 sent its
// members 9 MiB in all, 6 for PID 20, 2 for PID 30 and 1 for the resync:
// each member's md0_raid1 time goes through md0 to them in that
// proportion (6, 2 and 1 ms). The resync is the kernel's upkeep: its own
// time, and its part, stay kernel work.
func TestMDRaid1Stack(t *testing.T) {
	var h handTrace
	for _, dev := range []string{"8,0", "8,16"} {
		h.request("loader", 20, dev, "W", 6144, 10)
		h.request("logger", 30, dev, "W", 2048, 10)
		h.request("md0_raid1", 500, dev, "W", 2048, 9)
	}
	h.request("md0_resync", 501, "8,16", "R", 2048, 4)
	m := h.model(
		&Block{Name: "sda", Dev: procfs.Dev{Major: 8}, Holders: []string{"md0"}},
		&Block{Name: "sdb", Dev: procfs.Dev{Major: 8, Minor: 16}, Holders: []string{"md0"}},
		&Block{Name: "md0", Dev: procfs.Dev{Major: 9}, Slaves: []string{"sda1", "sdb1"}, MDLevel: "raid1"})
	dts := m.DeviceTimes()
	if len(dts) != 2 {
		t.Fatalf("%d devices, want the two members", len(dts))
	}
	for _, name := range []string{"sda", "sdb"} {
		dt := dts[name]
		for pid, stacked := range map[int]float64{20: 6e6, 30: 2e6} {
			if s := dt.Find(pid); s == nil || !near(s.DirectNS, 10e6) || !near(s.StackedNS, stacked) || len(s.Through) != 1 || s.Through[0] != "md0" {
				t.Errorf("PID %d on %s: %+v, want its 10 ms and %.0f ms through md0", pid, name, s, stacked/1e6)
			}
		}
		resync := 1e6
		if name == "sdb" {
			resync += 4e6
		}
		for _, s := range dt.Shares {
			want := 0.0
			if s.Task.Comm == "md0_resync" {
				want = resync
			}
			if s.Kernel && !near(s.NS(), want) {
				t.Errorf("%s on %s holds %.1f ms, want %.0f", s.Task.Comm, name, s.NS()/1e6, want/1e6)
			}
		}
	}
}

// Hand-made case, ext4 on dm-crypt on md RAID1 (two layers of
// pass-through devices): the flushers' requests on each member are the
// writeback of pages dirtied on dm-0's bdi, and the journal of dm-0's
// filesystem lands on the members — dm-0's requests surface through md0.
func TestCryptOnMDStack(t *testing.T) {
	var h handTrace
	for i := range 256 {
		h.event("dd", 20, "writeback_dirty_folio: bdi 253:0: ino=12 index=%d", i)
	}
	for _, dev := range []string{"8,0", "8,16"} {
		h.request("kworker/u8:2", 90, dev, "W", 2048, 10)
	}
	m := h.model(
		&Block{Name: "sda", Dev: procfs.Dev{Major: 8}, Holders: []string{"md0"}},
		&Block{Name: "sdb", Dev: procfs.Dev{Major: 8, Minor: 16}, Holders: []string{"md0"}},
		&Block{Name: "md0", Dev: procfs.Dev{Major: 9}, Slaves: []string{"sda1", "sdb1"}, Holders: []string{"dm-0"}, MDLevel: "raid1"},
		&Block{Name: "dm-0", Dev: procfs.Dev{Major: 253}, Slaves: []string{"md0"}, DMName: "crypt"})
	for _, name := range []string{"sda", "sdb"} {
		dt := m.DeviceTimes()[name]
		if s := dt.Find(20); s == nil || !near(s.WritebackNS, 10e6) {
			t.Errorf("PID 20 on %s: %+v, want the flushers' 10 ms as its writeback", name, s)
		}
	}
}
