package report

import (
	"strings"
	"testing"
)

// A command in a mitigation's "how" becomes a code span that pastes as
// it is; one holding a | (which GFM would take for a cell's end, even in
// a code span) goes below the table in a fenced block, and the rendered
// HTML cell shows the command unescaped.
func TestHowCellCommands(t *testing.T) {
	var below []string
	got := howCell("du -xh --max-depth=2 / | sort -h; find deleted files still held open: lsof +L1; rotate runaway_logs", nil, &below)
	want := "command 1 below; find deleted files still held open: `lsof +L1`; rotate runaway\\_logs"
	if got != want {
		t.Errorf("howCell:\n got %s\nwant %s", got, want)
	}
	if len(below) != 1 || below[0] != "du -xh --max-depth=2 / | sort -h" {
		t.Errorf("below: %q", below)
	}
	md := "| How |\n|---|\n| " + howCell(`echo "7:0 0" > /sys/fs/cgroup/x/blkio.throttle.write_bps_device (cgroup v1)`, nil, &below) + " |\n"
	h, err := markdownHTML([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h, "<code>echo &quot;7:0 0&quot; &gt; /sys/fs/cgroup/x/blkio.throttle.write_bps_device</code>") {
		t.Errorf("the command cell does not render as the command:\n%s", h)
	}
}

// A command the rule declares is a code span where the prose holds it,
// whatever its program, and after the prose when the prose does not.
func TestHowCellDeclaredCommands(t *testing.T) {
	var below []string
	got := howCell("copy what must be kept, then truncate -s 0 /var/log/a_b.log (it appends)", []string{"truncate -s 0 /var/log/a_b.log", "xfs_repair /dev/loop0"}, &below)
	want := "copy what must be kept, then `truncate -s 0 /var/log/a_b.log` (it appends); `xfs_repair /dev/loop0`"
	if got != want {
		t.Errorf("howCell:\n got %s\nwant %s", got, want)
	}
}
