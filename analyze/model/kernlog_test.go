package model

import (
	"testing"

	"github.com/iorca/iorca/internal/procfs"
)

// Adversarial, hand-made: records of the forms REFERENCE-IO.md 10.1 and
// 13 quote (seen on 6.18), around an attach of the same name. Errors
// before the attach are replaced; those after it are not.
func TestKernelEventsReplacedName(t *testing.T) {
	rec := func(usec uint64, text string) procfs.KmsgRecord {
		return procfs.KmsgRecord{Level: 3, Usec: usec, Text: text}
	}
	m := &Model{Kmsg: []procfs.KmsgRecord{
		rec(1_000_000, "Buffer I/O error on dev loop0, logical block 16385, lost sync page write"),
		rec(1_000_100, "Aborting journal on device loop0-8."),
		rec(1_000_200, "EXT4-fs (loop0): Remounting filesystem read-only"),
		rec(2_000_000, "loop0: detected capacity change from 0 to 131072"),
		rec(3_000_000, "I/O error, dev loop0, sector 18242 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2"),
		rec(3_000_100, "INFO: task app:4242 blocked for more than 120 seconds."),
		{Level: 7, Usec: 3_000_200, Text: "I/O error, dev loop1, sector 1 (debug: ignored)"},
	}}
	evs := kernelEventsAt(m, 2_500_000_000, 4_000_000_000)
	want := []struct {
		kind     KernelEventKind
		dev      string
		replaced bool
	}{{LostWrite, "loop0", true}, {JournalAbort, "loop0", true}, {ReadOnly, "loop0", true}, {Attach, "loop0", false}, {IOError, "loop0", false}, {HungTask, "", false}}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, w := range want {
		e := evs[i]
		_, replaced := Replaced(evs, e)
		if e.Kind != w.kind || e.Device != w.dev || (e.Error() && replaced != w.replaced) {
			t.Errorf("event %d: kind %d dev %q replaced %v, want %+v", i, e.Kind, e.Device, replaced, w)
		}
	}
	if evs[4].Offset <= 0 || !evs[4].During || evs[0].During {
		t.Errorf("clock: %+v", evs)
	}
	if evs[5].Task != "app:4242" {
		t.Errorf("hung task %q", evs[5].Task)
	}
}

// The record mkfs.ext4 leaves when it probes a fresh loop device with
// WRITE_ZEROES (seen on this kernel, 6.18, right after the attach): the
// device refused an operation it does not support; it did not fail, and
// the record is no error of it.
func TestKernelEventsUnsupportedOperation(t *testing.T) {
	m := &Model{Kmsg: []procfs.KmsgRecord{
		{Level: 3, Usec: 1_000_000, Text: "loop0: detected capacity change from 0 to 2097152"},
		{Level: 3, Usec: 1_004_000, Text: "operation not supported error, dev loop0, sector 2097024 op 0x9:(WRITE_ZEROES) flags 0x20000800 phys_seg 0 prio class 2"},
		{Level: 3, Usec: 2_000_000, Text: "I/O error, dev loop0, sector 18242 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2"},
	}}
	evs := kernelEventsAt(m, 0, 0)
	if len(evs) != 3 || evs[1].Kind != Unsupported || evs[1].Error() || evs[1].Device != "loop0" || evs[2].Kind != IOError || !evs[2].Error() {
		t.Fatalf("events %+v", evs)
	}
}
