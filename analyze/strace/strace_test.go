package strace

import (
	"strings"
	"testing"

	"github.com/iorca/iorca/internal/fixture"
)

// Lines captured on this machine with strace 6.1 -f -tt -T -y
// (REFERENCE-IO.md 7.3, 7.4).
func TestParseLineForms(t *testing.T) {
	tests := []struct {
		in   string
		want Line
	}{
		{`23139 01:53:59.020817 openat(AT_FDCWD</srv/exp>, "/srv/exp/x.log", O_WRONLY|O_CREAT|O_APPEND, 0644) = 3</srv/exp/x.log> <0.000119>`,
			Line{PID: 23139, Kind: Call, Name: "openat", Ret: "3</srv/exp/x.log>", Dur: Duration{119, true}}},
		{`23139 01:53:59.021449 openat(AT_FDCWD</srv/exp>, "/srv/exp/does-not-exist", O_RDONLY) = -1 ENOENT (No such file or directory) <0.000039>`,
			Line{PID: 23139, Kind: Call, Name: "openat", Ret: "-1", Errno: "ENOENT", Dur: Duration{39, true}}},
		{`23140 01:53:59.023698 write(3</srv/exp/x.log>, "thread line\n", 12 <unfinished ...>`,
			Line{PID: 23140, Kind: Unfinished, Name: "write", Args: `3</srv/exp/x.log>, "thread line\n", 12`}},
		{`23139 01:53:59.023683 <... pread64 resumed>"hello\tworld\n\1\2\377 bin \"q\" \\ end\nAA"..., 64, 0) = 64 <0.000036>`,
			Line{PID: 23139, Kind: Resumed, Name: "pread64", Args: `"hello\tworld\n\1\2\377 bin \"q\" \\ end\nAA"..., 64, 0`, Ret: "64", Dur: Duration{36, true}}},
		{`23140 01:53:59.085117 exit(0)           = ?`, Line{PID: 23140, Kind: Call, Name: "exit", Args: "0", Ret: "?"}},
		{`23143 01:53:59.085923 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---`, Line{PID: 23143, Kind: Signal, Signal: "SIGSEGV"}},
		{`23139 01:53:59.086061 <... clock_nanosleep resumed>NULL) = ? ERESTART_RESTARTBLOCK (Interrupted by signal) <0.000144>`,
			Line{PID: 23139, Kind: Resumed, Name: "clock_nanosleep", Args: "NULL", Ret: "?", Errno: "ERESTART_RESTARTBLOCK", Dur: Duration{144, true}}},
		{`23143 01:53:59.086071 +++ killed by SIGSEGV +++`, Line{PID: 23143, Kind: Killed, Signal: "SIGSEGV"}},
		{`23139 01:53:59.136728 +++ exited with 3 +++`, Line{PID: 23139, Kind: Exited, Exit: 3}},
		{`23139 01:53:59.086095 restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0 <0.049968>`,
			Line{PID: 23139, Kind: Call, Name: "restart_syscall", Args: "<... resuming interrupted clock_nanosleep ...>", Ret: "0", Dur: Duration{49968, true}}},
		{`[pid 23277] 01:54:02.552672 write(3</srv/exp/x.log>, "thread line\n", 12) = 12`,
			Line{PID: 23277, Kind: Call, Name: "write", Args: `3</srv/exp/x.log>, "thread line\n", 12`, Ret: "12"}},
		{`1700000000.123456 write(1</dev/null<char 1:3>>, "child1\n", 7) = 7 <0.000010>`,
			Line{Kind: Call, Name: "write", Args: `1</dev/null<char 1:3>>, "child1\n", 7`, Ret: "7", Dur: Duration{10, true}}},
		{`execve("../sleep", ["../sleep", "0"], NULL <detached ...>`, Line{Kind: Detached, Name: "execve", Args: `"../sleep", ["../sleep", "0"], NULL`}},
		{`[pid  1338] 14:54:00.523319 <... vfork resumed> ) = 1342 <0.000312>`, Line{PID: 1338, Kind: Resumed, Name: "vfork", Ret: "1342", Dur: Duration{312, true}}},
		{`18054 01:12:15.342731 --- SIGCHLD (Child exited) @ 0 (0) ---`, Line{PID: 18054, Kind: Signal, Signal: "SIGCHLD"}},
	}
	for _, tt := range tests {
		got, err := ParseLine(tt.in)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", tt.in, err)
			continue
		}
		got.Time = Timestamp{}
		if tt.want.Args == "" && (got.Kind == Call) && tt.want.Name != "exit" && tt.want.Name != "restart_syscall" {
			got.Args = ""
		}
		if got != tt.want {
			t.Errorf("ParseLine(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
	l, _ := ParseLine(`23139 01:53:59.020817 write(3</x>, ""..., 60) = 60 <0.000119>`)
	if want := int64((1*3600+53*60+59)*1e6 + 20817); !l.Time.Valid || l.Time.Micros != want || l.Time.Epoch {
		t.Errorf("time %+v, want %d", l.Time, want)
	}
	for _, bad := range []string{"", "strace: Process 23279 attached", "write(3", "hello world", "+++ exited with x +++", `write(1, "a) = 1`} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) accepted it", bad)
		}
	}
}

func TestParseFDDecorations(t *testing.T) {
	for in, want := range map[string]FD{
		"3</srv/exp/x.log>":                         {Num: 3, Path: "/srv/exp/x.log"},
		`3</srv/exp/we\76ird na\"me\n.log>`:         {Num: 3, Path: "/srv/exp/we>ird na\"me\n.log"},
		"3</srv/exp/del.log>(deleted)":              {Num: 3, Path: "/srv/exp/del.log", Deleted: true},
		"4<pipe:[35092]>":                           {Num: 4, Path: "pipe:[35092]"},
		"AT_FDCWD</srv/exp>":                        {Num: -100, Path: "/srv/exp"},
		"1</dev/null<char 1:3>>":                    {Num: 1, Path: "/dev/null"},
		"9<TCP:[127.0.0.1:33708->127.0.0.1:34465]>": {Num: 9, Path: "TCP:[127.0.0.1:33708->127.0.0.1:34465]"},
		"5</srv/ovl/mer ged/a.txt>":                 {Num: 5, Path: "/srv/ovl/mer ged/a.txt"},
	} {
		got, ok := ParseFD(in)
		if !ok || got != want {
			t.Errorf("ParseFD(%q) = %+v %v, want %+v", in, got, ok, want)
		}
	}
	kinds := map[string]string{"pipe:[1]": "pipe", "socket:[2]": "socket", "TCP:[a->b]": "socket", "/dev/pts/0": "tty", "/dev/null": "device", "/var/log/a": "file", "anon_inode:[eventpoll]": "anon"}
	for p, k := range kinds {
		if got := (FD{Path: p}).Kind(); got != k {
			t.Errorf("Kind(%q) = %q, want %q", p, got, k)
		}
	}
	if _, ok := ParseFD("3"); ok {
		t.Error("undecorated fd accepted")
	}
	if got := Unescape(`"\1\2\377 bin \"q\" \\ end\n\0015\x41`); got != "\"\x01\x02\xff bin \"q\" \\ end\n\x015A" {
		t.Errorf("Unescape = %q", got)
	}
}

// The trace of REFERENCE-IO.md 7.3: unfinished/resumed pairs of two tasks
// interleaved, joined by PID.
func TestParseJoinsInterleavedTasks(t *testing.T) {
	in := `23139 01:53:59.023639 pread64(11</srv/exp/x.log>,  <unfinished ...>
23140 01:53:59.023698 write(3</srv/exp/x.log>, "thread line\n", 12 <unfinished ...>
23139 01:53:59.023683 <... pread64 resumed>"hello"..., 64, 0) = 64 <0.000036>
23140 01:53:59.023739 <... write resumed>) = 12 <0.000025>
23140 01:53:59.023769 fdatasync(3</srv/exp/x.log>) = 0 <0.000354>
23141 01:53:59.085672 write(1</srv/job/stdout>, "child1\n", 7 <unfinished ...>
23141 01:53:59.085931 <... exit_group resumed>) = ?
23140 01:53:59.085222 +++ exited with 0 +++
`
	tr := Parse([]byte(in))
	if len(tr.Malformed) != 0 {
		t.Errorf("malformed lines %v", tr.Malformed)
	}
	if len(tr.Calls) != 5 || tr.Orphans != 1 || len(tr.Events) != 1 {
		t.Fatalf("calls %d orphans %d events %d: %+v", len(tr.Calls), tr.Orphans, len(tr.Events), tr.Calls)
	}
	if got, want := tr.Skipped(), "1 resumed calls have no start in the trace"; got != want {
		t.Errorf("Skipped() = %q, want %q", got, want)
	}
	// A line strace never writes (here a tool's message mixed into the
	// file) and a cut last line are counted with the first one's number.
	cut := Parse([]byte(in + "strace: Process 23139 detached\n23139 01:53:59.1 write(11</srv/exp/x.log>, \"par"))
	if got, want := cut.Skipped(), "2 of 10 lines are in no strace form (first: line 9), 1 resumed calls have no start in the trace"; got != want {
		t.Errorf("Skipped() = %q, want %q", got, want)
	}
	if (*Trace)(nil).Skipped() != "" || Parse([]byte("1 00:00:00.1 sync() = 0 <0.1>\n")).Skipped() != "" {
		t.Error("Skipped() of no trace or a clean one is not empty")
	}
	pr := tr.Calls[0]
	if pr.Name != "pread64" || len(pr.Args) != 4 || pr.Ret != 64 || pr.Incomplete || pr.Dur.Micros != 36 || pr.End.Micros <= pr.Start.Micros {
		t.Errorf("pread64 = %+v", pr)
	}
	w := tr.Calls[1]
	if n, _ := w.IntArg(2); w.Name != "write" || n != 12 || w.Ret != 12 || w.Line != 2 {
		t.Errorf("write = %+v", w)
	}
	if fd, ok := w.FD(); !ok || fd.Path != "/srv/exp/x.log" {
		t.Errorf("write fd = %+v", fd)
	}
	if !tr.Calls[3].Incomplete || tr.Calls[3].Name != "write" {
		t.Errorf("the write never resumed should be incomplete: %+v", tr.Calls[3])
	}
}

// Source: rchateauneu/survol tests/dockit_input_test_trace_files (strace
// 4.x, -f -tt -T -y): cp of a 2.1 MB file is 17 writes totalling the
// source's size; make has 27 unfinished/resumed pairs and 9 SIGCHLD.
func TestParseSurvol(t *testing.T) {
	dir := "survol/tests/dockit_input_test_trace_files/"
	tr := Parse(fixture.Read(t, dir+"dockit_copy_bigfile.strace.log"))
	var writes, reads int
	var written int64
	for _, c := range tr.Calls {
		fd, _ := c.FD()
		switch {
		case c.Name == "write" && fd.Num == 4:
			writes++
			written += c.Ret
		case c.Name == "read" && fd.Num == 3:
			reads++
		}
	}
	if writes != 17 || written != 2149823 || reads < 18 {
		t.Errorf("cp: %d writes of %d bytes, %d reads", writes, written, reads)
	}
	tr = Parse(fixture.Read(t, dir+"make_hello.strace.1338.log"))
	signals := 0
	for _, e := range tr.Events {
		if e.Kind == Signal && e.Signal == "SIGCHLD" {
			signals++
		}
	}
	if len(tr.Malformed) != 0 || tr.Orphans != 0 || signals != 9 {
		t.Errorf("make: malformed %v, orphans %d, SIGCHLD %d", tr.Malformed, tr.Orphans, signals)
	}
	for _, c := range tr.Calls {
		if c.Incomplete && c.Name != "exit_group" {
			t.Errorf("make: %s at line %d left incomplete", c.Name, c.Line)
		}
	}
	tr = Parse(fixture.Read(t, dir+"dockit_vim.strace.log"))
	fsyncs := 0
	for _, c := range tr.Calls {
		if fd, ok := c.FD(); c.Name == "fsync" && ok && strings.HasSuffix(fd.Path, "/.titi.swp") {
			fsyncs++
		}
	}
	if fsyncs == 0 || len(tr.Malformed) != 0 {
		t.Errorf("vim: %d fsyncs of the swap file, malformed %v", fsyncs, tr.Malformed)
	}
}

// Source: arastoob/strace-parser trace-examples (modern strace -f without
// timestamps, 224 resumed lines, 12 exits) and johnlcf/Stana test inputs
// (old signal lines; a slice whose first resumed lines have no entry).
func TestParseModernAndSliced(t *testing.T) {
	tr := Parse(fixture.Read(t, "arastoob-strace-parser/trace-examples/multithread_strace1.log"))
	exits := 0
	for _, e := range tr.Events {
		if e.Kind == Exited {
			exits++
		}
	}
	if exits != 12 || tr.Orphans != 0 || len(tr.Malformed) != 0 {
		t.Errorf("cargo: exits %d orphans %d malformed %v", exits, tr.Orphans, tr.Malformed)
	}
	for _, name := range []string{"thread-ex.out", "ls_f.out", "stardict_T.lines5601-7100.out"} {
		tr := Parse(fixture.Read(t, "Stana/test/"+name))
		if len(tr.Calls) == 0 || len(tr.Malformed) > tr.Lines/100 {
			t.Errorf("%s: %d calls, malformed %v", name, len(tr.Calls), tr.Malformed)
		}
	}
}

func FuzzParse(f *testing.F) {
	addTestdataSeeds(f, "sh.strace")
	f.Add([]byte("23139 01:53:59.023639 pread64(11</srv/exp/x.log>,  <unfinished ...>\n23139 01:53:59.023683 <... pread64 resumed>\"hello\"..., 64, 0) = 64 <0.000036>\n"))
	f.Add([]byte(`[pid 23278] 01:54:02.614566 write(1</dev/null<char 1:3>>, "child1\n", 7) = 7` + "\n"))
	f.Add([]byte("--- SIGCHLD (Child exited) @ 0 (0) ---\n+++ killed by SIGKILL (core dumped) +++\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr := Parse(b)
		if len(tr.Calls)+len(tr.Events) > tr.Lines {
			t.Fatal("more records than lines")
		}
		for i := range tr.Calls {
			tr.Calls[i].FD()
			tr.Calls[i].IntArg(2)
		}
	})
}

// The calls' arguments share blocks (argArena): an append to one call's
// arguments must copy, never write over the next call's.
func TestArgsOfOneCallDoNotSpillIntoTheNext(t *testing.T) {
	tr := ParseText("1 10:00:00.000001 write(3</a>, \"x\", 1) = 1 <0.000010>\n1 10:00:00.000002 write(4</b>, \"y\", 1) = 1 <0.000010>\n")
	if len(tr.Calls) != 2 {
		t.Fatalf("%d calls, want 2", len(tr.Calls))
	}
	_ = append(tr.Calls[0].Args, "spilled")
	if got := tr.Calls[1].Args[0]; got != "4</b>" {
		t.Errorf("second call's first argument %q after an append to the first's, want 4</b>", got)
	}
}
