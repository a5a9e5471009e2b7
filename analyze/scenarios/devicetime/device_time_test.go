package devicetime

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 9, scenario 1: two disks. A backup streams buffered writes to a
// disk that copes; a small journal writer makes 16 O_DSYNC writes a
// second to a slow disk (every write request waits 15 ms), which it keeps
// saturated. The culprit is the quiet writer that holds the slow disk's
// time; the loud backup is a neighbour, never the cause — with the block
// trace, and estimated without it.
func TestDeviceTimeQuietCulpritLoudNeighbour(t *testing.T) {
	withAndWithoutBlockTrace(t, func(t *testing.T, blockTrace bool) {
		slow := workload.SlowDisk(t, 256, "delay", "wdelay=15ms")
		slowMnt := workload.Ext4On(t, slow)
		fastMnt, _ := workload.LoopExt4(t, 512)
		backup := workload.StartProgram(t, "backup", "--file", filepath.Join(fastMnt, "backup.img"), "--size", "1048576", "--sync", "none", "--rate", "30", "--max-bytes", "256MiB")
		journal := workload.StartWriter(t, "--file", filepath.Join(slowMnt, "journal.log"), "--size", "512", "--sync", "odsync", "--rate", "16")
		cfg := livetest.Config(t, 8*time.Second)
		cfg.BlockTrace = blockTrace
		cfg.SelectAfter = 3 * time.Second
		r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
		slowName := filepath.Base(slow)
		ok := reporttest.CheckFindings(t, r, []string{"device-saturated"}, nil)
		if c := r.Verdict.Culprit; c == nil || c.PID != journal.Process.Pid {
			t.Errorf("culprit %+v, want the journal writer %d", c, journal.Process.Pid)
			ok = false
		}
		for _, f := range r.Findings {
			if f.ID == "device-saturated" && f.Subjects.Device != slowName {
				t.Errorf("device-saturated names %s, want %s", f.Subjects.Device, slowName)
				ok = false
			}
			if f.ID == "dominant-io-process" && len(f.Subjects.PIDs) > 0 && f.Subjects.PIDs[0] == backup.Process.Pid && f.Severity != "info" {
				t.Errorf("the backup on the healthy disk is a %s dominant-io-process, want info (a neighbour)", f.Severity)
				ok = false
			}
		}
		for _, sentence := range strings.SplitAfter(r.Verdict.Summary, ". ") {
			if strings.Contains(sentence, "saturated") && strings.Contains(sentence, "backup") {
				t.Errorf("the verdict puts the backup in the sentence of the saturation: %s", sentence)
				ok = false
			}
		}
		if !blockTrace && r.Verdict.Confidence == "high" {
			t.Errorf("without a block trace the verdict is %s, want lowered", r.Verdict.Confidence)
			ok = false
		}
		if !ok || testing.Verbose() {
			t.Logf("report:\n%s", md)
		}
	})
}

// Issue 9, scenario 2, the seed's shape: a container-like writer appends
// tiny O_SYNC access-log lines to a file on its overlay upper layer, on a
// slow disk (every write request waits 15 ms) which it saturates; a small
// database fsyncs its own file on the same disk. The writer manages only
// a few dozen writes a second because each one waits, yet it is the
// culprit, overlay-hot-path fires, and the database is named as a victim
// — with the block trace, and estimated without it.
func TestDeviceTimeOverlayWriterAndVictim(t *testing.T) {
	withAndWithoutBlockTrace(t, func(t *testing.T, blockTrace bool) {
		slow := workload.SlowDisk(t, 256, "delay", "wdelay=15ms")
		base := workload.Ext4On(t, slow)
		logFile, upper := workload.OverlayAccessLogOn(t, base)
		logger := workload.StartWriter(t, "--file", logFile, "--size", "58", "--sync", "osync")
		db := workload.StartProgram(t, "db", "--file", filepath.Join(base, "db.wal"), "--size", "4096", "--sync", "fdatasync", "--rate", "2")
		cfg := livetest.Config(t, 8*time.Second)
		cfg.BlockTrace = blockTrace
		cfg.SelectAfter = 3 * time.Second
		r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
		ok := reporttest.CheckFindings(t, r, []string{"device-saturated", "overlay-hot-path", "sync-writes"}, nil)
		if c := r.Verdict.Culprit; c == nil || c.PID != logger.Process.Pid {
			t.Errorf("culprit %+v, want the access-log writer %d", c, logger.Process.Pid)
			ok = false
		}
		if !strings.Contains(md, upper) {
			t.Errorf("the report does not name the upper layer %s", upper)
			ok = false
		}
		if blockTrace {
			victim := false
			for _, f := range r.Findings {
				if f.ID == "io-victims" {
					for _, pid := range f.Subjects.PIDs {
						victim = victim || pid == db.Process.Pid
					}
				}
			}
			if !victim || !strings.Contains(r.Verdict.Summary, "Waiting for") {
				t.Errorf("the database %d is not named as a victim: %s", db.Process.Pid, r.Verdict.Summary)
				ok = false
			}
		}
		if !ok || testing.Verbose() {
			t.Logf("report:\n%s", md)
		}
	})
}

// Issue 9, scenario 3: a buffered writer at 8 MiB/s on a disk whose
// every request waits 20 ms (requests of at most 64 KiB), its dirty pages
// bounded so that writeback runs during the capture. Its writes return at
// once; the device is kept busy by writeback kworkers. The device time is
// its, through the pages it dirtied, not a kworker's.
func TestDeviceTimeWritebackOfBufferedWriter(t *testing.T) {
	withAndWithoutBlockTrace(t, func(t *testing.T, blockTrace bool) {
		_, mnt := workload.WritebackDisk(t, "20ms")
		w := workload.StartWriter(t, "--file", filepath.Join(mnt, "export.csv"), "--size", "65536", "--sync", "none", "--rate", "128", "--max-bytes", "256MiB")
		cfg := livetest.Config(t, 8*time.Second)
		cfg.BlockTrace = blockTrace
		r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
		ok := reporttest.CheckFindings(t, r, []string{"device-saturated"}, nil)
		if c := r.Verdict.Culprit; c == nil || c.PID != w.Process.Pid {
			t.Errorf("culprit %+v, want the buffered writer %d", c, w.Process.Pid)
			ok = false
		}
		if blockTrace && !strings.Contains(md, "writeback of pages it dirtied") {
			t.Error("the writer's share is not said to come through writeback")
			ok = false
		}
		if !ok || testing.Verbose() {
			t.Logf("report:\n%s", md)
		}
	})
}

// withAndWithoutBlockTrace runs a scenario twice: with the block trace,
// and estimating device time without it.
func withAndWithoutBlockTrace(t *testing.T, scenario func(t *testing.T, blockTrace bool)) {
	for _, blockTrace := range []bool{true, false} {
		name := "block-trace"
		if !blockTrace {
			name = "estimate"
		}
		t.Run(name, func(t *testing.T) { scenario(t, blockTrace) })
	}
}

// Issue 10: one application, one culprit. Three processes of one program
// started by one parent (as a server's workers) append small O_DSYNC
// records to their files on a slow disk: one finding per cause names the
// application by its main process and lists the others, instead of three
// copies with one worker picked as the culprit.
func TestOneApplicationOneFinding(t *testing.T) {
	slow := workload.SlowDisk(t, 256, "delay", "wdelay=10ms")
	mnt := workload.Ext4On(t, slow)
	bin := workload.Build(t)
	script := fmt.Sprintf("for i in 1 2 3; do %s --file %s/wal.$i --size 512 --sync odsync --rate 10 & done; wait", bin, mnt)
	app := workload.Start(t, "sh", "-c", script)
	cfg := livetest.Config(t, 6*time.Second)
	cfg.SelectAfter = 2 * time.Second
	r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
	ok := true
	count := map[string]int{}
	for _, f := range r.Findings {
		count[f.ID]++
		if f.ID == "sync-writes" && len(f.Subjects.PIDs) < 2 {
			t.Errorf("sync-writes names %v, want the application's processes", f.Subjects.PIDs)
			ok = false
		}
	}
	if count["sync-writes"] != 1 {
		t.Errorf("%d sync-writes findings, want one for the application", count["sync-writes"])
		ok = false
	}
	if c := r.Verdict.Culprit; c == nil || c.PID == app.Process.Pid {
		t.Errorf("culprit %+v", c)
		ok = false
	}
	if !strings.Contains(md, "an application of 3 processes") {
		t.Error("the culprit is not named as an application of 3 processes")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}

// Issue 10: a competing explanation lowers the verdict. Two programs
// make the same
// O_DSYNC appends at the same rate to one slow disk: each holds about
// half of its time. The verdict names one culprit, but with medium
// confidence and the other named as holding nearly as much — with the
// block trace, and estimated without it.
func TestRivalWritersLowerConfidence(t *testing.T) {
	withAndWithoutBlockTrace(t, func(t *testing.T, blockTrace bool) {
		slow := workload.SlowDisk(t, 256, "delay", "wdelay=10ms")
		mnt := workload.Ext4On(t, slow)
		a := workload.StartWriter(t, "--file", filepath.Join(mnt, "journal.log"), "--size", "512", "--sync", "odsync", "--rate", "12")
		b := workload.StartProgram(t, "ledger", "--file", filepath.Join(mnt, "ledger.log"), "--size", "512", "--sync", "odsync", "--rate", "12")
		cfg := livetest.Config(t, 6*time.Second)
		cfg.BlockTrace = blockTrace
		cfg.SelectAfter = 2 * time.Second
		r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
		ok := true
		c := r.Verdict.Culprit
		if c == nil || (c.PID != a.Process.Pid && c.PID != b.Process.Pid) {
			t.Errorf("culprit %+v, want one of the writers %d, %d", c, a.Process.Pid, b.Process.Pid)
			ok = false
		}
		if r.Verdict.Confidence != "medium" || !strings.Contains(r.Verdict.ConfidenceReason, "both load it") {
			t.Errorf("verdict %s (%q), want medium: the other writer holds as much of the device", r.Verdict.Confidence, r.Verdict.ConfidenceReason)
			ok = false
		}
		if !strings.Contains(r.Verdict.Summary, "relieving one alone may not relieve the device") {
			t.Errorf("the verdict does not name the rival: %s", r.Verdict.Summary)
			ok = false
		}
		if !ok || testing.Verbose() {
			t.Logf("report:\n%s", md)
		}
	})
}

// Issue 10, as a new user tried it: a real PostgreSQL under pgbench (8
// clients) on a slow disk. Its backends each fdatasync the WAL at commit;
// the walwriter and checkpointer write too. The culprit is the
// application — PostgreSQL named by its postmaster, with how many of its
// processes share the load — and each cause is one finding listing its
// processes, not one per backend. A WAL write of 8 KiB or more is never
// said to cost "a whole page" (with the block trace, and estimated
// without it). At a milder delay, the device is described
// by its busy time and latency, never as "not saturated" while commits
// wait on it.
func TestPostgresUnderPgbench(t *testing.T) {
	for _, tc := range []struct {
		delay      string
		blockTrace bool
	}{{"8ms", true}, {"8ms", false}, {"3ms", true}} {
		delay := tc.delay
		name := "wdelay=" + delay
		if !tc.blockTrace {
			name += "-estimate"
		}
		t.Run(name, func(t *testing.T) {
			slow := workload.SlowDisk(t, 512, "delay", "wdelay="+delay)
			mnt := workload.Ext4On(t, slow)
			pg := workload.StartPostgres(t, filepath.Join(mnt, "pg"))
			pg.Pgbench(t, "-i", "-q", "-s", "1", "postgres")
			workload.StartPgbenchLoad(t, pg)
			time.Sleep(2 * time.Second) // past connection setup
			cfg := livetest.Config(t, 8*time.Second)
			cfg.SelectAfter = 3 * time.Second
			cfg.BlockTrace = tc.blockTrace
			r, md := reporttest.Analyze(t, livetest.Capture(t, cfg, 0))
			ok := true
			count := map[string]int{}
			for _, f := range r.Findings {
				// Its 8 KiB WAL writes fill pages: without a trace a
				// high write_bytes/wchar is folio accounting, not a
				// warning.
				if f.ID == "write-amplification" && !tc.blockTrace && f.Severity != "info" {
					t.Errorf("write-amplification is a %s on 8 KiB writes without a block trace", f.Severity)
					ok = false
				}
				if len(f.Subjects.PIDs) > 0 && f.ID != "io-victims" && f.ID != "io-stalls" {
					count[f.ID]++
				}
			}
			for id, n := range count {
				if n > 1 {
					t.Errorf("%d %s findings, want one per application and cause", n, id)
					ok = false
				}
			}
			if c := r.Verdict.Culprit; c == nil || c.Comm != "postgres" || c.PID != postmasterPID(t, pg) || c.Processes < 2 {
				t.Errorf("culprit %+v, want PostgreSQL named by its postmaster %d with its processes", c, postmasterPID(t, pg))
				ok = false
			}
			for _, m := range pageClaim.FindAllStringSubmatch(md, -1) {
				if n, _ := strconv.Atoi(m[1]); n >= 4096 {
					t.Errorf("the report says a %d-byte write costs a whole page: %s", n, m[0])
					ok = false
				}
			}
			if plain := strings.ReplaceAll(md, `\_`, "_"); !strings.Contains(plain, "commit_delay") || strings.Contains(plain, "Open without fsync") {
				t.Error("the mitigations are not PostgreSQL's own (commit_delay, synchronous_commit) but a generic log's")
				ok = false
			}
			if strings.Contains(r.Verdict.Summary, "not saturated") {
				t.Errorf("the verdict calls the device the commits wait on not saturated: %s", r.Verdict.Summary)
				ok = false
			}
			if !ok || testing.Verbose() {
				t.Logf("report:\n%s", md)
			}
		})
	}
}

// pageClaim is the wording that says a write of N bytes costs a page.
var pageClaim = regexp.MustCompile(`each (\d+)-byte write costs a whole page`)

// postmasterPID is the server's postmaster: runuser's child.
func postmasterPID(t *testing.T, pg *workload.Postgres) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pg.Postmaster.Process.Pid, pg.Postmaster.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(b) + " 0")[0])
	return pid
}
