package accounting

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21, item 3: a parent is never charged for its reaped children.
// The kernel adds a child's IO counters to its parent's when the parent
// reaps it; a shell that runs dd after dd, each living a fraction of a
// second, would otherwise be the node's writer. The shell's own counters
// stay flat; the dd's IO is the exited children's, named as such, and
// they are the culprit.
func TestShellLoopOfDD(t *testing.T) {
	workload.Live(t)
	mnt, _ := workload.LoopExt4(t, 512)
	file := filepath.Join(mnt, "chunk.bin")
	sh := workload.Start(t, "bash", "-c", fmt.Sprintf("while :; do dd if=/dev/zero of=%s bs=1M count=4 oflag=direct status=none; sleep 0.05; done", file))
	cfg := livetest.Config(t, 6*time.Second)
	path := livetest.Capture(t, cfg, 0)
	m := livetest.Load(t, path)
	w := window.New(m, window.Defaults())
	shell, kids := procIO(w, sh.Process.Pid)
	if shell == nil || kids == nil {
		t.Fatalf("shell %v, its exited children %v", shell, kids)
	}
	if shell.Delta.IO.WriteBytes > 1<<20 {
		t.Errorf("the shell is charged %d bytes written: its children's", shell.Delta.IO.WriteBytes)
	}
	if kids.Delta.IO.WriteBytes < 16<<20 {
		t.Errorf("the shell's exited children wrote %d bytes, want the dd's tens of MiB", kids.Delta.IO.WriteBytes)
	}
	r, md := reporttest.Analyze(t, path)
	if c := r.Verdict.Culprit; c != nil && c.PID == sh.Process.Pid {
		t.Errorf("the shell is the culprit:\n%s", md)
	}
	for _, f := range r.Findings {
		if f.ID == "dominant-io-process" && len(f.Subjects.PIDs) > 0 && f.Subjects.PIDs[0] == sh.Process.Pid {
			t.Errorf("the shell is the dominant IO process:\n%s", md)
		}
	}
}

// A writer killed while the capture runs and reaped by its shell: what
// it wrote stays its own, and the shell, which wrote nothing itself, is
// charged nothing when it reaps it.
func TestKilledWriterReaped(t *testing.T) {
	workload.Live(t)
	mnt, _ := workload.LoopExt4(t, 512)
	bin := workload.Build(t)
	file := filepath.Join(mnt, "export.bin")
	// Again and again, every 4 s: a capture taken again (livetest.Capture
	// does when go test's builds were loud) still holds a writer killed
	// and reaped inside it.
	sh := workload.Start(t, "bash", "-c", fmt.Sprintf("while :; do %s --file %s --size 1048576 --direct --rate 20 & sleep 3; kill $!; wait; sleep 1; done", bin, file))
	cfg := livetest.Config(t, 6*time.Second)
	m := livetest.Load(t, livetest.Capture(t, cfg, 0))
	w := window.New(m, window.Defaults())
	shell, _ := procIO(w, sh.Process.Pid)
	if shell == nil {
		t.Fatal("the shell was not sampled")
	}
	var writer *model.ProcIO
	for i := range w.Procs {
		p := &w.Procs[i]
		if p.Proc.PPID == sh.Process.Pid && p.Proc.ReapedBy == 0 && (writer == nil || p.Delta.IO.WriteBytes > writer.Delta.IO.WriteBytes) {
			writer = p // the writer, not the sleep
		}
	}
	if writer == nil || writer.Delta.IO.WriteBytes < 8<<20 {
		t.Fatalf("the writer: %+v", writer)
	}
	if shell.Delta.IO.WriteBytes > 0 {
		t.Errorf("the shell is charged %d bytes written when it reaped the writer (which wrote %d)", shell.Delta.IO.WriteBytes, writer.Delta.IO.WriteBytes)
	}
}

// procIO is a process's window IO and that of the children it reaped
// unseen.
func procIO(w *window.Window, pid int) (own, kids *model.ProcIO) {
	for i := range w.Procs {
		p := &w.Procs[i]
		switch {
		case p.Proc.PID == pid && p.Proc.ReapedBy == 0:
			own = p
		case p.Proc.ReapedBy == pid:
			kids = p
		}
	}
	return own, kids
}
