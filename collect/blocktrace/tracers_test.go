package blocktrace

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/iorca/iorca/collect/bundle"
)

// mkfile writes data at root/rel, making its directories.
func mkfile(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mklink makes root/rel a symbolic link reading target, as /proc/PID/fd/N.
func mklink(t *testing.T, root, rel, target string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// An adversarial /proc, made by hand: only a real scan can show what the
// kernel writes, but these are the shapes it must survive — a process
// that vanished between the listing and the read (no fd directory), one
// whose comm is gone, a file whose name looks like a BPF link, perf events
// alone (perf record, not a BPF tracer), the collector itself, and names
// that are not PIDs.
func TestScanBPFAdversarialProc(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"100/comm":  "bpftrace\n", // two programs, a link, two perf events
		"200/comm":  "gone\n",     // exited: listed, no fd directory
		"400/comm":  "perf\n",     // perf record: perf events, no BPF
		"500/comm":  "liar\n",     // a regular file named like a link target
		"500/fd/3":  fdBPFProg,
		"600/comm":  "iorca-collect\n", // the collector itself
		"self/comm": "x\n",
		"sys/x":     "",
	}
	links := map[string]string{
		"100/fd/0": "/dev/null", "100/fd/3": fdBPFProg, "100/fd/4": fdBPFProg, "100/fd/5": fdBPFLink,
		"100/fd/6": fdPerfEvent, "100/fd/7": fdPerfEvent,
		"300/fd/9":  fdBPFLink, // a link holder whose comm vanished
		"400/fd/3":  fdPerfEvent,
		"600/fd/3":  fdBPFProg,
		"self/fd/3": fdBPFProg,
	}
	for rel, data := range files {
		mkfile(t, root, rel, data)
	}
	for rel, target := range links {
		mklink(t, root, rel, target)
	}

	got := ScanBPF(root, 600)
	want := []bundle.OtherTracer{
		{PID: 100, Comm: "bpftrace", BPFProgs: 2, BPFLinks: 1, PerfEvents: 2},
		{PID: 300, BPFLinks: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ScanBPF:\n got %+v\nwant %+v", got, want)
	}
	if got := ScanBPF(filepath.Join(root, "missing"), 0); got != nil {
		t.Errorf("ScanBPF of a missing /proc: %v, want nil", got)
	}
}

// The same scan over this machine's /proc: whatever it finds must hold a
// BPF program or link, and the test process (which holds none) is never
// listed when it is self.
func TestScanBPFThisMachine(t *testing.T) {
	for _, tr := range ScanBPF("/proc", os.Getpid()) {
		if tr.PID == os.Getpid() || tr.BPFProgs+tr.BPFLinks == 0 || tr.Comm == "" {
			t.Errorf("ScanBPF lists %+v", tr)
		}
	}
}

// Instances: the top level with a block event on, another tool's
// instance with a writeback event on, one with everything off, and the
// collector's own, which is left out.
func TestScanInstances(t *testing.T) {
	root := t.TempDir()
	mkfile(t, root, "events/block/block_rq_issue/enable", "1\n")
	mkfile(t, root, "events/block/block_rq_complete/enable", "0\n")
	mkfile(t, root, "events/sched/sched_switch/enable", "1\n")
	mkfile(t, root, "instances/perfetto/events/writeback/writeback_single_inode/enable", "1\n")
	mkfile(t, root, "instances/idle/events/block/block_rq_issue/enable", "0\n")
	mkfile(t, root, "instances/iorca-42/events/block/block_rq_issue/enable", "1\n")
	got := ScanInstances(root, "iorca-42")
	want := []bundle.OtherTracer{
		{Instance: "/", Events: []string{"block/block_rq_issue"}},
		{Instance: "perfetto", Events: []string{"writeback/writeback_single_inode"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ScanInstances:\n got %+v\nwant %+v", got, want)
	}
}
