package procfs

import (
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// /proc/swaps as prometheus/procfs ships it (fixtures/procfs, see
// ../shared/fixtures/README.md): one partition on a device-mapper volume.
func TestParseSwapsFixture(t *testing.T) {
	got := ParseSwaps(fixture.Read(t, "procfs/testdata/fixtures/proc/swaps"))
	want := Swap{Filename: "/dev/dm-2", Type: "partition", SizeKB: 131068, UsedKB: 176, Priority: -2}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v, want [%+v]", got, want)
	}
}

// A swap file whose name holds a space, as the kernel escapes it, and a
// malformed line between good ones.
func TestParseSwapsEscapesAndBadLines(t *testing.T) {
	got := ParseSwaps([]byte("Filename\tType\tSize\tUsed\tPriority\n/var/swap\\040file file 1024 0 -2\ngarbage line\n/dev/loop3 partition 65532 12 5\n"))
	if len(got) != 2 || got[0].Filename != "/var/swap file" || got[1].Filename != "/dev/loop3" || got[1].UsedKB != 12 || got[1].Priority != 5 {
		t.Fatalf("got %+v", got)
	}
}
