package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/analyze/internal/livetest"
	"github.com/iorca/iorca/analyze/internal/reporttest"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/collector"
	"github.com/iorca/iorca/collect/trigger"
	"github.com/iorca/iorca/samples/workload"
)

// Issue 13: the flight recorder catches an incident as it starts. The
// recorder samples a node whose slow disk (nbdkit, 10 ms a write, under a
// loop device) is idle; a few seconds in, a writer starts making small
// synchronous writes to it, which keeps it busy. The trigger on that
// disk's %util and await fires; the bundle holds the quiet seconds before
// the writer started, then the capture proper. The verdict's onset is
// within one interval of the writer's real start, names the writer as
// what changed, and computes the findings over the incident.
func TestTriggerCatchesOnset(t *testing.T) {
	dev := workload.SlowDisk(t, 256, "delay", "wdelay=10ms")
	mnt := workload.Ext4On(t, dev)
	name := filepath.Base(dev)
	expr, err := trigger.Parse(fmt.Sprintf("dev=%s:util>60,await>5", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg := livetest.Config(t, 5*time.Second)
	cfg.Trigger, cfg.TriggerFor, cfg.Wait = expr, 2, 60*time.Second
	cfg.Record, cfg.RecordBytes = 8*time.Second, 16<<20

	type result struct {
		res *collector.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := collector.Run(context.Background(), cfg)
		done <- result{res, err}
	}()
	// The quiet baseline: the recorder samples the idle disk for 7 s (its
	// first tick comes after the collector's start-up).
	time.Sleep(7 * time.Second)
	started := time.Now()
	workload.StartProgram(t, "orders-db", "--file", filepath.Join(mnt, "orders.wal"), "--size", "4096", "--sync", "odsync", "--max-bytes", "64MiB")
	out := <-done
	if out.err != nil {
		t.Fatalf("collector: %v", out.err)
	}
	m := out.res.Manifest
	cs := m.Capture
	if cs == nil || cs.How != bundle.StartTrigger || cs.Trigger == nil || !cs.Trigger.Fired || cs.Record == nil {
		t.Fatalf("the capture did not start on the trigger: %+v", cs)
	}
	if len(cs.Trigger.Intervals) != 2 || cs.Trigger.Intervals[1].Device != name {
		t.Errorf("the trigger fired on %+v, want two intervals of %s", cs.Trigger.Intervals, name)
	}
	if lead := started.Sub(m.Start.Wall); lead < 4*time.Second {
		t.Errorf("the bundle starts %v before the writer, want the recorder's quiet seconds (4 s or more)", lead)
	}
	if at := cs.Trigger.At.Wall.Sub(started); at < 0 || at > 6*time.Second {
		t.Errorf("the trigger fired %v after the writer started", at)
	}

	r, md := reporttest.Analyze(t, out.res.Path)
	ok := true
	o := r.Verdict.Onset
	interval := time.Duration(m.Options.Interval)
	switch {
	case o == nil:
		t.Error("the verdict has no onset")
		ok = false
	case o.UnderWay:
		t.Errorf("the onset says the incident was under way at the start, though the writer started %v after it", started.Sub(m.Start.Wall))
		ok = false
	default:
		// The onset tick ends the first interval that held: the writer
		// started in that interval, so the tick is at most one interval
		// after its start (and a little for the writer's exec).
		if d := o.Time.Sub(started); d < 0 || d > interval+300*time.Millisecond {
			t.Errorf("onset at %s, %v after the writer started at %s; want within one interval (%v)", o.Time.Format("15:04:05.000"), d, started.Format("15:04:05.000"), interval)
			ok = false
		}
		if !strings.Contains(strings.Join(o.Changes, " "), "orders-db") {
			t.Errorf("what changed at the onset does not name the writer: %q", o.Changes)
			ok = false
		}
		if o.BaselineSeconds < 3 || o.WindowFrom == 0 {
			t.Errorf("baseline %.1f s, findings from tick %d: want the quiet seconds as baseline and the findings over the incident", o.BaselineSeconds, o.WindowFrom)
			ok = false
		}
	}
	if tr := r.Verdict.Trigger; tr == nil || tr.Expression != expr.Text || tr.Tick != cs.Trigger.Tick {
		t.Errorf("the verdict's trigger %+v, want %q at tick %d", tr, expr.Text, cs.Trigger.Tick)
		ok = false
	}
	if c := r.Verdict.Culprit; c == nil || c.Comm != "orders-db" {
		t.Errorf("culprit %+v, want orders-db", c)
		ok = false
	}
	var tl, tlErr bytes.Buffer
	if code := reporttest.Iorca([]string{"replay", out.res.Path, "timeline"}, &tl, &tlErr); code != 0 {
		t.Errorf("replay timeline: exit %d: %s", code, tlErr.String())
	} else if o != nil && !timelineHas(tl.String(), o.Tick, "onset") || !timelineHas(tl.String(), cs.Trigger.Tick, "trigger "+expr.Text+" fired") {
		t.Errorf("the timeline does not mark the onset at tick %d and the trigger at tick %d:\n%s", o.Tick, cs.Trigger.Tick, tl.String())
		ok = false
	}
	var page, pageErr bytes.Buffer
	if code := reporttest.Iorca([]string{"report", "--format", "html", out.res.Path}, &page, &pageErr); code != 0 {
		t.Errorf("html report: exit %d: %s", code, pageErr.String())
	} else if h := page.String(); !strings.Contains(h, `class="mark"`) || !strings.Contains(h, ">onset</text>") || !strings.Contains(h, ">trigger</text>") {
		t.Error("the HTML report's charts do not mark the onset and the trigger")
		ok = false
	}
	if !strings.Contains(md, "**When it began:**") || !strings.Contains(md, "**Trigger:**") {
		t.Error("the Markdown report says neither when it began nor what triggered it")
		ok = false
	}
	if !ok || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}

// timelineHas reports whether the timeline's line for tick carries mark.
func timelineHas(timeline string, tick int, mark string) bool {
	for _, line := range strings.Split(timeline, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == fmt.Sprint(tick) && strings.Contains(line, mark) {
			return true
		}
	}
	return false
}
