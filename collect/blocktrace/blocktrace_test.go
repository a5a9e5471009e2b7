package blocktrace

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/samples/workload"
)

func TestMain(m *testing.M) { workload.RunTests(m) }

// tracefsMounts lists where tracefs is mounted now.
func tracefsMounts(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 8 && strings.Contains(l, " - tracefs ") {
			out = append(out, f[4])
		}
	}
	return out
}

// output is a result's whole text.
func output(t *testing.T, res Result) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Text())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mountinfo(t *testing.T) []byte {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// syncWriter makes block requests in its own context for the trace to see.
func syncWriter(t *testing.T) {
	mnt, _ := workload.LoopExt4(t, 64)
	workload.StartWriter(t, "--file", filepath.Join(mnt, "j.log"), "--size", "512", "--sync", "odsync", "--rate", "200")
}

// A capture leaves tracefs as it found it: not mounted stays not mounted,
// mounted by someone else stays mounted, and the private instance is gone.
func TestCaptureLeavesTracefsAsFound(t *testing.T) {
	workload.Live(t)
	syncWriter(t)
	for _, premounted := range []bool{false, true} {
		name := "not-mounted"
		if premounted {
			name = "mounted"
		}
		t.Run(name, func(t *testing.T) {
			for _, mp := range tracefsMounts(t) {
				if err := exec.Command("umount", mp).Run(); err != nil {
					t.Skipf("tracefs is mounted at %s and busy: not this test's to unmount", mp)
				}
			}
			if premounted {
				workload.MustRun(t, "mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing")
				t.Cleanup(func() { exec.Command("umount", "/sys/kernel/tracing").Run() })
			}
			before := tracefsMounts(t)
			tr := Start(Config{Duration: 5 * time.Second, MaxBytes: 8 << 20, BufferKB: 1024, Mountinfo: mountinfo(t)})
			time.Sleep(1500 * time.Millisecond)
			res := tr.Stop("collection-end")
			if res.Info.Status != bundle.StatusOK || res.Info.StopReason != "collection-end" || res.Info.MountedTracefs == premounted {
				t.Errorf("info %+v", res.Info)
			}
			if !strings.Contains(string(output(t, res)), "block_rq_complete") || res.Info.Lines == 0 || !strings.Contains(string(res.Formats), "events/block/block_rq_issue/format") {
				t.Errorf("trace of %d lines has no completion, or formats missing:\n%.300s", res.Info.Lines, output(t, res))
			}
			// Requeues are traced so that a request issued twice is one
			// request (the analyzer's matcher); this kernel has the event.
			if !slices.Contains(res.Info.Events, "block/block_rq_requeue") || !strings.Contains(string(res.Formats), "events/block/block_rq_requeue/format") {
				t.Errorf("block_rq_requeue not enabled: events %v, missing %v", res.Info.Events, res.Info.Missing)
			}
			if after := tracefsMounts(t); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("tracefs mounts %v after, %v before", after, before)
			}
			if premounted {
				if _, err := os.Stat(filepath.Join("/sys/kernel/tracing/instances", res.Info.Instance)); !os.IsNotExist(err) {
					t.Errorf("instance %s left behind: %v", res.Info.Instance, err)
				}
			}
			if again := tr.Stop("interrupted"); again.Info.StopReason != "collection-end" {
				t.Errorf("a second Stop changed the result: %+v", again.Info)
			}
		})
	}
}

// The byte bound stops the capture at a whole line and says so; the time
// bound stops it on its own.
func TestCaptureBounds(t *testing.T) {
	workload.Live(t)
	syncWriter(t)
	tr := Start(Config{Duration: 10 * time.Second, MaxBytes: 64 << 10, BufferKB: 1024, Mountinfo: mountinfo(t)})
	deadline := time.Now().Add(8 * time.Second)
	for tr.Running() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	res := tr.Stop("collection-end")
	if res.Info.StopReason != "max-bytes" || !res.Info.Truncated || res.Info.RawBytes > 64<<10 || (res.Info.Reader == "trace_pipe" && res.Info.Bytes > 64<<10) || res.Info.Status != bundle.StatusPartial {
		t.Errorf("byte bound: %+v", res.Info)
	}
	if n := len(output(t, res)); n > 0 && output(t, res)[n-1] != '\n' {
		t.Error("the cut trace ends in the middle of a line")
	}
	tr = Start(Config{Duration: 500 * time.Millisecond, MaxBytes: 8 << 20, BufferKB: 1024, Mountinfo: mountinfo(t)})
	time.Sleep(1500 * time.Millisecond)
	if tr.Running() {
		t.Error("still reading after its duration")
	}
	if res := tr.Stop("collection-end"); res.Info.StopReason != "duration" || res.Info.Seconds > 1.4 {
		t.Errorf("time bound: %+v", res.Info)
	}
}

// The trace's window ends where its events stop, not where reading what
// the buffers still held ends: a peer counting the requests completed by
// the manifest's end (bpftrace) counted ten that the trace could not hold
// when the drain took long on a busy machine.
func TestWindowEndsWhereEventsStop(t *testing.T) {
	workload.Live(t)
	var drainAt int64
	testHookDrain = func() {
		if drainAt == 0 {
			drainAt = capture.Now().MonoNS
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Cleanup(func() { testHookDrain = nil })
	tr := Start(Config{Duration: 5 * time.Second, MaxBytes: 8 << 20, BufferKB: 1024, Mountinfo: mountinfo(t)})
	time.Sleep(300 * time.Millisecond)
	res := tr.Stop("collection-end")
	if drainAt == 0 {
		t.Fatalf("the trace was never drained: %+v", res.Info)
	}
	if end := res.Info.End.MonoNS; end > drainAt || end < res.Info.Start.MonoNS {
		t.Errorf("window [%d, %d] ns, the drain began at %d: the end is where reading ended, not where the events stopped", res.Info.Start.MonoNS, end, drainAt)
	}
}

// A crash of the reader still removes the instance and unmounts tracefs,
// and the result says what happened.
func TestReaderCrashCleansUp(t *testing.T) {
	workload.Live(t)
	before := tracefsMounts(t)
	testHookRead = func() { panic("injected") }
	t.Cleanup(func() { testHookRead = nil })
	tr := Start(Config{Duration: 5 * time.Second, MaxBytes: 8 << 20, BufferKB: 1024, Mountinfo: mountinfo(t)})
	res := tr.Stop("collection-end")
	if res.Info.Status != bundle.StatusFailed || res.Info.StopReason != "failed" || !strings.Contains(res.Info.Error, "crashed") {
		t.Errorf("info after a crash: %+v", res.Info)
	}
	if after := tracefsMounts(t); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("tracefs mounts %v after, %v before", after, before)
	}
}

// drainSource gives events once, then fails: a read error while the
// buffers are drained.
type drainSource struct {
	source
	reads int
}

func (d *drainSource) read() (bool, error) {
	d.reads++
	if d.reads == 1 {
		return true, nil
	}
	return false, errors.New("read cpu1/trace_pipe_raw: input/output error")
}

// A read error while draining what the buffers held keeps what was read
// and says the trace is partial, naming the error (it was dropped).
func TestDrainErrorMakesTheTracePartial(t *testing.T) {
	src := &drainSource{}
	tr := &Tracer{inst: &instance{dir: t.TempDir()}, src: src}
	tr.res.Info.Status = bundle.StatusOK
	tr.drain()
	if src.reads != 2 || tr.res.Info.Status != bundle.StatusPartial || !strings.Contains(tr.res.Info.Error, "input/output error") || tr.res.Info.End.MonoNS == 0 {
		t.Errorf("after %d reads: %+v", src.reads, tr.res.Info)
	}
}
