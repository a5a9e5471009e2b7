package collector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/nodestate"
	"github.com/iorca/iorca/samples/workload"
)

func delayAcct(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(nodestate.DelayAcctPath)
	if err != nil {
		t.Skipf("no %s: %v", nodestate.DelayAcctPath, err)
	}
	return strings.TrimSpace(string(b))
}

// A collection with the block trace: the trace and the event formats are
// in the bundle, the quiet synchronous writer is picked for the device time
// it holds, kernel.task_delayacct is on during the run and as it was after,
// and an interrupted run stops the trace too and leaves no instance.
func TestCollectionBlockTrace(t *testing.T) {
	workload.Live(t)
	mnt, _ := workload.LoopExt4(t, 64)
	w := workload.StartWriter(t, "--file", filepath.Join(mnt, "j.log"), "--size", "512", "--sync", "odsync", "--rate", "100")
	before := delayAcct(t)

	cfg := testConfig(t)
	cfg.BlockTrace, cfg.BlockTraceDuration, cfg.BlockTraceMaxBytes, cfg.SetDelayAcct = true, 10*time.Second, 16<<20, true
	cfg.Strace = false
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := readBundle(t, res.Path)
	bt := b.Manifest.BlockTrace
	if bt == nil || bt.Status != bundle.StatusOK || bt.StopReason != "collection-end" || bt.Lines == 0 {
		t.Fatalf("block trace %+v", bt)
	}
	if data, ok := b.Member(bundle.BlockTraceMember); !ok || !strings.Contains(string(data), "block_rq_issue") {
		t.Error("no block trace member with block_rq_issue")
	}
	if _, ok := b.Member(bundle.TraceFormatsMember); !ok {
		t.Error("no event formats member")
	}
	da := b.Manifest.DelayAcct
	if da == nil || da.Before != before || da.Enabled != (before == "0") || (da.Enabled && !da.Restored) {
		t.Errorf("delayacct %+v, found %q", da, before)
	}
	if after := delayAcct(t); after != before {
		t.Errorf("kernel.task_delayacct is %s after the run, %s before", after, before)
	}
	tg := findTarget(b.Manifest, w.Process.Pid)
	if tg == nil || !strings.Contains(strings.Join(tg.Reasons, " "), "device time") {
		t.Errorf("the synchronous writer is not a target for its device time: %+v", tg)
	}

	cfg.Output = filepath.Join(t.TempDir(), "interrupted.tar.zst")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b = readBundle(t, res.Path)
	if bt := b.Manifest.BlockTrace; bt == nil || bt.StopReason != "interrupted" || !b.Manifest.Partial {
		t.Errorf("interrupted run: partial %v, block trace %+v", b.Manifest.Partial, bt)
	}
	if left, _ := filepath.Glob("/sys/kernel/tracing/instances/iorca-*"); len(left) > 0 {
		t.Errorf("instances left behind: %v", left)
	}
	if after := delayAcct(t); after != before {
		t.Errorf("kernel.task_delayacct is %s after an interrupted run, %s before", after, before)
	}
}

// A block trace too large for the bundle is cut to its beginning, and the
// manifest says so.
func TestBlockTraceCutToFit(t *testing.T) {
	workload.Live(t)
	mnt, _ := workload.LoopExt4(t, 64)
	workload.StartWriter(t, "--file", filepath.Join(mnt, "j.log"), "--size", "512", "--sync", "odsync")
	cfg := testConfig(t)
	cfg.Strace = false
	cfg.BlockTrace, cfg.BlockTraceDuration, cfg.BlockTraceMaxBytes = true, 10*time.Second, 32<<20
	cfg.MaxBundleBytes = 256 << 10
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(res.Path); st.Size() > cfg.MaxBundleBytes {
		t.Fatalf("bundle %d bytes over the bound %d", st.Size(), cfg.MaxBundleBytes)
	}
	b := readBundle(t, res.Path)
	bt := b.Manifest.BlockTrace
	data, _ := b.Member(bundle.BlockTraceMember)
	if bt == nil || !bt.Truncated || bt.Bytes != int64(len(data)) {
		t.Errorf("block trace after fitting: %+v, member %d bytes", bt, len(data))
	}
	var dropped []string
	for _, bd := range b.Manifest.Bounds {
		dropped = append(dropped, bd.Dropped...)
	}
	if !strings.Contains(strings.Join(dropped, " "), bundle.BlockTraceMember) {
		t.Errorf("the cut is not in the manifest's bounds: %+v", b.Manifest.Bounds)
	}
}
