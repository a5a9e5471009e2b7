package procfs

import (
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// Source: prometheus/procfs testdata/fixtures/proc/{26231,584,26232}/stat,
// expected values from procfs's proc_stat_test.go (procfs/EXPECTED.md).
func TestParsePIDStatProcfsFixtures(t *testing.T) {
	s, err := ParsePIDStat(fixture.Read(t, "procfs/testdata/fixtures/proc/26231/stat"))
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != 26231 || s.Comm != "vim" || s.State != 'R' || s.UTime != 1677 || s.STime != 44 ||
		s.StartTime != 82375 || s.VSize != 56274944 || s.RSS != 1981 || s.DelayAcctBlkioTicks != 31 || s.Processor != 0 ||
		s.MinFlt != 32533 || s.MajFlt != 26 { // fields 10 and 12 of the same line (proc(5))
		t.Errorf("26231 = %+v", s)
	}
	s, err = ParsePIDStat(fixture.Read(t, "procfs/testdata/fixtures/proc/584/stat"))
	if err != nil {
		t.Fatal(err)
	}
	// The file's pid is 1020 although its directory is 584, and it has a
	// second line that must be ignored.
	if s.PID != 1020 || s.Comm != "(a b ) ( c d) " || s.State != 'R' {
		t.Errorf("584 = pid %d comm %q state %c", s.PID, s.Comm, s.State)
	}
	// cutime/cstime at int64 extremes are not parsed, but must not break
	// the fields that are.
	s, err = ParsePIDStat(fixture.Read(t, "procfs/testdata/fixtures/proc/26232/stat"))
	if err != nil {
		t.Fatalf("26232: %v", err)
	}
	if s.Nice != -20 {
		t.Errorf("26232 nice = %d, want -20", s.Nice)
	}
}

// Source: sysstat tests/root*/proc/[0-9]*/stat, the inputs of pidstat's tests.
func TestParsePIDStatSysstatFixtures(t *testing.T) {
	for _, f := range fixture.Glob(t, "sysstat/tests/root*/proc/[0-9]*/stat") {
		if _, err := ParsePIDStat(fixture.Read(t, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParsePIDStat(t *testing.T) {
	// A line captured on this kernel (6.18) for a task in D state, with
	// field 42 = 111 after dirty-page throttling (REFERENCE-IO.md 9.3).
	line := "4242 (dd) D 1 4242 4242 0 -1 4194304 200 0 0 0 12 340 0 0 20 0 1 0 99881 5844992 256 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 111 0 0 0 0 0 0 0 0 0 0\n"
	s, err := ParsePIDStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if s.State != 'D' || s.DelayAcctBlkioTicks != 111 || s.StartTime != 99881 || s.Processor != 1 || s.PPID != 1 {
		t.Errorf("got %+v", s)
	}
	// A shell that reaped a dd child: cutime 7, cstime 41 (fields 16, 17).
	shell := "4200 (bash) S 1 4200 4200 0 -1 4194304 900 4000 0 0 2 3 7 41 20 0 1 0 99000 8000000 900 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	if s, err := ParsePIDStat([]byte(shell)); err != nil || s.CUTime != 7 || s.CSTime != 41 || s.UTime != 2 || s.STime != 3 {
		t.Errorf("bash: %+v %v", s, err)
	}
	kthread := "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	if s, err := ParsePIDStat([]byte(kthread)); err != nil || !s.IsKernelThread() {
		t.Errorf("kthreadd: %+v %v", s, err)
	}
	for _, bad := range []string{"", "1 (a R", "x (a) R 1", "1 (a) R 1 2 3", "1 (a) RR " + "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22"} {
		if _, err := ParsePIDStat([]byte(bad)); err == nil {
			t.Errorf("ParsePIDStat(%q) accepted it", bad)
		}
	}
}

func FuzzParsePIDStat(f *testing.F) {
	addTestdataSeeds(f, "node/proc/21537/stat", "holder/proc/25066/stat")
	f.Add([]byte("26231 (vim) R 5392 7446 5392 34835 7446 4218880 32533 309516 26 82 1677 44 158 99 20 0 1 0 82375 56274944 1981 18446744073709551615 4194304 6294284 140736914091744 140736914087944 139965136429984 0 0 12288 1870679807 0 0 0 17 0 0 0 31 0 0 8391624 8481048 16420864 140736914093252 140736914093279 140736914093279 140736914096107 0\n"))
	f.Add([]byte("1020 ((a b ) ( c d) ) R 28378 1020"))
	f.Fuzz(func(t *testing.T, b []byte) { ParsePIDStat(b) })
}
