package blocktrace

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/iorca/iorca/internal/ftrace"
	"github.com/iorca/iorca/samples/workload"
)

// The decoder against the kernel: two instances with the same events at
// once, one read as trace_pipe's text, one as raw pages decoded; over the
// span both cover, their lines parse to the same events, but for events
// either lost.
func TestRawDecoderMatchesTracePipe(t *testing.T) {
	workload.Live(t)
	raw, text, mnt := twinTracers(t, 300, 4096)
	// Buffered writes and their writeback, besides the synchronous ones.
	for i := 0; i < 3; i++ {
		workload.MustRun(t, "dd", "if=/dev/zero", "of="+filepath.Join(mnt, fmt.Sprintf("f%d", i)), "bs=64k", "count=64", "conv=fsync", "status=none")
		time.Sleep(300 * time.Millisecond)
	}
	exec.Command("sync").Run()
	time.Sleep(500 * time.Millisecond)
	rr, tr := raw.Stop("collection-end"), text.Stop("collection-end")
	if rr.Info.Reader != "trace_pipe_raw" || tr.Info.Reader != "trace_pipe" {
		t.Fatalf("readers %q (%s) and %q", rr.Info.Reader, rr.Info.ReaderFallback, tr.Info.Reader)
	}
	re := sameEvents(t, output(t, rr), output(t, tr), rr.Info.Overruns+tr.Info.Overruns)
	names := map[string]bool{}
	for _, e := range re {
		names[e.Name] = true
	}
	for _, n := range []string{"block_rq_issue", "block_rq_complete", "writeback_dirty_folio", "jbd2_end_commit"} {
		if !names[n] {
			t.Errorf("no %s decoded: %v", n, names)
		}
	}
}

// sameEvents checks that the lines decoded from raw pages parse to the
// events of trace_pipe's text over the span both cover, but for events
// lost, and returns the decoded events.
func sameEvents(t *testing.T, raw, text []byte, lost int64) []ftrace.Event {
	t.Helper()
	re, te := events(t, raw), events(t, text)
	if len(re) < 100 || len(te) < 100 {
		t.Fatalf("too few events to compare: %d raw, %d text", len(re), len(te))
	}
	// The span both instances traced, less its edges: one instance
	// starts and stops a moment after the other.
	from, to := max(re[0].TimeNS, te[0].TimeNS)+50e6, min(re[len(re)-1].TimeNS, te[len(te)-1].TimeNS)-50e6
	// The times of the events of each key, in order.
	count := func(es []ftrace.Event) map[string][]int64 {
		m := map[string][]int64{}
		for _, e := range es {
			if e.TimeNS >= from && e.TimeNS <= to {
				m[key(e)] = append(m[key(e)], e.TimeNS)
			}
		}
		return m
	}
	rm, tm := count(re), count(te)
	missing, extra, far, logged, maxDelta := 0, 0, 0, 0, int64(0)
	for k, tt := range tm {
		rt := rm[k]
		// Each instance stamps an event when it writes it to its own
		// buffer, a moment apart: the same event's time may differ by a
		// microsecond or so between the two (more when an interrupt
		// comes between the two writes).
		for i := 0; i < min(len(tt), len(rt)); i++ {
			d := max(tt[i]-rt[i], rt[i]-tt[i])
			maxDelta = max(maxDelta, d)
			if d > 1e6 {
				far++
			}
		}
		if d := len(tt) - len(rt); d > 0 {
			missing += d
		} else {
			extra -= d
		}
		if len(tt) != len(rt) && logged < 10 {
			logged++
			t.Logf("%d in text, %d in raw: %s", len(tt), len(rt), k)
		}
	}
	for k, rt := range rm {
		if _, ok := tm[k]; !ok {
			extra += len(rt)
			if logged < 10 {
				logged++
				t.Logf("in raw only: %s", k)
			}
		}
	}
	// Where trace_pipe named a task, the decoder names it the same.
	named := map[int]string{}
	for _, e := range te {
		if e.Comm != "<...>" {
			named[e.PID] = e.Comm
		}
	}
	for _, e := range re {
		if c, ok := named[e.PID]; ok && c != e.Comm {
			t.Errorf("pid %d is %q in the text, %q decoded", e.PID, c, e.Comm)
			break
		}
	}
	t.Logf("%d raw and %d text events; in the span both cover, %d in text only, %d in raw only, %d more than 1ms apart (at most %dns); %d lost", len(re), len(te), missing, extra, far, maxDelta, lost)
	// Two instances record each event apart, and once in a CI run an
	// O_DSYNC writer's page dirtied 300 times a second was one event
	// short in the text instance (2 in raw 2.9 ms apart, 1 in text, no
	// overrun counted): a presence difference of one event in ten
	// thousand is the instances', not the decoder's, whose every line is
	// compared above.
	if int64(missing+extra) > 2*lost+int64(len(re)/10000) || far > len(re)/100 {
		t.Errorf("raw and text differ by %d events (%d lost), %d far apart in time", missing+extra, lost, far)
	}
	return re
}

// twinTracers starts a synchronous writer of rate writes a second on an
// ext4 of its own, then a text and a raw tracer (instances of their own
// names, buffers of bufferKB), stopped and removed at the test's end.
func twinTracers(t *testing.T, rate, bufferKB int) (raw, text *Tracer, mnt string) {
	mnt, _ = workload.LoopExt4(t, 64)
	workload.StartWriter(t, "--file", filepath.Join(mnt, "j.log"), "--size", "512", "--sync", "odsync", "--rate", strconv.Itoa(rate))
	cfg := func(name string, text bool) Config {
		return Config{Duration: 10 * time.Second, MaxBytes: 64 << 20, BufferKB: bufferKB, Mountinfo: mountinfo(t),
			Instance: fmt.Sprintf("iorca-test-%d-%s", os.Getpid(), name), Text: text, SpillDirs: []string{t.TempDir()}}
	}
	text = Start(cfg("text", true))
	t.Cleanup(text.Close)
	raw = Start(cfg("raw", false))
	t.Cleanup(raw.Close)
	return raw, text, mnt
}

func events(t *testing.T, b []byte) []ftrace.Event {
	t.Helper()
	var out []ftrace.Event
	for _, l := range bytes.Split(b, []byte("\n")) {
		if e, ok := ftrace.ParseLine(l); ok {
			out = append(out, e)
		}
	}
	return out
}

// age= is printed as of reading by trace_pipe and as of the event by the
// decoder; a task the kernel no longer names ("<...>") may be named from
// /proc by the decoder.
var ageField = regexp.MustCompile(`age=\d+ `)

// The process (TGID) is left out: where the kernel's saved_tgids has no
// entry for a thread, trace_pipe prints none and the decoder takes it from
// /proc (a documented difference; a CI run saw 44 events of an exited dd
// differ so).
func key(e ftrace.Event) string {
	return fmt.Sprintf("%d [%d] %s: %s", e.PID, e.CPU, e.Name, ageField.ReplaceAll(e.Fields, []byte("age=? ")))
}
