package ftrace

import (
	"testing"
)

// Lines captured on this kernel (6.18) from a tracefs instance, with and
// without options/record-tgid (REFERENCE-IO.md 12).
func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in         string
		comm       string
		pid, tgid  int
		cpu        int
		ns         int64
		name, flds string
	}{
		{" dd-993  [001] ...1.  1729.632924: block_rq_insert: 254,0 RA 4096 () 12580512 + 8 be,0,4 [dd]", "dd", 993, 0, 1, 1729632924000, "block_rq_insert", "254,0 RA 4096 () 12580512 + 8 be,0,4 [dd]"},
		{"              dd-31152   (  31152) [001] .....  1852.884183: block_rq_issue: 254,0 RA 4096 () 12580512 + 8 be,0,4 [dd]", "dd", 31152, 31152, 1, 1852884183000, "block_rq_issue", "254,0 RA 4096 () 12580512 + 8 be,0,4 [dd]"},
		{"    jbd2/loop0-8-30849   [000] ...1.  1797.904109: jbd2_commit_flushing: dev 7,0 transaction 346 sync 0", "jbd2/loop0-8", 30849, 0, 0, 1797904109000, "jbd2_commit_flushing", "dev 7,0 transaction 346 sync 0"},
		{"     <idle>-0       [001] ..s1. 1729.633109: block_rq_complete: 254,0 RA () 12580512 + 8 be,0,4 [0]", "<idle>", 0, 0, 1, 1729633109000, "block_rq_complete", "254,0 RA () 12580512 + 8 be,0,4 [0]"},
		{" Web Content-77 (-------) [000] d..1. 10.5: writeback_dirty_folio: bdi 7:0: ino=12 index=3", "Web Content", 77, 0, 0, 10500000000, "writeback_dirty_folio", "bdi 7:0: ino=12 index=3"},
	} {
		e, ok := ParseLine([]byte(tc.in))
		if !ok || e.Comm != tc.comm || e.PID != tc.pid || e.TGID != tc.tgid || e.CPU != tc.cpu || e.TimeNS != tc.ns || e.Name != tc.name || string(e.Fields) != tc.flds {
			t.Errorf("ParseLine(%q) = %+v (fields %q) %v", tc.in, e, e.Fields, ok)
		}
	}
	for _, bad := range []string{"", "CPU:1 [LOST 12 EVENTS]", "# tracer: nop", "dd-1 [000] .... notatime: x: y", "dd [000] .... 1.0: x: y"} {
		if e, ok := ParseLine([]byte(bad)); ok {
			t.Errorf("ParseLine(%q) accepted: %+v", bad, e)
		}
	}
}

func TestParseEvents(t *testing.T) {
	r, err := ParseRequest([]byte("254,0 WS 8192 () 26221512 + 16 be,0,4 [kworker/u8:4]"), false)
	if err != nil || r.Dev != (Dev{Major: 254, Minor: 0}) || r.Bytes != 8192 || r.Sector != 26221512 || r.Sectors != 16 || r.Comm != "kworker/u8:4" || !r.Write() || !r.Sync() {
		t.Errorf("issue: %+v %v", r, err)
	}
	r, err = ParseRequest([]byte("7,0 FF 0 () 0 + 0 none,0,0 [kworker/0:1H]"), false)
	if err != nil || !r.Flush() || r.Sectors != 0 || !r.HasSectorRange {
		t.Errorf("flush: %+v %v", r, err)
	}
	r, err = ParseRequest([]byte("7,0 WSM () 182988 + 8 be,0,3 [-5]"), true)
	if err != nil || r.Error != -5 || !r.Meta() || r.Sector != 182988 {
		t.Errorf("complete: %+v %v", r, err)
	}
	// Kernels before 5.x print no ioprio.
	r, err = ParseRequest([]byte("8,0 W 4096 () 1234 + 8 [dd]"), false)
	if err != nil || r.Comm != "dd" || r.Sector != 1234 {
		t.Errorf("old form: %+v %v", r, err)
	}
	if _, err := ParseRequest([]byte("x W"), false); err == nil {
		t.Error("bad device accepted")
	}
	d, err := ParseDirty([]byte("bdi 254:0: ino=9978607 index=22873"))
	if err != nil || d.BDI != (Dev{Major: 254, Minor: 0}) || d.Ino != 9978607 || d.Index != 22873 {
		t.Errorf("dirty: %+v %v", d, err)
	}
	th, err := ParseThrottle([]byte("bdi 7:0: limit=100 setpoint=50 dirty=90 bdi_setpoint=10 bdi_dirty=20 dirty_ratelimit=32 task_ratelimit=0 dirtied=32 dirtied_pause=32 paused=0 pause=200 period=200 think=0 cgroup_ino=1"))
	if err != nil || th.PauseMS != 200 || th.Dirtied != 32 || th.BDI != (Dev{Major: 7, Minor: 0}) {
		t.Errorf("throttle: %+v %v", th, err)
	}
	w, err := ParseSingleInode([]byte("bdi 7:0: ino=12 state=I_SYNC dirtied_when=4295 age=0 index=0 to_write=1024 wrote=3 cgroup_ino=1"))
	if err != nil || w.Wrote != 3 || w.Ino != 12 {
		t.Errorf("inode writeback: %+v %v", w, err)
	}
	c, err := ParseCommit([]byte("dev 7,0 transaction 346 sync 0"))
	if err != nil || c.Dev != (Dev{Major: 7, Minor: 0}) || c.Transaction != 346 {
		t.Errorf("commit: %+v %v", c, err)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte("              dd-31152   (  31152) [001] .....  1852.884183: block_rq_issue: 254,0 RA 4096 () 12580512 + 8 be,0,4 [dd]"))
	f.Add([]byte(" dd-993  [001] ...1.  1729.632924: block_rq_complete: 254,0 RA () 12580512 + 8 be,0,4 [0]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := ParseLine(b)
		if !ok {
			return
		}
		ParseRequest(e.Fields, false)
		ParseRequest(e.Fields, true)
		ParseDirty(e.Fields)
		ParseThrottle(e.Fields)
		ParseCommit(e.Fields)
	})
}
