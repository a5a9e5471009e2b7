package rules

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/procfs"
)

// Hand-made records: a "lost sync page write" returned EIO to its caller,
// a "lost async page write" was dropped without telling the writer; the
// two are worded apart.
func TestLostWritesWordedApart(t *testing.T) {
	ev := func(text string) model.KernelEvent {
		return model.KernelEvent{Kind: model.LostWrite, Record: procfs.KmsgRecord{Text: text}}
	}
	got := lostWrites([]model.KernelEvent{
		ev("Buffer I/O error on dev sdb1, logical block 1, lost sync page write"),
		ev("Buffer I/O error on dev sdb1, logical block 7, lost async page write"),
		ev("Buffer I/O error on dev sdb1, logical block 8, lost async page write"),
		{Kind: model.IOError, Record: procfs.KmsgRecord{Text: "I/O error, dev sdb, sector 2 op 0x1:(WRITE)"}},
	})
	for _, want := range []string{"1 of them lost sync page writes (a buffer the kernel wrote and waited for, such as the superblock or other filesystem metadata, failed)", "2 of them lost async page writes (writeback failed: the kernel dropped the data without telling the writer"} {
		if !strings.Contains(got, want) {
			t.Errorf("lostWrites = %q, lacks %q", got, want)
		}
	}
	if lostWrites(nil) != "" {
		t.Error("no lost writes, yet words")
	}
}

// TestFailingDiskNamesWhatWasSeen: on failing-disk the remedy names the
// service that writes to the failing device, and the sync-writes title
// says what the trace saw (its calls from when it began), not that every
// call the service made failed.
func TestFailingDiskNamesWhatWasSeen(t *testing.T) {
	f := first(t, firesOn(t, kernelIOErrors, []string{"failing-disk"}), "failing-disk")
	if how := f.Mitigations[0].How; !strings.Contains(how, "order-service (PID ") {
		t.Errorf("the fail-over names no service: %s", how)
	}
	sw := first(t, firesOn(t, syncWrites, []string{"failing-disk"}), "failing-disk")
	if !strings.Contains(sw.Title, "all 40 traced writes from +") || strings.Contains(sw.Title, "every one") {
		t.Errorf("sync-writes title %q", sw.Title)
	}
}
