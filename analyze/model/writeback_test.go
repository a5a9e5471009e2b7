package model

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// Writeback is charged by what the flushers wrote: export (PID 20)
// dirtied 10 pages of inode 12, the appender (PID 30) 100 pages of inode
// 13 — which its O_DSYNC writes cleaned at once; the flusher wrote 8
// pages of inode 12 only. Its request is export's alone. Without the
// flusher's writeback_single_inode, the pages dirtied weigh it (10:100).
func TestWritebackByWhatFlushersWrote(t *testing.T) {
	var lines []string
	at := 100.0
	add := func(format string, args ...any) {
		at += 0.001
		lines = append(lines, fmt.Sprintf("  task-1 (1) [000] ..... %.6f: ", at)+fmt.Sprintf(format, args...))
	}
	for i := 0; i < 10; i++ {
		lines = append(lines, fmt.Sprintf("  export-20 (20) [000] d..1. %.6f: writeback_dirty_folio: bdi 7:0: ino=12 index=%d", at, i))
	}
	for i := 0; i < 100; i++ {
		lines = append(lines, fmt.Sprintf("  appender-30 (30) [000] d..1. %.6f: writeback_dirty_folio: bdi 7:0: ino=13 index=%d", at, i))
	}
	add("block_rq_issue: 7,0 W 32768 () 4096 + 64 be,0,4 [kworker/u8:2]")
	lines[len(lines)-1] = strings.Replace(lines[len(lines)-1], "task-1 (1)", "kworker/u8:2-90 (90)", 1)
	add("block_rq_complete: 7,0 W () 4096 + 64 be,0,4 [0]")
	withInode := append(append([]string{}, lines...), "  kworker/u8:2-90 (90) [000] ..... 100.010000: writeback_single_inode: bdi 7:0: ino=12 state=I_DIRTY_PAGES dirtied_when=1 age=3 index=0 to_write=1024 wrote=8 cgroup_ino=1")
	for _, tc := range []struct {
		name         string
		lines        []string
		exportShare  float64
		appenderPart float64
	}{
		{"with writeback_single_inode", withInode, 1, 0},
		{"pages dirtied only", lines, 10.0 / 110, 100.0 / 110},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bt := ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(strings.Join(tc.lines, "\n")+"\n"))
			m := &Model{BlockTrace: bt}
			dts := m.DeviceTimes()
			if len(dts) != 1 || len(bt.Requests) != 1 {
				t.Fatalf("%d devices, %d requests (malformed %d)", len(dts), len(bt.Requests), bt.Malformed)
			}
			for _, dt := range dts {
				var export, appender float64
				if s := dt.Find(20); s != nil {
					export = s.WritebackNS / dt.BusyNS
				}
				if s := dt.Find(30); s != nil {
					appender = s.WritebackNS / dt.BusyNS
				}
				if d := export - tc.exportShare; d > 1e-9 || d < -1e-9 {
					t.Errorf("export holds %.3f of the writeback, want %.3f", export, tc.exportShare)
				}
				if d := appender - tc.appenderPart; d > 1e-9 || d < -1e-9 {
					t.Errorf("the appender holds %.3f of the writeback, want %.3f", appender, tc.appenderPart)
				}
			}
		})
	}
}

// A kernel thread that ftrace.KernelTask does not know by name is kernel
// work all the same when the process table says so: ext4lazyinit zeroing
// a new filesystem's inode tables holds the device but is no user's
// share (a live CI run once named it the culprit). A user process that
// happens to carry the name (not a kernel thread in the table) is one.
func TestKernelThreadByProcessTable(t *testing.T) {
	text := strings.Join([]string{
		"  ext4lazyinit-77 (77) [000] ..... 100.001000: block_rq_issue: 7,0 WS 4194304 () 8192 + 8192 be,0,4 [ext4lazyinit]",
		"  <idle>-0 (0) [000] ..... 100.020000: block_rq_complete: 7,0 WS () 8192 + 8192 be,0,4 [0]",
	}, "\n") + "\n"
	for _, tc := range []struct {
		name   string
		kernel bool
	}{{"kernel thread", true}, {"user process of that name", false}} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Model{BlockTrace: ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(text)),
				Procs: []*Process{{PID: 77, Comm: "ext4lazyinit", Kernel: tc.kernel}}}
			for _, dt := range m.DeviceTimes() {
				if len(dt.Shares) != 1 || dt.Shares[0].Kernel != tc.kernel {
					t.Fatalf("shares %+v, want one with Kernel=%v", dt.Shares, tc.kernel)
				}
				if (dt.Find(77) != nil) == tc.kernel {
					t.Errorf("Find(77) = %+v with Kernel=%v", dt.Find(77), tc.kernel)
				}
			}
			if len(m.DeviceTimes()) != 1 {
				t.Fatalf("%d devices, want 1", len(m.DeviceTimes()))
			}
		})
	}
}

// A cache flush is charged to the data it forces out: bulk (PID 20)
// wrote 3 MiB with O_DIRECT and beat (PID 30) 1 MiB of pages it dirtied
// since the previous flush; beat's commit flush is then bulk's for three
// quarters — bulk's plain O_DIRECT writes force no commit, so the
// journal block is beat's alone. A flush with nothing written before it
// keeps the journal's charge.
func TestFlushChargedToTheDataItWritesOut(t *testing.T) {
	lines := []string{
		"  beat-30 (30) [000] d..1. 100.000000: writeback_dirty_folio: bdi 7:0: ino=13 index=0",
		"  jbd2/loop0-8-90 (90) [000] ..... 100.000500: block_rq_issue: 7,0 FWFS 4096 () 16 + 8 be,0,4 [jbd2/loop0-8]",
		"  <idle>-0 (0) [000] ..... 100.000900: block_rq_complete: 7,0 FWFS () 16 + 8 be,0,4 [0]",
		"  bulk-20 (20) [000] ..... 100.001000: block_rq_issue: 7,0 WS 3145728 () 4096 + 6144 be,0,4 [bulk]",
		"  beat-30 (30) [000] ..... 100.002000: block_rq_issue: 7,0 WS 1048576 () 20480 + 2048 be,0,4 [beat]",
		"  <idle>-0 (0) [000] ..... 100.003000: block_rq_complete: 7,0 WS () 4096 + 6144 be,0,4 [0]",
		"  <idle>-0 (0) [000] ..... 100.004000: block_rq_complete: 7,0 WS () 20480 + 2048 be,0,4 [0]",
		"  jbd2/loop0-8-90 (90) [000] ..... 100.005000: block_rq_issue: 7,0 FWFS 4096 () 32 + 8 be,0,4 [jbd2/loop0-8]",
		"  <idle>-0 (0) [000] ..... 100.045000: block_rq_complete: 7,0 FWFS () 32 + 8 be,0,4 [0]",
	}
	m := &Model{BlockTrace: ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(strings.Join(lines, "\n")+"\n"))}
	dts := m.DeviceTimes()
	if len(dts) != 1 || len(m.BlockTrace.Requests) != 4 {
		t.Fatalf("%d devices, %d requests", len(dts), len(m.BlockTrace.Requests))
	}
	for _, dt := range dts {
		bulk, beat := dt.Find(20), dt.Find(30)
		if bulk == nil || beat == nil {
			t.Fatalf("shares %+v", dt.Shares)
		}
		if d := bulk.FlushNS - 0.75*40e6; d > 1 || d < -1 {
			t.Errorf("bulk's part of the flush %.0f ns, want 30 ms", bulk.FlushNS)
		}
		if d := beat.FlushNS - 0.25*40e6; d > 1 || d < -1 {
			t.Errorf("beat's part of the flush %.0f ns, want 10 ms", beat.FlushNS)
		}
		if bulk.JournalNS != 0 || beat.JournalNS != 0.4e6 {
			t.Errorf("journal: bulk %.0f ns, beat %.0f ns; want 0 and the first commit's 0.4 ms", bulk.JournalNS, beat.JournalNS)
		}
	}
}

// Hand-made case: the flushers wrote 256 pages of inode 12 on 7:1 and no
// traced write dirtied them (they were dirtied before the trace). PID 20
// held the file open for writing when the trace ended: the writeback is
// its, and says so (OpenedNS). PID 21 holds inode 12 of another
// filesystem (7:2) open: inode numbers repeat across filesystems, it gets
// nothing. Without the open writers (an older bundle) the kernel keeps it.
func TestWritebackOfFilesHeldOpen(t *testing.T) {
	var h handTrace
	h.request("kworker/u8:2", 90, "7,1", "W", 2048, 10)
	h.event("kworker/u8:2", 90, "writeback_single_inode: bdi 7:1: ino=12 state=I_DIRTY_PAGES dirtied_when=1 age=31 index=0 to_write=1024 wrote=256 cgroup_ino=1")
	blocks := []*Block{{Name: "loop1", Dev: procfs.Dev{Major: 7, Minor: 1}}, {Name: "loop2", Dev: procfs.Dev{Major: 7, Minor: 2}}}
	m := h.model(blocks...)
	m.OpenWriters = []bundle.OpenWriter{
		{PID: 20, Comm: "quiet-writer", FD: 3, Flags: "102001", Ino: 12, Dev: "7:1"},
		{PID: 20, Comm: "quiet-writer", FD: 4, Flags: "100002", Ino: 12, Dev: "7:1"},
		{PID: 21, Comm: "other", FD: 3, Flags: "100001", Ino: 12, Dev: "7:2"},
	}
	dt := m.DeviceTimes()["loop1"]
	if s := dt.Find(20); s == nil || !near(s.WritebackNS, 10e6) || !near(s.OpenedNS, 10e6) {
		t.Errorf("PID 20: %+v, want the 10 ms of writeback as a file it held open", s)
	}
	if s := dt.Find(21); s != nil {
		t.Errorf("PID 21, another filesystem's inode 12, holds %+v", s)
	}
	m.OpenWriters = nil
	if k := kernelNS(m.DeviceTimes()["loop1"]); !near(k, 10e6) {
		t.Errorf("without open writers the kernel holds %.1f ms, want 10", k/1e6)
	}
}

// A hand-made trace: a request is charged by what it is, not by which
// thread issued it. db (PID 20) dirties pages and writes them O_DSYNC with
// a flush; jbd2 writes a commit block at sector 65536 (the journal); then
// kblockd (kworker/0:1H) issues, after the flush, a plain WS block at
// sector 65544 — the commit's block re-issued, in the journal's sectors,
// without M or F flags. It is a journal request charged to the sync
// writer, not writeback of pages it dirtied; a kworker's write outside
// the journal stays writeback.
func TestKblockdJournalBlocksAreJournal(t *testing.T) {
	text := strings.Join([]string{
		"  db-20 (20) [000] d..1. 100.000100: writeback_dirty_folio: bdi 7:0: ino=12 index=0",
		"  db-20 (20) [000] ..... 100.001000: block_rq_issue: 7,0 WFS 4096 () 4096 + 8 be,0,4 [db]",
		"  <idle>-0 (0) [000] ..... 100.002000: block_rq_complete: 7,0 WFS () 4096 + 8 be,0,4 [0]",
		"  jbd2/loop0-8-30 (30) [000] ..... 100.003000: block_rq_issue: 7,0 WS 4096 () 65536 + 8 be,0,4 [jbd2/loop0-8]",
		"  <idle>-0 (0) [000] ..... 100.004000: block_rq_complete: 7,0 WS () 65536 + 8 be,0,4 [0]",
		"  kworker/0:1H-40 (40) [000] ..... 100.005000: block_rq_issue: 7,0 WS 4096 () 65544 + 8 be,0,4 [kworker/0:1H]",
		"  <idle>-0 (0) [000] ..... 100.006000: block_rq_complete: 7,0 WS () 65544 + 8 be,0,4 [0]",
		"  kworker/u8:2-90 (90) [000] ..... 100.007000: block_rq_issue: 7,0 W 4096 () 8192 + 8 be,0,4 [kworker/u8:2]",
		"  <idle>-0 (0) [000] ..... 100.008000: block_rq_complete: 7,0 W () 8192 + 8 be,0,4 [0]",
	}, "\n") + "\n"
	bt := ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(text))
	m := &Model{BlockTrace: bt}
	dt := m.DeviceTimes()["7:0"]
	if dt == nil || len(bt.Requests) != 4 {
		t.Fatalf("devices %v, %d requests (malformed %d)", m.DeviceTimes(), len(bt.Requests), bt.Malformed)
	}
	s := dt.Find(20)
	if s == nil {
		t.Fatal("no share for the sync writer")
	}
	ms := func(ns float64) float64 { return ns / 1e6 }
	if ms(s.JournalNS) != 2 || ms(s.WritebackNS) != 1 || ms(s.DirectNS) != 1 {
		t.Errorf("db: journal %.1f ms, writeback %.1f ms, own %.1f ms; want 2 (jbd2's block and kblockd's), 1 (the flusher's, outside the journal), 1", ms(s.JournalNS), ms(s.WritebackNS), ms(s.DirectNS))
	}
}

// A large file still being written back has no writeback_single_inode
// yet: the flushers reported 8 pages of the appender's inode 13 while
// their requests wrote 64 pages. The other 56 are the copier's (PID 20,
// inode 12, dirtied in the trace and never reported), not the appender's.
func TestWritebackOfAnInodeNotYetReported(t *testing.T) {
	lines := []string{"  kworker/u8:2-90 (90) [000] ..... 100.000000: writeback_dirty_folio: bdi 7:0: ino=13 index=0"}
	lines[0] = strings.Replace(lines[0], "kworker/u8:2-90 (90)", "appender-30 (30)", 1)
	for i := 0; i < 64; i++ {
		lines = append(lines, fmt.Sprintf("  copier-20 (20) [000] d..1. 100.000%03d: writeback_dirty_folio: bdi 7:0: ino=12 index=%d", i+1, i))
	}
	lines = append(lines,
		"  kworker/u8:2-90 (90) [000] ..... 100.100000: block_rq_issue: 7,0 W 262144 () 4096 + 512 be,0,4 [kworker/u8:2]",
		"  <idle>-0 (0) [000] ..s1. 100.200000: block_rq_complete: 7,0 W () 4096 + 512 be,0,4 [0]",
		"  kworker/u8:2-90 (90) [000] ..... 100.300000: writeback_single_inode: bdi 7:0: ino=13 state=I_DIRTY_PAGES dirtied_when=1 age=3 index=0 to_write=1024 wrote=8 cgroup_ino=1")
	bt := ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(strings.Join(lines, "\n")+"\n"))
	m := &Model{BlockTrace: bt}
	for _, dt := range m.DeviceTimes() {
		copier, appender := dt.Find(20), dt.Find(30)
		if copier == nil || appender == nil {
			t.Fatalf("copier %+v, appender %+v", copier, appender)
		}
		if c, a := copier.WritebackNS/dt.BusyNS, appender.WritebackNS/dt.BusyNS; c < 0.874 || c > 0.876 || a < 0.124 || a > 0.126 {
			t.Errorf("copier %.3f, appender %.3f of the writeback; want 56/64 and 8/64", c, a)
		}
	}
}
