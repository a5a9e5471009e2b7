package accounting

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/analyze/window"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 21, item 1: waiting is not load. A latency-sensitive reader (4 KiB
// O_DIRECT reads, 100 a second, 2 ms each on the idle disk) shares a slow
// disk with an O_DSYNC appender whose writes take 20 ms. The reader's own
// demand is about 100 × 2 ms, a fifth of the device; the rest of its
// requests' residence is time queued behind the appender's. The appender
// is the culprit; the reader holds little of the device's time and is
// named as a victim, with how long its requests waited and behind whom.
func TestWaitIsNotLoad(t *testing.T) {
	slow := workload.SlowDisk(t, 256, "delay", "wdelay=20ms", "rdelay=2ms")
	mnt := workload.Ext4On(t, slow)
	data := filepath.Join(mnt, "index.dat")
	workload.MustRun(t, "dd", "if=/dev/zero", "of="+data, "bs=1M", "count=16", "oflag=direct", "status=none")
	reader := workload.StartProgram(t, "lookup", "--file", data, "--size", "4096", "--read", "--direct", "--rate", "100")
	appender := workload.StartProgram(t, "appender", "--file", filepath.Join(mnt, "events.log"), "--size", "512", "--sync", "odsync")
	cfg := livetest.Config(t, 8*time.Second)
	cfg.SelectAfter = 3 * time.Second
	path := livetest.Capture(t, cfg, 0)
	r, md := reporttest.Analyze(t, path)
	ok := true
	if c := r.Verdict.Culprit; c == nil || c.PID != appender.Process.Pid {
		t.Errorf("culprit %+v, want the appender %d", c, appender.Process.Pid)
		ok = false
	}
	if strings.Contains(r.Verdict.Summary, "But ") {
		t.Errorf("the verdict calls the reader a rival: %s", r.Verdict.Summary)
		ok = false
	}
	// The reader's load is its own demand, not its residence.
	m := livetest.Load(t, path)
	w := window.New(m, window.Defaults())
	dev := filepath.Base(slow)
	dt := w.DeviceTimes[dev]
	if dt == nil {
		t.Fatalf("no device time for %s", dev)
	}
	rs, as := dt.Find(reader.Process.Pid), dt.Find(appender.Process.Pid)
	if rs == nil || as == nil || rs.Requests == 0 {
		t.Fatalf("reader share %+v, appender share %+v", rs, as)
	}
	load := dt.Fraction(rs)
	if load*100 >= w.Thresholds.DeviceSharePct || load >= dt.Fraction(as)/2 {
		t.Errorf("the reader holds %.0f %% of %s against the appender's %.0f %%", load*100, dev, dt.Fraction(as)*100)
		ok = false
	}
	// Its requests spent most of their residence waiting.
	if wait, res := rs.MeanWaitMS(), rs.Latency.MeanMS(); wait < res/2 {
		t.Errorf("the reader's requests took %.1f ms, of which only %.1f ms waiting", res, wait)
		ok = false
	}
	var victim bool
	for _, f := range r.Findings {
		if f.ID != "io-victims" {
			continue
		}
		for _, pid := range f.Subjects.PIDs {
			victim = victim || pid == reader.Process.Pid
		}
	}
	if !victim || !strings.Contains(r.Verdict.Summary, "waiting behind the requests of PID "+strconv.Itoa(appender.Process.Pid)) {
		t.Errorf("the reader is not named as a victim waiting behind the appender")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("reader: %d requests, %.1f ms each, %.1f ms waiting, %.0f %% of the device; appender %.0f %%\nreport:\n%s",
			rs.Requests, rs.Latency.MeanMS(), rs.MeanWaitMS(), load*100, dt.Fraction(as)*100, md)
	}
}
