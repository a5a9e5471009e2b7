package model

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// The note names every other tracer and says what it means; a trace
// without any (every bundle before the field existed) has none.
func TestOtherTracersNote(t *testing.T) {
	if n := (&BlockTrace{}).OtherTracersNote(); n != "" {
		t.Errorf("no other tracer: note %q", n)
	}
	bt := &BlockTrace{Info: bundle.BlockTraceInfo{OtherTracers: []bundle.OtherTracer{
		{PID: 812, Comm: "bpftrace", BPFProgs: 3, BPFLinks: 1},
		{Instance: "/", Events: []string{"block/block_rq_issue"}},
	}}}
	n := bt.OtherTracersNote()
	for _, want := range []string{"PID 812 bpftrace (3 BPF programs, 1 BPF link)", "the top-level tracefs instance (block/block_rq_issue)", "may read high by tens of µs"} {
		if !strings.Contains(n, want) {
			t.Errorf("note %q lacks %q", n, want)
		}
	}
}

// Journal commits go to the synchronous writers that dirtied pages (or
// carry a flush): an O_DIRECT writer's synchronous requests force none
// beside an O_DSYNC appender. With no such writer (O_DIRECT writers only,
// their allocations committed), all stay.
func TestCommitters(t *testing.T) {
	lines := func(withAppender bool) string {
		l := []string{
			"  direct-1 (1) [000] ..... 100.001000: block_rq_issue: 7,0 WS 65536 () 4096 + 128 be,0,4 [direct]",
			"  <idle>-0 (0) [000] ..... 100.002000: block_rq_complete: 7,0 WS () 4096 + 128 be,0,4 [0]",
		}
		if withAppender {
			l = append(l,
				"  dsync-2 (2) [000] d..1. 100.002100: writeback_dirty_folio: bdi 7:0: ino=13 index=0",
				"  dsync-2 (2) [000] ..... 100.002200: block_rq_issue: 7,0 WS 4096 () 9000 + 8 be,0,4 [dsync]",
				"  <idle>-0 (0) [000] ..... 100.002500: block_rq_complete: 7,0 WS () 9000 + 8 be,0,4 [0]")
		}
		l = append(l,
			"  jbd2/loop0-8-90 (90) [000] ..... 100.003000: block_rq_issue: 7,0 WS 8192 () 16 + 16 be,0,4 [jbd2/loop0-8]",
			"  <idle>-0 (0) [000] ..... 100.004000: block_rq_complete: 7,0 WS () 16 + 16 be,0,4 [0]")
		return strings.Join(l, "\n") + "\n"
	}
	for _, tc := range []struct {
		name         string
		withAppender bool
		directJrnl   bool
	}{{"beside an O_DSYNC appender", true, false}, {"O_DIRECT writers only", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			m := &Model{BlockTrace: ParseBlockTrace(bundle.BlockTraceInfo{}, []byte(lines(tc.withAppender)))}
			for _, dt := range m.DeviceTimes() {
				d := dt.Find(1)
				if d == nil || (d.JournalNS > 0) != tc.directJrnl {
					t.Errorf("the O_DIRECT writer's share %+v: journal time %v, want %v", d, d != nil && d.JournalNS > 0, tc.directJrnl)
				}
			}
		})
	}
}
