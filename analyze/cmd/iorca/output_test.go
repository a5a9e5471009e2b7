package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/report/content"
	"github.com/iorca/iorca/samples/workload"
)

// idleSample is the smallest sample: the output tests analyse it often.
var idleSample = filepath.Join(samplesDir, "idle.tar.zst")

// runWithin runs iorca with args and fails the test, rather than hang it,
// if the command has not returned within d: a FIFO opened the blocking
// way would never return.
func runWithin(t *testing.T, d time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		c := run(args, &o, &e)
		done <- result{c, o.String(), e.String()}
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.code, r.out, r.err
	case <-timer.C:
		t.Fatalf("iorca %s: still running after %s (blocked on a FIFO?)", strings.Join(args, " "), d)
		return 0, "", ""
	}
}

// idleReport is the report of the idle sample in Markdown, as stdout
// gets it.
func idleReport(t *testing.T) string {
	t.Helper()
	code, out, errs := runWithin(t, 10*time.Second, "report", idleSample)
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	return out
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noPartial fails for a temporary file left in dir.
func noPartial(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// Issue 22, item 9: the rules of -o, one case a rule, through the real
// command: what is replaced, what is written straight, what is refused,
// with which mode.
func TestReportOutputRules(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	want := idleReport(t)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns -o
		force bool
		code  int
		msg   string // in stderr
		check func(t *testing.T, dir, out string)
	}{
		{name: "new file: 0666 less the umask", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "r.md") },
			check: func(t *testing.T, dir, out string) {
				if m := mode(t, out); m != 0o640 {
					t.Errorf("mode %v, want -rw-r----- (0666 less umask 027)", m)
				}
				if readString(t, out) != want {
					t.Error("the file is not the report")
				}
			}},
		{name: "regular file: replaced, its mode kept", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "r.md")
			os.WriteFile(p, []byte("old"), 0o600)
			os.Chmod(p, 0o606)
			return p
		}, check: func(t *testing.T, dir, out string) {
			if m := mode(t, out); m != 0o606 {
				t.Errorf("mode %v, want the old file's -rw----rw-", m)
			}
			if readString(t, out) != want {
				t.Error("the file is not the report")
			}
		}},
		{name: "symlink elsewhere: refused", setup: func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "victim"), []byte("old"), 0o644)
			p := filepath.Join(dir, "link.md")
			os.Symlink(filepath.Join(dir, "victim"), p)
			return p
		}, code: exitFailure, msg: "is a symbolic link to", check: func(t *testing.T, dir, out string) {
			if mode(t, out)&fs.ModeSymlink == 0 || readString(t, filepath.Join(dir, "victim")) != "old" {
				t.Error("the link or its target changed")
			}
		}},
		{name: "symlink elsewhere, --force: the link replaced", setup: func(t *testing.T, dir string) string {
			os.WriteFile(filepath.Join(dir, "victim"), []byte("old"), 0o644)
			p := filepath.Join(dir, "link.md")
			os.Symlink("victim", p)
			return p
		}, force: true, check: func(t *testing.T, dir, out string) {
			if !mode(t, out).IsRegular() || readString(t, out) != want || readString(t, filepath.Join(dir, "victim")) != "old" {
				t.Error("the link was written through, or not replaced by the report")
			}
		}},
		{name: "symlink into /dev: followed", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "null.md")
			os.Symlink("/dev/null", p)
			return p
		}, check: func(t *testing.T, dir, out string) {
			if mode(t, out)&fs.ModeSymlink == 0 || mode(t, "/dev/null")&fs.ModeCharDevice == 0 {
				t.Error("the link or /dev/null was replaced")
			}
		}},
		{name: "symlink into /dev to a full device", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "full.md")
			os.Symlink("/dev/full", p)
			return p
		}, code: exitFailure, msg: "output " + "DIR/full.md: no space left on device"},
		{name: "/dev/full: written straight, never replaced", setup: func(t *testing.T, dir string) string { return "/dev/full" },
			code: exitFailure, msg: "output /dev/full: no space left on device", check: func(t *testing.T, dir, out string) {
				if mode(t, "/dev/full")&fs.ModeCharDevice == 0 {
					t.Fatal("/dev/full is no longer a device node")
				}
			}},
		{name: "directory: refused", setup: func(t *testing.T, dir string) string { return dir },
			code: exitFailure, msg: "is a directory"},
		{name: "FIFO without a reader: refused, not a hang", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, code: exitFailure, msg: "FIFO has no reader"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := tc.setup(t, dir)
			args := []string{"report", idleSample, "-o", out}
			if tc.force {
				args = append(args, "--force")
			}
			code, stdout, stderr := runWithin(t, 10*time.Second, args...)
			msg := strings.ReplaceAll(tc.msg, "DIR", dir)
			if code != tc.code || !strings.Contains(stderr, msg) || strings.Count(stderr, "\n") > 1 || stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %.40q; want exit %d and one line with %q", code, stderr, stdout, tc.code, msg)
			}
			if tc.check != nil {
				tc.check(t, dir, out)
			}
			noPartial(t, dir)
		})
	}
}

// "-o -" is stdout, not a file named "-".
func TestOutputDashIsStdout(t *testing.T) {
	want := idleReport(t)
	for _, cmd := range [][]string{{"report", idleSample}, {"fleet", "-q", idleSample}, {"diff", idleSample, idleSample}} {
		code, stdout, stderr := runWithin(t, 10*time.Second, append(cmd, "-o", "-")...)
		if code != exitOK || stdout == "" || (cmd[0] == "report" && stdout != want) {
			t.Errorf("%s -o -: exit %d, %d bytes on stdout: %s", cmd[0], code, len(stdout), stderr)
		}
		if _, err := os.Lstat("-"); err == nil {
			os.Remove("-")
			t.Errorf("%s -o - wrote a file named -", cmd[0])
		}
	}
}

// A FIFO the reader has opened is written straight.
func TestOutputToFIFOWithReader(t *testing.T) {
	want := idleReport(t)
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A writer of our own keeps the reader from seeing end of file
	// before iorca opens the FIFO.
	w, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	code, _, stderr := runWithin(t, 10*time.Second, "report", idleSample, "-o", p)
	w.Close()
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	select {
	case s := <-got:
		if s != want {
			t.Errorf("the reader got %d bytes, want the report's %d", len(s), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got no end of file")
	}
	if mode(t, p)&fs.ModeNamedPipe == 0 {
		t.Error("the FIFO was replaced")
	}
}

// fleet, diff and regress --update write by the same rules: a planted
// link is refused and left alone, --force replaces it, a device is
// written straight.
func TestEveryCommandWritesByTheRules(t *testing.T) {
	regressDir := func(t *testing.T) (string, string) {
		dir := t.TempDir()
		b, err := os.ReadFile(idleSample)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "idle.tar.zst"), b, 0o644)
		return dir, filepath.Join(dir, "idle.md")
	}
	for _, cmd := range []string{"fleet", "diff", "regress"} {
		args := func(dir, out string) []string {
			switch cmd {
			case "fleet":
				return []string{"fleet", "-q", idleSample, "-o", out}
			case "diff":
				return []string{"diff", idleSample, idleSample, "-o", out}
			}
			return []string{"regress", "--update", dir}
		}
		for _, force := range []bool{false, true} {
			dir, out := regressDir(t)
			victim := filepath.Join(t.TempDir(), "victim")
			os.WriteFile(victim, []byte("old"), 0o644)
			os.Symlink(victim, out)
			a := args(dir, out)
			if force {
				a = append(a, "--force")
			}
			code, stdout, stderr := runWithin(t, 20*time.Second, a...)
			if readString(t, victim) != "old" {
				t.Errorf("%s (force %v): wrote through the link", cmd, force)
			}
			isLink := mode(t, out)&fs.ModeSymlink != 0
			switch {
			case !force && (code != exitFailure || !isLink || !strings.Contains(stderr+stdout, "is a symbolic link to")):
				t.Errorf("%s: exit %d, link kept %v, output %q %q; want the link refused", cmd, code, isLink, stderr, stdout)
			case force && (code != exitOK || isLink):
				t.Errorf("%s --force: exit %d, link kept %v: %s%s", cmd, code, isLink, stderr, stdout)
			}
			noPartial(t, dir)
		}
		if cmd == "regress" {
			continue
		}
		code, _, stderr := runWithin(t, 20*time.Second, args("", "/dev/full")...)
		if code != exitFailure || !strings.Contains(stderr, "no space left on device") || mode(t, "/dev/full")&fs.ModeCharDevice == 0 {
			t.Errorf("%s -o /dev/full: exit %d, %q", cmd, code, stderr)
		}
	}
}

// Issue 22, item 8: an input that is not a regular file is refused at
// once with its type, by every command; fleet lists it as unreadable
// and reads the rest. A blocking open would hang: the deadline fails
// the test instead.
func TestInputNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.tar.zst")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fifoJSON := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifoJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "zero.tar.zst")
	os.Symlink("/dev/zero", dev)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", fifo}, exitBadInput, "fifo.tar.zst: is a FIFO, not a regular file"},
		{[]string{"report", dev}, exitBadInput, "zero.tar.zst: is a character device, not a regular file"},
		{[]string{"report", idleSample, "--rules", fifo}, exitBadInput, "is a FIFO, not a regular file"},
		{[]string{"replay", fifo, "iostat"}, exitBadInput, "is a FIFO, not a regular file"},
		{[]string{"diff", idleSample, fifo}, exitBadInput, "is a FIFO, not a regular file"},
		{[]string{"regress", dir}, exitFailure, "FAIL fifo: " + fifo + ": is a FIFO, not a regular file"},
	} {
		code, stdout, stderr := runWithin(t, 10*time.Second, tc.args...)
		if code != tc.code || !strings.Contains(stderr+stdout, tc.want) {
			t.Errorf("iorca %s: exit %d, %q %q; want exit %d and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.want)
		}
	}

	// fleet: the directory walk and a FIFO given by name.
	abs, _ := filepath.Abs(idleSample)
	os.Symlink(abs, filepath.Join(dir, "idle.tar.zst"))
	for _, args := range [][]string{{dir}, {fifo, fifoJSON, idleSample}} {
		code, stdout, stderr := runWithin(t, 20*time.Second, append([]string{"fleet", "-q", "--format", "json"}, args...)...)
		var s content.Fleet
		if err := json.Unmarshal([]byte(stdout), &s); code != exitOK || err != nil {
			t.Fatalf("fleet %v: exit %d, %v: %s", args, code, err, stderr)
		}
		kinds := map[string]string{}
		for _, u := range s.Unreadable {
			kinds[filepath.Base(u.Source)] = u.Error
		}
		if len(s.Nodes) != 1 || !strings.Contains(kinds["fifo.tar.zst"], "is a FIFO") || !strings.Contains(kinds["fifo.json"], "is a FIFO") {
			t.Errorf("fleet %v: %d nodes, unreadable %v; want the idle node and both FIFOs unreadable", args, len(s.Nodes), kinds)
		}
		if len(args) == 1 && !strings.Contains(kinds["zero.tar.zst"], "is a character device") {
			t.Errorf("fleet %v: the link to /dev/zero is not unreadable as a device: %v", args, kinds)
		}
	}
}

// A closed stdout pipe (iorca report X | head -1) ends iorca with one
// line on stderr and exit 1, not a silent death by SIGPIPE: iorca runs
// as a process (the test binary running main) with a stdout whose
// reader is gone.
func TestClosedStdoutPipe(t *testing.T) {
	for _, args := range [][]string{
		{"report", idleSample},
		{"report", idleSample, "--format", "json", "-o", "-"},
		{"report", idleSample, "-o", "/dev/stdout"},
		{"replay", idleSample, "iostat"},
		{"fleet", "-q", idleSample},
	} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		cmd.Stdout = w
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		timer := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
		err = cmd.Run()
		timer.Stop()
		w.Close()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
			t.Errorf("iorca %v into a closed pipe: %v, want exit 1", args, err)
		}
		if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "broken pipe") || strings.Contains(msg, "panic") {
			t.Errorf("iorca %v into a closed pipe: stderr %q, want one line saying broken pipe", args, msg)
		}
	}
}

// A full or read-only disk: the error says what and where, the old file
// is intact and no temporary file is left.
func TestOutputFullAndReadOnlyDisk(t *testing.T) {
	full := workload.Tmpfs(t, "64k")
	out := filepath.Join(full, "r.html")
	os.WriteFile(out, []byte("old"), 0o644)
	// Filled but for a few KiB: the old file stays, the report does not fit.
	f, _ := os.Create(filepath.Join(full, "filler"))
	f.Write(make([]byte, 48<<10))
	f.Close()
	code, _, stderr := runWithin(t, 20*time.Second, "report", idleSample, "--format", "html", "-o", out)
	if code != exitFailure || !strings.Contains(stderr, "output "+out+": no space left on device") || !strings.Contains(stderr, "the filesystem of "+full+" is full") {
		t.Errorf("full disk: exit %d, %q", code, stderr)
	}
	if readString(t, out) != "old" {
		t.Error("full disk: the old file was changed")
	}
	noPartial(t, full)

	ro := workload.Tmpfs(t, "1m", "ro")
	out = filepath.Join(ro, "r.md")
	code, _, stderr = runWithin(t, 20*time.Second, "report", idleSample, "-o", out)
	if code != exitFailure || !strings.Contains(stderr, "read-only file system") || !strings.Contains(stderr, ro+" is on a read-only filesystem") {
		t.Errorf("read-only disk: exit %d, %q", code, stderr)
	}
}

// "-o -" and an OUT of "-" are stdout for every command that writes,
// replay and redact included; replay -o writes a file.
func TestDashIsStdoutEverywhere(t *testing.T) {
	idle, err := filepath.Abs(filepath.Join(samplesDir, "idle.tar.zst"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir) // a file named "-" would land here
	for _, args := range [][]string{
		{"report", idle, "-o", "-"},
		{"replay", idle, "iotop", "--summary", "-o", "-"},
		{"fleet", idle, "-o", "-"},
		{"diff", idle, idle, "-o", "-"},
		{"redact", idle, "-"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != exitOK || out.Len() == 0 {
			t.Errorf("%v: exit %d, %d bytes on stdout: %s", args, code, out.Len(), errb.String())
		}
		if _, err := os.Lstat(filepath.Join(dir, "-")); err == nil {
			t.Fatalf("%v wrote a file named -", args)
		}
	}
	var out, errb bytes.Buffer
	file := filepath.Join(dir, "iotop.txt")
	if code := run([]string{"replay", idle, "iotop", "--summary", "-o", file}, &out, &errb); code != exitOK || out.Len() != 0 {
		t.Errorf("replay -o FILE: exit %d, %d bytes on stdout", code, out.Len())
	}
	if data, err := os.ReadFile(file); err != nil || !strings.Contains(string(data), "DISK WRITE") {
		t.Errorf("replay -o FILE wrote %q, %v", data, err)
	}
}
