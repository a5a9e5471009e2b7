package blocktrace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
)

// wanted lists the events to enable; where a kernel renamed one, the
// alternatives are tried in order (writeback_dirty_page became
// writeback_dirty_folio around 5.17).
var wanted = [][]string{
	{"block/block_rq_insert"}, {"block/block_rq_issue"}, {"block/block_rq_complete"},
	// A request the driver gives back is issued again: without this the
	// analyzer would match its first issue with its completion.
	{"block/block_rq_requeue"},
	{"writeback/writeback_dirty_folio", "writeback/writeback_dirty_page"},
	{"writeback/writeback_single_inode"}, {"writeback/balance_dirty_pages"},
	{"jbd2/jbd2_commit_flushing"}, {"jbd2/jbd2_end_commit"},
}

// Config bounds one capture.
type Config struct {
	Duration time.Duration
	MaxBytes int64
	// BufferKB is each CPU's ring buffer; events the reader is too slow
	// for are lost from it and counted.
	BufferKB int
	// Mountinfo is /proc/self/mountinfo, to find tracefs.
	Mountinfo []byte
	// Shared, when set, is told which tracefs and instance the capture
	// uses, and decides at the end whether a tracefs a collector mounted
	// is unmounted: only by the last collector using it, so that two at
	// once do not undo each other.
	Shared Sharer
}

// Sharer coordinates tracefs with other collectors (nodestate.Run).
type Sharer interface {
	UseTracefs(root, instance string, mounted bool) error
	ReleaseTracefs() (unmount bool, err error)
}

// Result is what a capture gives the bundle.
type Result struct {
	Info bundle.BlockTraceInfo
	// Output is trace_pipe's text; Formats the format file of every
	// enabled event, as frames.
	Output, Formats []byte
}

// Tracer is a running capture.
type Tracer struct {
	cfg   Config
	fs    *tracefs
	inst  *instance
	fd    int
	stop  chan string
	done  chan struct{}
	mu    sync.Mutex
	out   []byte
	res   Result
	once  sync.Once
	final Result
}

// testHookRead, when set by a test, runs before every read (to make the
// reader crash).
var testHookRead func()

// errBudget stops reading at the byte bound.
var errBudget = errors.New("max-bytes")

// Start sets up a private instance, enables the events and starts reading
// trace_pipe in the background until Duration, MaxBytes or Stop. On an
// error nothing is left behind and Result().Info says why.
func Start(cfg Config) *Tracer {
	t := &Tracer{cfg: cfg, fd: -1, stop: make(chan string, 1), done: make(chan struct{})}
	t.res.Info = bundle.BlockTraceInfo{Status: bundle.StatusOK, BufferKBPerCPU: cfg.BufferKB, TraceClock: "mono",
		Events: []string{}, Missing: []string{}}
	if err := t.setup(); err != nil {
		t.res.Info.Status = capture.Classify(err)
		if t.res.Info.Status == bundle.StatusOK {
			t.res.Info.Status = bundle.StatusFailed
		}
		t.res.Info.Error = err.Error()
		t.res.Info.StopReason = "failed"
		t.teardown()
		close(t.done)
		return t
	}
	t.res.Info.Start = capture.Now()
	go t.read()
	return t
}

func (t *Tracer) setup() error {
	fs, err := openTracefs(t.cfg.Mountinfo)
	if err != nil {
		return err
	}
	t.fs = fs
	t.res.Info.Tracefs, t.res.Info.MountedTracefs = fs.root, fs.mounted
	name := "iorca-" + strconv.Itoa(os.Getpid())
	t.res.Info.OtherTracers = append(ScanBPF("/proc", os.Getpid()), ScanInstances(fs.root, name)...)
	inst, err := fs.newInstance(name)
	if err != nil {
		return err
	}
	t.inst = inst
	t.res.Info.Instance = name
	if t.cfg.Shared != nil {
		if err := t.cfg.Shared.UseTracefs(fs.root, inst.dir, fs.mounted); err != nil {
			return fmt.Errorf("recording the tracing instance in the node's state: %w", err)
		}
	}
	// Stop the instance's own tracing while it is set up, so that the
	// buffer holds only the events asked for.
	if err := inst.write("tracing_on", "0"); err != nil {
		return err
	}
	if err := inst.write("buffer_size_kb", strconv.Itoa(t.cfg.BufferKB)); err != nil {
		return err
	}
	// The process (TGID) of every event's thread, so that a
	// multi-threaded writer's requests are charged to it; kernels without
	// the option print no TGID and the analyzer falls back to the thread.
	inst.write("options/record-tgid", "1")
	// mono is CLOCK_MONOTONIC, the clock of the bundle's frames; the
	// default "local" is per CPU and not comparable.
	if err := inst.write("trace_clock", "mono"); err != nil {
		return err
	}
	var formats []byte
	for _, alts := range wanted {
		enabled := false
		for _, ev := range alts {
			if _, err := os.Stat(inst.path(filepath.Join("events", ev, "enable"))); err != nil {
				continue
			}
			if err := inst.write(filepath.Join("events", ev, "enable"), "1"); err != nil {
				return err
			}
			f, err := inst.read(filepath.Join("events", ev, "format"))
			st, ferr := bundle.StatusOK, error(nil)
			if err != nil {
				st, ferr = capture.Classify(err), err
			}
			formats = appendFormat(formats, "events/"+ev+"/format", f, st, ferr)
			t.res.Info.Events = append(t.res.Info.Events, ev)
			enabled = true
			break
		}
		if !enabled {
			t.res.Info.Missing = append(t.res.Info.Missing, alts[0])
		}
	}
	if len(t.res.Info.Events) == 0 {
		return fmt.Errorf("none of the block, writeback and jbd2 events exists on this kernel")
	}
	t.res.Formats = formats
	fd, err := syscall.Open(inst.path("trace_pipe"), syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open trace_pipe: %w", err)
	}
	t.fd = fd
	return inst.write("tracing_on", "1")
}

func appendFormat(b []byte, path string, data []byte, st bundle.Status, err error) []byte {
	if err != nil {
		data = []byte(err.Error())
	}
	return bundle.AppendFrame(b, bundle.Frame{Path: path, Status: st, MonoNS: capture.Mono(), Data: data})
}

// pollInterval is how often an empty trace_pipe is read again: the
// per-CPU buffers hold the events in between.
const pollInterval = 20 * time.Millisecond

// read copies trace_pipe into memory until a bound or Stop.
func (t *Tracer) read() {
	defer close(t.done)
	reason := "duration"
	defer func() {
		if p := recover(); p != nil {
			reason = "failed"
			t.res.Info.Status = bundle.StatusFailed
			t.res.Info.Error = fmt.Sprintf("trace reader crashed: %v", p)
		}
		t.res.Info.StopReason = reason
		// The trace covers up to here, not up to Stop.
		t.res.Info.End = capture.Now()
	}()
	deadline := time.Now().Add(t.cfg.Duration)
	buf := make([]byte, 64<<10)
	for {
		if testHookRead != nil {
			testHookRead()
		}
		select {
		case r := <-t.stop:
			reason = r
			t.drain(buf)
			return
		default:
		}
		if !time.Now().Before(deadline) {
			t.drain(buf)
			return
		}
		n, err := syscall.Read(t.fd, buf)
		switch {
		case n > 0:
			if t.add(buf[:n]) {
				// Stop the events at once: what the buffers would still
				// take is cost with nothing kept.
				t.inst.write("tracing_on", "0")
				reason = errBudget.Error()
				return
			}
		case err == nil || errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
			time.Sleep(pollInterval)
		default:
			reason = "failed"
			t.res.Info.Status = bundle.StatusFailed
			t.res.Info.Error = "read trace_pipe: " + err.Error()
			return
		}
	}
}

// drain reads what the buffers still hold after tracing stopped.
func (t *Tracer) drain(buf []byte) {
	t.inst.write("tracing_on", "0")
	for {
		n, err := syscall.Read(t.fd, buf)
		if n <= 0 || err != nil {
			return
		}
		if t.add(buf[:n]) {
			return
		}
	}
}

// add appends text, and reports true when the byte bound is reached (the
// text is then cut at the last whole line).
func (t *Tracer) add(b []byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if int64(len(t.out)+len(b)) <= t.cfg.MaxBytes {
		t.out = append(t.out, b...)
		return false
	}
	room := b[:t.cfg.MaxBytes-int64(len(t.out))]
	if i := lastNewline(room); i >= 0 {
		t.out = append(t.out, room[:i+1]...)
	}
	t.res.Info.Truncated = true
	return true
}

func lastNewline(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i
		}
	}
	return -1
}

// Snapshot returns the text read so far, for choosing targets while the
// capture runs.
func (t *Tracer) Snapshot() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.out...)
}

// Tracefs is where the tracefs in use is, "" when none could be used.
func (t *Tracer) Tracefs() string { return t.res.Info.Tracefs }

// Running reports whether the reader still reads.
func (t *Tracer) Running() bool {
	select {
	case <-t.done:
		return false
	default:
		return true
	}
}

// Stop ends the capture (reason: "collection-end", "interrupted"), waits
// for the reader, and removes everything it set up: the instance with its
// events and buffer, and tracefs if it mounted it. It may be called more
// than once; later calls return the same result.
func (t *Tracer) Stop(reason string) Result {
	t.once.Do(func() {
		select {
		case t.stop <- reason:
		default:
		}
		<-t.done
		if t.inst != nil {
			if n, err := t.inst.overruns(); err == nil {
				t.res.Info.Overruns = n
			}
		}
		if t.res.Info.End.MonoNS == 0 {
			t.res.Info.End = capture.Now()
		}
		if t.res.Info.Start.MonoNS > 0 {
			t.res.Info.Seconds = float64(t.res.Info.End.MonoNS-t.res.Info.Start.MonoNS) / 1e9
		}
		if err := t.teardown(); err != nil {
			if t.res.Info.Error != "" {
				t.res.Info.Error += "; "
			}
			t.res.Info.Error += err.Error()
			t.res.Info.Status = t.res.Info.Status.Worse(bundle.StatusPartial)
		}
		t.mu.Lock()
		t.res.Output = t.out
		t.mu.Unlock()
		t.res.Info.Bytes = int64(len(t.res.Output))
		t.res.Info.Lines = countLines(t.res.Output)
		if t.res.Info.Truncated || t.res.Info.Overruns > 0 {
			t.res.Info.Status = t.res.Info.Status.Worse(bundle.StatusPartial)
		}
		t.final = t.res
	})
	return t.final
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// teardown closes trace_pipe, disables the instance's events by removing
// it, and unmounts tracefs when it was mounted here.
func (t *Tracer) teardown() error {
	var errs []error
	if t.fd >= 0 {
		syscall.Close(t.fd)
		t.fd = -1
	}
	if t.inst != nil {
		t.inst.write("tracing_on", "0")
		if err := t.inst.remove(); err != nil {
			errs = append(errs, err)
		}
		t.inst = nil
	}
	if t.fs != nil {
		if t.cfg.Shared != nil {
			// The last collector using a tracefs one of them mounted
			// unmounts it, whichever mounted it.
			if unmount, err := t.cfg.Shared.ReleaseTracefs(); err == nil {
				t.res.Info.TracefsShared = t.fs.mounted && !unmount
				t.fs.mounted = unmount
			}
		}
		if err := t.fs.close(); err != nil {
			errs = append(errs, err)
		}
		t.fs = nil
	}
	return errors.Join(errs...)
}

func sleep(ms int) { time.Sleep(time.Duration(ms) * time.Millisecond) }
