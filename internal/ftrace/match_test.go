package ftrace

import "testing"

// Lines captured on this kernel (6.18): a request through the scheduler
// (insert, issue, complete), a cache flush (issued at sector 0, completed
// at sector -1), and a completion whose issue came before the trace.
func TestMatcher(t *testing.T) {
	lines := []string{
		"          strace-7965    (   7965) [001] ...1.  2746.193338: block_rq_insert: 254,0 RA 4096 () 21075168 + 8 be,0,7 [strace]",
		"          strace-7965    (   7965) [001] .....  2746.193341: block_rq_issue: 254,0 RA 4096 () 21075168 + 8 be,0,7 [strace]",
		"    kworker/0:1H-44      (     44) [000] .....  2744.216519: block_rq_issue: 7,0 FF 0 () 0 + 0 none,0,0 [kworker/0:1H]",
		"     ksoftirqd/0-14      (     14) [000] ..s..  2744.216699: block_rq_complete: 7,0 FF () 18446744073709551615 + 0 none,0,0 [0]",
		"          <idle>-0       (-------) [001] ..s1.  2746.193585: block_rq_complete: 254,0 RA () 21075168 + 8 be,0,7 [0]",
		"     ksoftirqd/1-22      (     22) [001] ..s..  2744.216426: block_rq_complete: 7,0 WSM () 229694 + 8 be,0,3 [0]",
	}
	m, got := matchAll(t, lines)
	if len(got) != 2 || m.Unmatched != 1 {
		t.Fatalf("matched %+v, unmatched %d", got, m.Unmatched)
	}
	flush, read := got[0], got[1]
	if !flush.Flush() || flush.Comm != "kworker/0:1H" || flush.CompleteNS-flush.IssueNS != 180000 {
		t.Errorf("flush %+v", flush)
	}
	if read.PID != 7965 || read.Bytes != 4096 || read.InsertNS == 0 || read.CompleteNS-read.IssueNS != 244000 {
		t.Errorf("read %+v", read)
	}
	if !KernelTask("kworker/u8:4") || !KernelTask("jbd2/loop0-8") || KernelTask("postgres") {
		t.Error("KernelTask")
	}
	// Stacking drivers' threads by the names the kernel gives them (comm
	// is cut at 15 bytes); programs whose names merely look alike are not.
	for comm, want := range map[string]bool{"md0_raid1": true, "md127_raid10": true, "md1_resync": true, "dmcrypt_write/2": true,
		"jbd2/dm-0-8": true, "mdadm": false, "md5sum": false, "md_": false, "md0": false, "md0_": true} {
		if KernelTask(comm) != want {
			t.Errorf("KernelTask(%q) = %v, want %v", comm, !want, want)
		}
	}
}

// A request the driver gives back and issues again (block_rq_requeue, the
// event's format on this kernel) runs from its last issue; without the
// requeue event a repeated issue of the same request is taken as such.
// Either way no stale issue is left for a later request at that sector —
// which once made an 11 s "request".
func TestMatcherRequeue(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		{"requeue traced", []string{
			"  kworker/u8:2-90 (90) [000] ..... 100.000000: block_rq_issue: 7,0 W 4096 () 2048 + 8 be,0,4 [kworker/u8:2]",
			"  kworker/u8:2-90 (90) [000] ..... 100.001000: block_rq_requeue: 7,0 W () 2048 + 8 be,0,4 [0]",
			"  kworker/u8:2-90 (90) [000] ..... 100.004000: block_rq_issue: 7,0 W 4096 () 2048 + 8 be,0,4 [kworker/u8:2]",
			"  <idle>-0 (-------) [000] ..s1. 100.006000: block_rq_complete: 7,0 W () 2048 + 8 be,0,4 [0]",
			"  dd-91 (91) [000] ..... 111.300000: block_rq_issue: 7,0 W 4096 () 2048 + 8 be,0,4 [dd]",
			"  <idle>-0 (-------) [000] ..s1. 111.302000: block_rq_complete: 7,0 W () 2048 + 8 be,0,4 [0]",
		}},
		{"issued twice, no requeue event", []string{
			"  kworker/u8:2-90 (90) [000] ..... 100.000000: block_rq_issue: 7,0 W 4096 () 2048 + 8 be,0,4 [kworker/u8:2]",
			"  kworker/u8:2-90 (90) [000] ..... 100.004000: block_rq_issue: 7,0 W 4096 () 2048 + 8 be,0,4 [kworker/u8:2]",
			"  <idle>-0 (-------) [000] ..s1. 100.006000: block_rq_complete: 7,0 W () 2048 + 8 be,0,4 [0]",
			"  dd-91 (91) [000] ..... 111.300000: block_rq_issue: 7,0 W 4096 () 2048 + 8 be,0,4 [dd]",
			"  <idle>-0 (-------) [000] ..s1. 111.302000: block_rq_complete: 7,0 W () 2048 + 8 be,0,4 [0]",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, got := matchAll(t, tc.lines)
			if len(got) != 2 || m.Unmatched != 0 {
				t.Fatalf("matched %+v, unmatched %d", got, m.Unmatched)
			}
			if got[0].ServiceNS() != 2e6 || got[0].Comm != "kworker/u8:2" {
				t.Errorf("requeued request: %d ns by %s, want 2 ms from its last issue", got[0].ServiceNS(), got[0].Comm)
			}
			if got[1].ServiceNS() != 2e6 || got[1].Comm != "dd" {
				t.Errorf("the later request: %d ns by %s, want dd's 2 ms", got[1].ServiceNS(), got[1].Comm)
			}
		})
	}
}

// matchAll feeds trace lines to a new Matcher and returns it with the
// requests it completed.
func matchAll(t *testing.T, lines []string) (*Matcher, []Matched) {
	t.Helper()
	m := NewMatcher()
	var got []Matched
	for _, l := range lines {
		e, ok := ParseLine([]byte(l))
		if !ok {
			t.Fatalf("line %q", l)
		}
		r, done, err := m.Add(e)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			got = append(got, r)
		}
	}
	return m, got
}

// Every filesystem's journal threads are kernel helpers like jbd2, by the
// names the kernel gives them; a program named like a filesystem tool is
// not one.
func TestFilesystemJournalThreads(t *testing.T) {
	for comm, want := range map[string]bool{"jbd2/sda1-8": true, "xfsaild/loop0": true, "xfsaild/dm-3": true,
		"btrfs-transacti": true, "btrfs-cleaner": true, "xfs_repair": false, "btrfs": false, "xfsaild": false, "btrfs-convert": false} {
		if JournalTask(comm) != want || KernelTask(comm) != want {
			t.Errorf("JournalTask(%q) = %v, KernelTask = %v, want %v", comm, JournalTask(comm), KernelTask(comm), want)
		}
	}
	for _, tc := range []struct {
		comm, dev string
		want      bool
	}{{"jbd2/sda1-8", "sda", true}, {"xfsaild/loop0", "loop0", true}, {"xfsaild/loop0", "sda", false}, {"btrfs-transacti", "sda", false}} {
		if got := JournalOf(tc.comm, tc.dev); got != tc.want {
			t.Errorf("JournalOf(%q, %q) = %v, want %v", tc.comm, tc.dev, got, tc.want)
		}
	}
}
