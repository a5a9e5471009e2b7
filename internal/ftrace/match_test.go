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
}
