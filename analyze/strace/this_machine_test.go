package strace

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The parser on traces strace 6.1 wrote on this project's machine, of
// small programs whose IO is known (testdata/README.md). The expected
// counts were taken with grep on the trace files and follow from what the
// programs did; every unfinished call must be joined with its resumption.

func parseTestdata(t *testing.T, name string) *Trace {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tr := Parse(b)
	if len(tr.Malformed) != 0 || tr.Orphans != 0 {
		t.Errorf("%s: malformed lines %v, %d orphans", name, tr.Malformed, tr.Orphans)
	}
	return tr
}

// callsOn sums the calls named name on the file at path, and their
// return values.
func callsOn(tr *Trace, name, path string) (n int, sum int64) {
	for _, c := range tr.Calls {
		if fd, ok := c.FD(); ok && c.Name == name && fd.Path == path {
			n++
			sum += c.Ret
		}
	}
	return n, sum
}

// dd if=src.bin of=dst.bin bs=100000 copies 2,149,823 bytes (files.txt):
// 21 full blocks and one of 49,823 bytes, then a read of 0 at the end.
func TestParseDDTrace(t *testing.T) {
	tr := parseTestdata(t, "dd.strace")
	if tr.Lines != 89 || len(tr.Calls) != 88 || len(tr.Events) != 1 || tr.Events[0].Kind != Exited || tr.Events[0].Exit != 0 {
		t.Errorf("%d lines, %d calls, events %+v", tr.Lines, len(tr.Calls), tr.Events)
	}
	const size = 2149823
	if n, sum := callsOn(tr, "write", "/tmp/iorca-strace/dst.bin"); n != 22 || sum != size {
		t.Errorf("%d writes of %d bytes to dst.bin, want 22 of %d", n, sum, size)
	}
	if n, sum := callsOn(tr, "read", "/tmp/iorca-strace/src.bin"); n != 23 || sum != size {
		t.Errorf("%d reads of %d bytes from src.bin, want 23 of %d", n, sum, size)
	}
	var sizes []int64
	for _, c := range tr.Calls {
		fd, _ := c.FD()
		if c.Name != "write" || fd.Path != "/tmp/iorca-strace/dst.bin" {
			continue
		}
		n, _ := c.IntArg(2)
		sizes = append(sizes, n)
		if n != c.Ret || !c.Dur.Valid || fd.Num != 1 || fd.Kind() != "file" {
			t.Errorf("line %d: write of %d returned %d, fd %+v, duration %+v", c.Line, n, c.Ret, fd, c.Dur)
		}
	}
	want := append(slices.Repeat([]int64{100000}, 21), size-21*100000)
	if !slices.Equal(sizes, want) {
		t.Errorf("write sizes %v, want %v", sizes, want)
	}
	// dd's summary on stderr: three writes to dd.err.
	if n, sum := callsOn(tr, "write", "/tmp/iorca-strace/dd.err"); n != 3 || sum != 33+62+1 {
		t.Errorf("%d writes of %d bytes to dd.err", n, sum)
	}
}

// sh -c 'for i in 1 2 3; do (echo child$i > out$i.txt) & done; sleep 5 &
// k=$!; kill -KILL $k; wait; exit 3', all syscalls: four children, three
// of which write 7 bytes each and exit 0, one killed; the shell exits 3.
// 54 calls were cut by another task's line and resumed later.
func TestParseShellTrace(t *testing.T) {
	tr := parseTestdata(t, "sh.strace")
	if tr.Lines != 178 {
		t.Errorf("%d lines", tr.Lines)
	}
	kinds := map[Kind]int{}
	exits := map[int]int{}
	for _, e := range tr.Events {
		kinds[e.Kind]++
		switch {
		case e.Kind == Exited:
			exits[e.Exit]++
		case e.Kind == Killed && e.Signal != "SIGKILL", e.Kind == Signal && e.Signal != "SIGCHLD":
			t.Errorf("line %d: %+v", e.Line, e)
		}
	}
	if kinds[Exited] != 4 || exits[0] != 3 || exits[3] != 1 || kinds[Killed] != 1 || kinds[Signal] != 3 {
		t.Errorf("events %v, exit codes %v", kinds, exits)
	}
	joined := 0
	for _, c := range tr.Calls {
		if c.End != c.Start {
			joined++
		}
		if c.Incomplete && c.Name != "exit_group" {
			t.Errorf("line %d: %s left incomplete", c.Line, c.Name)
		}
	}
	if joined != 54 {
		t.Errorf("%d calls joined from unfinished and resumed lines, want 54", joined)
	}
	for i := 1; i <= 3; i++ {
		path := "/tmp/iorca-strace/out" + string(rune('0'+i)) + ".txt"
		if n, sum := callsOn(tr, "write", path); n != 1 || sum != 7 {
			t.Errorf("%s: %d writes of %d bytes", path, n, sum)
		}
	}
}

// Two threads of a Go program each append 100 records of 120 bytes to
// their own file with fdatasync after every 10th (testdata's
// capture/mtw): 163 calls were unfinished and resumed.
func TestParseThreadsTrace(t *testing.T) {
	tr := parseTestdata(t, "mtw.strace")
	if tr.Lines != 406 {
		t.Errorf("%d lines", tr.Lines)
	}
	pids := map[string]map[int]bool{}
	for _, f := range []string{"wal-a.log", "wal-b.log"} {
		path := "/tmp/iorca-strace/" + f
		if n, sum := callsOn(tr, "write", path); n != 100 || sum != 100*120 {
			t.Errorf("%s: %d writes of %d bytes, want 100 of 12000", f, n, sum)
		}
		if n, _ := callsOn(tr, "fdatasync", path); n != 10 {
			t.Errorf("%s: %d fdatasync, want 10", f, n)
		}
		pids[f] = map[int]bool{}
		for _, c := range tr.Calls {
			if fd, ok := c.FD(); ok && fd.Path == path && c.Name == "write" {
				pids[f][c.PID] = true
				if c.Incomplete || !c.RetKnown || !c.Dur.Valid || c.End.Micros < c.Start.Micros {
					t.Errorf("line %d: %+v", c.Line, c)
				}
			}
		}
	}
	// Each file is written by one thread, not the same one.
	if len(pids["wal-a.log"]) != 1 || len(pids["wal-b.log"]) != 1 {
		t.Errorf("writers %v", pids)
	}
	for p := range pids["wal-a.log"] {
		if pids["wal-b.log"][p] {
			t.Errorf("thread %d wrote both files", p)
		}
	}
	joined, exits := 0, 0
	for _, c := range tr.Calls {
		if c.End != c.Start {
			joined++
		}
	}
	for _, e := range tr.Events {
		if e.Kind == Exited && e.Exit == 0 {
			exits++
		}
	}
	if joined != 163 || exits != 6 {
		t.Errorf("%d calls joined, want 163; %d tasks exited 0, want 6", joined, exits)
	}
}

// addTestdataSeeds seeds a fuzz target with captured traces.
func addTestdataSeeds(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}
