package accounting

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21: iorca's device time checked against a tool no one here wrote.
// bpftrace traces block_rq_issue and block_rq_complete on the test's own
// device over the same seconds as the collector, on a workload of the
// test's own: an O_DIRECT writer, two buffered writers at different rates
// whose pages the flushers write back, and an O_DSYNC appender whose
// every write forces a journal commit.
//
// What "device time" means on each side. A request's residence (issue to
// completion) is not its cost: while requests overlap, summing residence
// counts the same busy second once per request in flight (REFERENCE-IO.md
// §14.2), and a flusher keeping sixteen requests in flight would get
// sixteen times its due. iorca gives every stretch with requests in flight
// to the request that completes first. The peer uses the textbook rule for
// a device that serves one request at a time: a request's service is the
// time from its issue or the previous completion, whichever is later, to
// its own completion (REFERENCE-IO.md §14.2). The slow disk is made such a
// device (nbdkit's noparallel filter serves one request at a time, each
// write waiting wdelay): there both rules give each request exactly its
// service, in whatever order the device serves them, so the two sides mean
// the same thing by device time and compute it independently — the peer
// from the kernel's events with none of iorca's code. On a device serving
// requests in parallel and out of order they part by a few points (the
// direct writer held 17.6 % by iorca's rule and 14.8 % by the textbook's
// on the same requests, measured here with the parallel delay filter).
// The requests are milliseconds long against the microseconds tracing adds
// to each event, and the flushers keep tens of requests in flight, so that
// residence shares differ from service shares by far more than the
// tolerance: were iorca to sum residence, the writeback writers would get
// several times their due and the test would fail (the log shows both).
//
// Whose time it is, on the peer's side, by the kernel's own events and
// the filesystem's own map: a request issued by a thread of a test
// process is that process's; a request to a buffered writer's file's
// blocks (FIEMAP, by filefrag) is that writer's, whoever issued it — the
// flushers, or kblockd dispatching for them (tying a flusher's requests
// to the inode it was writing, between writeback_single_inode_start and
// writeback_single_inode, gave a third of them to no inode here: the
// flusher's plug issues them after it has moved on); a request to the
// journal's blocks (inode 8, by debugfs) and metadata written home after
// commits are the O_DSYNC appender's, the one writer
// on the device whose writes force commits (the direct writer overwrites
// blocks written before the capture and forces none); a cache flush
// forces out the data written since the device's previous flush and is
// charged to its owners by bytes, as the README's table says — the peer
// computes that from its own events. Everything else is
// outside the comparison but inside the device's busy time
// on both sides. Acceptance: per writer, iorca's share of the device
// (biotop's TIME%, own plus writeback plus journal) within 5 percentage
// points of the peer's; requests and bytes within 1 % (but see the
// buffered writers' split below). bpftrace starts before the collector,
// so the test also checks that the manifest names it as another tracer
// and that the report says what that does to the latencies.
func TestBpftraceCrossCheck(t *testing.T) {
	dev := workload.SlowDisk(t, 512, "noparallel,delay", "serialize=all-requests", "wdelay=2ms")
	bin := workload.RequireTool(t, "bpftrace")
	if err := os.WriteFile(filepath.Join("/sys/block", filepath.Base(dev), "queue/max_sectors_kb"), []byte("64"), 0o644); err != nil {
		t.Fatal(err)
	}
	mnt := workload.Ext4On(t, dev)
	workload.LimitDirty(t, dev, 8<<20)
	mountTracefs(t)

	// The direct writer's file is written once in full before the
	// capture, so that its writes overwrite allocated blocks.
	directFile := filepath.Join(mnt, "direct.img")
	workload.MustRun(t, "dd", "if=/dev/zero", "of="+directFile, "bs=1M", "count=32", "oflag=direct", "status=none")
	writers := map[string]*exec.Cmd{
		"direct":  workload.StartProgram(t, "direct", "--file", directFile, "--size", "65536", "--direct", "--rate", "25"),
		"dsync":   workload.StartProgram(t, "dsync", "--file", filepath.Join(mnt, "wal.log"), "--size", "512", "--sync", "odsync", "--rate", "20"),
		"bulk":    workload.StartProgram(t, "bulk", "--file", filepath.Join(mnt, "bulk.csv"), "--size", "65536", "--sync", "none", "--rate", "64"),
		"trickle": workload.StartProgram(t, "trickle", "--file", filepath.Join(mnt, "trickle.csv"), "--size", "65536", "--sync", "none", "--rate", "24"),
	}
	time.Sleep(2 * time.Second) // past the first dirty pages

	peer := startPeer(t, bin, dev)
	cfg := livetest.Config(t, 10*time.Second)
	cfg.Strace = false
	cfg.SelectAfter = 2 * time.Second
	path := livetest.Capture(t, cfg, 0)
	reqs := peer.stop(t)
	// Where each file's blocks are, read now: every block written during
	// the capture was allocated by then, and none is freed (no file
	// shrinks). The journal is inode 8.
	var owners []extent
	for _, name := range []string{"bulk", "trickle"} {
		owners = append(owners, fileExtents(t, filepath.Join(mnt, name+".csv"), name)...)
	}
	owners = append(owners, journalExtents(t, dev, "dsync")...)

	man := manifestOf(t, path)
	bt := man.BlockTrace
	if bt == nil || bt.Start.MonoNS == 0 {
		t.Fatalf("the bundle has no block trace: %+v", bt)
	}
	// bpftrace attached before the collector: the manifest names it, and
	// the report says what it does to the latencies.
	named := false
	for _, o := range bt.OtherTracers {
		named = named || (o.PID == peer.cmd.Process.Pid && o.Comm == "bpftrace" && o.BPFProgs > 0)
	}
	if !named {
		t.Errorf("the manifest's block_trace.other_tracers %+v does not name bpftrace (PID %d)", bt.OtherTracers, peer.cmd.Process.Pid)
	}
	if _, md := reporttest.Analyze(t, path); !strings.Contains(md, fmt.Sprintf("PID %d bpftrace", peer.cmd.Process.Pid)) || !strings.Contains(md, "may read high") {
		t.Error("the report does not say bpftrace was attached and what it does to the latencies")
	}
	pidOf := map[int]string{}
	for name, c := range writers {
		pidOf[c.Process.Pid] = name
	}
	want := peerFigures(reqs, bt.Start.MonoNS, bt.End.MonoNS, func(r peerRequest) string {
		switch {
		case pidOf[r.pid] != "":
			return pidOf[r.pid]
		case strings.Contains(r.rwbs, "F"):
			return "dsync" // a cache flush with no data before it, for a commit
		}
		for _, e := range owners {
			if r.sector >= e.from && r.sector < e.to {
				return e.owner
			}
		}
		if strings.Contains(r.rwbs, "M") {
			return "dsync" // metadata written home after the commits
		}
		return "other"
	})
	got := biotopRows(t, path, filepath.Base(dev))
	ok := true
	var log strings.Builder
	fmt.Fprintf(&log, "peer over %d requests, %.1f ms busy (residence summed %.1f ms)\n", want.requests, want.busyNS/1e6, want.residenceNS/1e6)
	fmt.Fprintf(&log, "%-8s %22s %24s %22s %14s\n", "writer", "requests peer/iorca", "KiB peer/iorca", "time% peer/iorca", "residence%")
	for _, name := range []string{"direct", "dsync", "bulk", "trickle", "other"} {
		p := want.by[name]
		if p == nil {
			p = &peerShare{}
		}
		res := 100 * p.residenceNS / want.residenceNS
		share := 100 * p.heldNS / want.busyNS
		if name == "other" {
			fmt.Fprintf(&log, "%-8s %10.0f %11s %11.0f %12s %10.1f %11s %14.1f\n", name, p.requests, "", p.bytes/1024, "", share, "", res)
			continue
		}
		g, found := got[writers[name].Process.Pid]
		fmt.Fprintf(&log, "%-8s %10.0f %11.0f %11.0f %12.0f %10.1f %11.1f %14.1f\n", name, p.requests, g.Requests, p.bytes/1024, g.KiB, share, g.TimePct, res)
		if !found {
			t.Errorf("%s (PID %d): no biotop row on %s", name, writers[name].Process.Pid, filepath.Base(dev))
			ok = false
			continue
		}
		if d := g.TimePct - share; d > 5 || d < -5 {
			t.Errorf("%s: iorca gives it %.1f %% of the device's time, bpftrace %.1f %%", name, g.TimePct, share)
			ok = false
		}
		// iorca splits the flushers' requests among the buffered writers
		// by the pages writeback_single_inode says each inode had
		// written, over the whole trace, not request by request: a
		// flusher's chunk (to_write=1024 pages, 64 requests here) whose
		// requests straddle the end of the trace counts on one side only.
		// So each buffered writer is held to within one chunk, and the
		// two together to 1 %.
		slackReqs, slackKiB := 0.0, 0.0
		if name == "bulk" || name == "trickle" {
			slackReqs, slackKiB = 64, 4096
		}
		if !within(g.Requests, p.requests, 0.01) && !within(g.Requests, p.requests, slackReqs/p.requests) {
			t.Errorf("%s: iorca counts %.0f requests, bpftrace %.0f", name, g.Requests, p.requests)
			ok = false
		}
		if !within(g.KiB, p.bytes/1024, 0.01) && !within(g.KiB, p.bytes/1024, slackKiB/(p.bytes/1024)) {
			t.Errorf("%s: iorca counts %.0f KiB, bpftrace %.0f", name, g.KiB, p.bytes/1024)
			ok = false
		}
	}
	pb, pw := want.by["bulk"], want.by["trickle"]
	gb, gw := got[writers["bulk"].Process.Pid], got[writers["trickle"].Process.Pid]
	if pb != nil && pw != nil && (!within(gb.Requests+gw.Requests, pb.requests+pw.requests, 0.01) || !within(gb.KiB+gw.KiB, (pb.bytes+pw.bytes)/1024, 0.01)) {
		t.Errorf("the buffered writers together: iorca %.0f requests, %.0f KiB; bpftrace %.0f, %.0f", gb.Requests+gw.Requests, gb.KiB+gw.KiB, pb.requests+pw.requests, (pb.bytes+pw.bytes)/1024)
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("per writer on %s:\n%s", filepath.Base(dev), log.String())
	}
}

// within reports whether got is within frac of want (and at most one
// apart, for small counts).
func within(got, want, frac float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	return d <= frac*want || d <= 1
}

// peerScript is the bpftrace program: per request of the device $1 (the
// kernel's dev_t, MAJOR<<20|MINOR), one line at its completion with its
// issue and completion times (CLOCK_MONOTONIC, as the collector's trace
// clock), its service by the in-order rule (from its issue or the previous
// completion, whichever is later), its bytes, the process and thread name
// that issued it, the inode a flusher was writing when it issued it, and
// its RWBS.
const peerScript = `
BEGIN { @last = nsecs; @fin = 0; @fout = 0; printf("ready\n"); }
tracepoint:block:block_rq_issue /args->dev == $1 && args->nr_sector > 0/ {
	@issued[args->sector] = nsecs;
	@pid[args->sector] = pid;
	@comm[args->sector] = comm;
	@bytes[args->sector] = args->bytes;
}
tracepoint:block:block_rq_complete /args->dev == $1 && args->nr_sector > 0 && @issued[args->sector] != 0/ {
	$s = args->sector;
	$from = @issued[$s];
	if (@last > $from) { $from = @last; }
	printf("rq %llu %llu %llu %u %d %llu %s %s\n", @issued[$s], nsecs, nsecs - $from, @bytes[$s], @pid[$s], $s, @comm[$s], args->rwbs);
	@last = nsecs;
	delete(@issued[$s]); delete(@pid[$s]); delete(@comm[$s]); delete(@bytes[$s]);
}
tracepoint:block:block_rq_issue /args->dev == $1 && args->nr_sector == 0/ {
	@fin = @fin + 1;
	@fissued[@fin] = nsecs;
	@fpid[@fin] = pid;
	@fcomm[@fin] = comm;
}
tracepoint:block:block_rq_complete /args->dev == $1 && args->nr_sector == 0 && @fout < @fin/ {
	@fout = @fout + 1;
	$n = @fout;
	$from = @fissued[$n];
	if (@last > $from) { $from = @last; }
	printf("rq %llu %llu %llu 0 %d 0 %s %s\n", @fissued[$n], nsecs, nsecs - $from, @fpid[$n], @fcomm[$n], args->rwbs);
	@last = nsecs;
	delete(@fissued[$n]); delete(@fpid[$n]); delete(@fcomm[$n]);
}
END {
	clear(@issued); clear(@pid); clear(@comm); clear(@bytes); clear(@last);
	clear(@fissued); clear(@fpid); clear(@fcomm); clear(@fin); clear(@fout);
}
`

// peer is a running bpftrace.
type peer struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// startPeer starts bpftrace on dev and waits until its probes are
// attached; it is stopped when the test ends, even if it fails.
func startPeer(t *testing.T, bin, dev string) *peer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/sys/class/block", filepath.Base(dev), "dev"))
	if err != nil {
		t.Fatal(err)
	}
	var major, minor uint64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &major, &minor); err != nil {
		t.Fatalf("%s/dev: %v", dev, err)
	}
	p := &peer{cmd: exec.Command(bin, "-B", "line", "-e", peerScript, strconv.FormatUint(major<<20|minor, 10)), done: make(chan struct{})}
	var stderr bytes.Buffer
	p.cmd.Stderr = &stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	ready := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				continue
			}
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		p.cmd.Wait()
	}()
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("bpftrace exited before attaching its probes: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("bpftrace did not attach its probes within 30 s: %s", stderr.String())
	}
	return p
}

// peerRequest is one request as bpftrace saw it.
type peerRequest struct {
	issueNS, completeNS, heldNS int64
	bytes                       int64
	pid                         int
	sector                      int64
	comm, rwbs                  string
}

// stop interrupts bpftrace and parses what it printed.
func (p *peer) stop(t *testing.T) []peerRequest {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("bpftrace did not exit within 20 s of SIGINT")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []peerRequest
	for _, l := range strings.Split(p.out.String(), "\n") {
		f := strings.Fields(l)
		if len(f) != 9 || f[0] != "rq" {
			continue
		}
		var r peerRequest
		var err error
		nums := []*int64{&r.issueNS, &r.completeNS, &r.heldNS, &r.bytes}
		for i, n := range nums {
			if *n, err = strconv.ParseInt(f[1+i], 10, 64); err != nil {
				t.Fatalf("bpftrace line %q: field %d: %v", l, 2+i, err)
			}
		}
		r.pid, _ = strconv.Atoi(f[5])
		r.sector, _ = strconv.ParseInt(f[6], 10, 64)
		r.comm, r.rwbs = f[7], f[8]
		out = append(out, r)
	}
	if len(out) == 0 {
		t.Fatalf("bpftrace printed no request:\n%s", p.out.String())
	}
	return out
}

// peerShare is one cause's figures on the peer's side.
type peerShare struct {
	requests, bytes, heldNS, residenceNS float64
}

// peerTotals are the device's figures on the peer's side.
type peerTotals struct {
	requests            int
	busyNS, residenceNS float64
	by                  map[string]*peerShare
}

// peerFigures sums the requests issued and completed within [fromNS,
// toNS] by cause.
func peerFigures(reqs []peerRequest, fromNS, toNS int64, owner func(peerRequest) string) peerTotals {
	out := peerTotals{by: map[string]*peerShare{}}
	var in []peerRequest
	for _, r := range reqs {
		if r.issueNS >= fromNS && r.completeNS <= toNS {
			in = append(in, r)
		}
	}
	// A cache flush forces out the data written since the device's
	// previous flush: it is charged to that data's owners by bytes
	// (README, how each kind of request is charged); one with nothing
	// before it goes to its owner as a request of its own.
	sort.SliceStable(in, func(i, j int) bool { return in[i].issueNS < in[j].issueNS })
	since := map[string]float64{}
	for _, r := range in {
		weights := map[string]float64{owner(r): 1}
		if strings.Contains(r.rwbs, "F") {
			if len(since) > 0 {
				var total float64
				for _, b := range since {
					total += b
				}
				weights = map[string]float64{}
				for o, b := range since {
					weights[o] = b / total
				}
				since = map[string]float64{}
			}
		} else if strings.Contains(r.rwbs, "W") {
			since[owner(r)] += float64(r.bytes)
		}
		for c, w := range weights {
			sh := out.by[c]
			if sh == nil {
				sh = &peerShare{}
				out.by[c] = sh
			}
			sh.requests += w
			sh.bytes += w * float64(r.bytes)
			sh.heldNS += w * float64(r.heldNS)
			sh.residenceNS += w * float64(r.completeNS-r.issueNS)
		}
		out.requests++
		out.busyNS += float64(r.heldNS)
		out.residenceNS += float64(r.completeNS - r.issueNS)
	}
	return out
}

// biotopRow is one process's row of the replayed biotop, as a user reads
// it in JSON.
type biotopRow struct {
	Disk     string  `json:"disk"`
	PID      int     `json:"pid"`
	Comm     string  `json:"comm"`
	Requests float64 `json:"io"`
	KiB      float64 `json:"kbytes"`
	TimePct  float64 `json:"time_pct"`
}

// biotopRows is `iorca replay BUNDLE biotop --summary --format json` for
// one disk, by PID.
func biotopRows(t *testing.T, path, disk string) map[int]biotopRow {
	t.Helper()
	var out, errb bytes.Buffer
	if code := reporttest.Iorca([]string{"replay", path, "biotop", "--summary", "--format", "json"}, &out, &errb); code != 0 {
		t.Fatalf("replay biotop: exit %d: %s", code, errb.String())
	}
	var doc struct {
		Blocks []struct {
			Rows []biotopRow `json:"rows"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("replay biotop JSON: %v", err)
	}
	rows := map[int]biotopRow{}
	for _, b := range doc.Blocks {
		for _, r := range b.Rows {
			if r.Disk == disk {
				rows[r.PID] = r
			}
		}
	}
	return rows
}

// manifestOf is the bundle's manifest.json, as the bundle reader
// decodes it.
func manifestOf(t *testing.T, path string) *bundle.Manifest {
	t.Helper()
	b, err := bundle.ReadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return b.Manifest
}

// extent is a run of sectors [from, to) of the device and whose data it
// holds.
type extent struct {
	from, to int64
	owner    string
}

// fileExtents is where a file's blocks are on its device, by filefrag
// (FIEMAP), in 512-byte sectors.
func fileExtents(t *testing.T, path, owner string) []extent {
	t.Helper()
	out := workload.MustRun(t, "filefrag", "-e", path)
	// "File size of X is N (M blocks of 4096 bytes)", then per extent
	// "  0:  0.. 2047:  34816.. 36863:  2048: ..." in those blocks.
	var block int64
	if m := regexp.MustCompile(`blocks? of (\d+) bytes`).FindStringSubmatch(out); m != nil {
		block, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if block == 0 {
		t.Fatalf("filefrag %s: no block size in:\n%s", path, out)
	}
	var exts []extent
	for _, m := range regexp.MustCompile(`(?m)^\s*\d+:\s*\d+\.\.\s*\d+:\s*(\d+)\.\.\s*(\d+):`).FindAllStringSubmatch(out, -1) {
		a, _ := strconv.ParseInt(m[1], 10, 64)
		b, _ := strconv.ParseInt(m[2], 10, 64)
		if a == 0 {
			continue // delayed allocation: no block yet
		}
		exts = append(exts, extent{from: a * block / 512, to: (b + 1) * block / 512, owner: owner})
	}
	if len(exts) == 0 {
		t.Fatalf("filefrag %s: no extent in:\n%s", path, out)
	}
	return exts
}

// journalExtents is where ext4's journal (inode 8) is on dev, by debugfs,
// in 512-byte sectors.
func journalExtents(t *testing.T, dev, owner string) []extent {
	t.Helper()
	block, err := strconv.ParseInt(strings.TrimSpace(regexp.MustCompile(`Block size:\s*(\d+)`).FindStringSubmatch(workload.MustRun(t, "dumpe2fs", "-h", dev) + "Block size: 0")[1]), 10, 64)
	if err != nil || block == 0 {
		t.Fatalf("dumpe2fs -h %s: no block size", dev)
	}
	// -c (catastrophic mode) reads no bitmaps: a mounted filesystem
	// changes them under debugfs, which then refuses to open it.
	out := workload.MustRun(t, "debugfs", "-c", "-R", "stat <8>", dev)
	var exts []extent
	// "(0-4095):1081344-1085439", or "(0):1081344" for one block.
	for _, m := range regexp.MustCompile(`\([\d-]+\):(\d+)(?:-(\d+))?`).FindAllStringSubmatch(out, -1) {
		a, _ := strconv.ParseInt(m[1], 10, 64)
		b := a
		if m[2] != "" {
			b, _ = strconv.ParseInt(m[2], 10, 64)
		}
		exts = append(exts, extent{from: a * block / 512, to: (b + 1) * block / 512, owner: owner})
	}
	if len(exts) == 0 {
		t.Fatalf("debugfs stat <8> on %s: no extent in:\n%s", dev, out)
	}
	return exts
}

// mountTracefs mounts tracefs at /sys/kernel/tracing for bpftrace when it
// is not mounted there, and unmounts it when the test ends only if it
// mounted it.
func mountTracefs(t *testing.T) {
	t.Helper()
	const dir = "/sys/kernel/tracing"
	if _, err := os.Stat(filepath.Join(dir, "events")); err == nil {
		return
	}
	if err := syscall.Mount("nodev", dir, "tracefs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		t.Fatalf("mount tracefs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		for i := 0; ; i++ {
			err := syscall.Unmount(dir, 0)
			if err == nil || i == 50 {
				if err != nil {
					t.Errorf("unmount tracefs %s: %v", dir, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
