package mechanisms

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 24, item 6: a metadata scan. du walks a tree of 48,000 empty
// files in 480 directories on a slow disk (one request at a time, as one
// head serves them, 20 ms per read) just mounted,
// so every inode table and directory block is a small read from the
// disk; a latency-sensitive reader (4 KiB O_DIRECT reads, 20 a second)
// on the same disk waits behind them. The report names du the culprit,
// says the mechanism (metadata-scan) and names the reader as a victim.
func TestMetadataScan(t *testing.T) {
	slow := workload.SlowDisk(t, 512, "noparallel,delay", "serialize=all-requests", "rdelay=20ms")
	var data string
	_, tree := workload.ColdTree(t, slow, 480, 100, func(mnt string) {
		data = filepath.Join(mnt, "index.dat")
		workload.MustRun(t, "dd", "if=/dev/zero", "of="+data, "bs=1M", "count=16", "status=none")
	})
	reader := workload.StartProgram(t, "lookup", "--file", data, "--size", "4096", "--read", "--direct", "--rate", "20")
	scan := workload.Start(t, "du", "-s", tree)
	cfg := livetest.Config(t, 8*time.Second)
	cfg.SelectAfter = 3 * time.Second
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	pid := scan.Process.Pid
	ok := true
	if c := r.Verdict.Culprit; c == nil || c.PID != pid {
		t.Errorf("culprit %+v, want du %d", c, pid)
		ok = false
	}
	if r.Verdict.Primary != "metadata-scan" {
		t.Errorf("primary finding %q, want metadata-scan", r.Verdict.Primary)
		ok = false
	}
	var victim, behind bool
	for _, f := range r.Findings {
		if f.ID != "io-victims" {
			continue
		}
		for _, p := range f.Subjects.PIDs {
			victim = victim || p == reader.Process.Pid
		}
		// On a disk that serves one request at a time the reader's reads
		// queue behind the scan's: that wait is real and named.
		behind = behind || strings.Contains(f.Summary, fmt.Sprintf("waiting behind the requests of PID %d", pid))
	}
	if !victim || !behind {
		t.Errorf("the reader %d is not named a victim (%v) waiting behind du (%v)", reader.Process.Pid, victim, behind)
		ok = false
	}
	if !strings.Contains(md, "ionice -c3") {
		t.Errorf("no ionice -c3 advice for the scan")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
