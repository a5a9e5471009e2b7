package blocktrace

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/spill"
	"github.com/iorca/iorca/internal/ftrace"
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
	// Who asked for writeback, and why: writeback_queue fires in the task
	// that queued the work (sync(2) and syncfs(2) with reason=sync);
	// writeback_start and writeback_written bracket the flusher's passes,
	// so that the requests it issues in between are known to be forced.
	{"writeback/writeback_queue"}, {"writeback/writeback_start"}, {"writeback/writeback_written"},
	{"jbd2/jbd2_commit_flushing"}, {"jbd2/jbd2_end_commit"},
	// Who started each process: a sync(1) an agent's loop runs lives a
	// fraction of a second, often between two ticks, and target
	// selection credits its calls to the agent only through its parent.
	{"sched/sched_process_fork"},
}

// Config bounds one capture.
type Config struct {
	Duration time.Duration
	// MaxBytes bounds what is kept: the ring-buffer pages read from
	// trace_pipe_raw (the text decoded from them is about twice as
	// large), or trace_pipe's text when raw pages cannot be read.
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
	// SpillDirs are where the trace is kept while it runs, best first
	// (an unlinked file); memory when none takes one.
	SpillDirs []string
	// Instance names the private instance; "" is iorca-PID.
	Instance string
	// Text reads trace_pipe's text even where raw pages could be read
	// (tests of the fallback, and of the decoder against it).
	Text bool
}

// Sharer coordinates tracefs with other collectors (nodestate.Run).
type Sharer interface {
	UseTracefs(root, instance string, mounted bool) error
	ReleaseTracefs() (unmount bool, err error)
}

// Result is what a capture gives the bundle.
type Result struct {
	Info bundle.BlockTraceInfo
	// Formats is the format file of every enabled event, as frames.
	Formats []byte
	text    *spill.File
}

// Text reads the trace's text (BlockTraceMember): trace_pipe's lines, or
// the lines decoded from raw pages in the same form.
func (r Result) Text() io.Reader {
	if r.text == nil {
		return bytes.NewReader(nil)
	}
	return r.text.Reader(-1)
}

// Tracer is a running capture.
type Tracer struct {
	cfg  Config
	fs   *tracefs
	inst *instance
	stop chan string
	done chan struct{}
	// src reads the events, raw pages or text, into a spill.
	src   source
	res   Result
	once  sync.Once
	final Result
}

// source is one way of reading the instance's events.
type source interface {
	// read reads what the buffers hold; it reports whether it got
	// anything, and errBudget at the byte bound.
	read() (bool, error)
	// follow calls fn with each block-request event read since its last
	// call, for choosing targets while the capture runs.
	follow(fn func(ftrace.Event)) error
	// finish makes the text once reading has stopped, naming tasks by
	// c: the text, its lines, the raw bytes read.
	finish(c *comms) (*spill.File, int, int64, error)
	// closeFiles closes the instance's files (before it is removed);
	// close releases the spill.
	closeFiles()
	close()
}

// testHookRead, when set by a test, runs before every read (to make the
// reader crash).
var testHookRead func()

// testHookDrain, when set by a test, runs before every read of the drain
// (to make reading what the buffers held slow).
var testHookDrain func()

// errBudget stops reading at the byte bound.
var errBudget = errors.New("max-bytes")

// Start sets up a private instance, enables the events and starts reading
// them in the background until Duration, MaxBytes or Stop: the per-CPU
// raw pages where it can, trace_pipe's text where it cannot. On an error
// nothing is left behind and Result().Info says why.
func Start(cfg Config) *Tracer {
	t := &Tracer{cfg: cfg, stop: make(chan string, 1), done: make(chan struct{})}
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
	name := t.cfg.Instance
	if name == "" {
		name = "iorca-" + strconv.Itoa(os.Getpid())
	}
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
	tgid := inst.write("options/record-tgid", "1") == nil
	// mono is CLOCK_MONOTONIC, the clock of the bundle's frames; the
	// default "local" is per CPU and not comparable.
	if err := inst.write("trace_clock", "mono"); err != nil {
		return err
	}
	var formats []byte
	var raw [][]byte
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
			raw = append(raw, f)
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
	src, err := t.openSource(raw, tgid)
	if err != nil {
		return err
	}
	t.src = src
	return inst.write("tracing_on", "1")
}

// openSource opens the per-CPU raw pages, or trace_pipe when they cannot
// be read or decoded (the manifest says why).
func (t *Tracer) openSource(formats [][]byte, tgid bool) (source, error) {
	sp := spill.New(t.cfg.SpillDirs...)
	t.res.Info.Spill = sp.Dir
	if sp.Dir == "" {
		t.res.Info.Spill = "memory"
	}
	if !t.cfg.Text {
		r, err := openRaw(t.inst, t.fs.root, formats, tgid, sp, t.cfg)
		if err == nil {
			t.res.Info.Reader = bundle.ReaderRaw
			return r, nil
		}
		t.res.Info.ReaderFallback = err.Error()
	} else {
		t.res.Info.ReaderFallback = "text asked for"
	}
	r, err := openText(t.inst, sp, t.cfg.MaxBytes)
	if err != nil {
		sp.Close()
		return nil, err
	}
	t.res.Info.Reader = "trace_pipe"
	return r, nil
}

func appendFormat(b []byte, path string, data []byte, st bundle.Status, err error) []byte {
	if err != nil {
		data = []byte(err.Error())
	}
	return bundle.AppendFrame(b, bundle.Frame{Path: path, Status: st, MonoNS: capture.Mono(), Data: data})
}

// pollInterval is how often empty buffers are read again: the per-CPU
// buffers hold the events in between.
const pollInterval = 20 * time.Millisecond

// read reads the events into the spill until a bound or Stop.
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
		if t.res.Info.End.MonoNS == 0 {
			// Stopped by a failure: the trace covers up to here, not
			// up to Stop.
			t.res.Info.End = capture.Now()
		}
	}()
	deadline := time.Now().Add(t.cfg.Duration)
	for {
		if testHookRead != nil {
			testHookRead()
		}
		select {
		case r := <-t.stop:
			reason = r
			t.drain()
			return
		default:
		}
		if !time.Now().Before(deadline) {
			t.drain()
			return
		}
		got, err := t.src.read()
		switch {
		case errors.Is(err, errBudget):
			// Stop the events at once: what the buffers would still
			// take is cost with nothing kept.
			t.stopEvents()
			t.res.Info.Truncated = true
			reason = errBudget.Error()
			return
		case err != nil:
			reason = "failed"
			t.res.Info.Status = bundle.StatusFailed
			t.res.Info.Error = err.Error()
			return
		case !got:
			time.Sleep(pollInterval)
		}
	}
}

// drain reads what the buffers still hold after tracing stopped.
func (t *Tracer) drain() {
	t.stopEvents()
	for {
		if testHookDrain != nil {
			testHookDrain()
		}
		got, err := t.src.read()
		switch {
		case errors.Is(err, errBudget):
			t.res.Info.Truncated = true
		case err != nil:
			// What was read stays; the tail the buffers still held is
			// lost, and the manifest says so.
			t.addError(fmt.Errorf("reading what the buffers held once the events stopped: %w", err), bundle.StatusPartial)
		}
		if !got || err != nil {
			return
		}
	}
}

// stopEvents stops the events and ends the trace's window where they
// stop: its end is taken just before, so that everything within
// [Start, End] is in the trace (the start is taken just after the events
// begin). Taken after the drain, as it was, the end passed the events by
// as long as reading what the buffers held took: a peer counting the
// requests that completed by then (bpftrace, over the manifest's window)
// counted ten the trace could not hold, on a busy machine.
func (t *Tracer) stopEvents() {
	t.res.Info.End = capture.Now()
	t.inst.write("tracing_on", "0")
}

// followed names the events Follow gives: the block requests, who calls
// sync() (writeback_queue: a target too) and who started it
// (sched_process_fork).
func followed(name string) bool {
	return ftrace.IsBlockRequest(name) || name == "writeback_queue" || name == "sched_process_fork"
}

// Follow calls fn with each block-request event (insert, issue, complete,
// requeue), each writeback_queue (who asks for writeback: a sync()
// caller) and each sched_process_fork (who started that caller) read
// since its last call, as ParseLine would give its line
// (Fields valid during the call only): target selection feeds a matcher
// as the capture runs, decoding only what is new — and of raw pages, only
// the newest 2 MiB of each CPU's, a sample with bounded work. It is for one
// goroutine, and must not run beside Stop.
func (t *Tracer) Follow(fn func(ftrace.Event)) error {
	if t.src == nil {
		return nil
	}
	return t.src.follow(fn)
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
// for the reader, removes everything it set up (the instance with its
// events and buffer, and tracefs if it mounted it), then makes the text.
// It may be called more than once; later calls return the same result.
func (t *Tracer) Stop(reason string) Result {
	t.once.Do(func() {
		select {
		case t.stop <- reason:
		default:
		}
		<-t.done
		if t.inst != nil {
			if per, err := t.inst.overruns(); err == nil {
				t.res.Info.OverrunsPerCPU = per
				for _, n := range per {
					t.res.Info.Overruns += n
				}
			}
		}
		if t.res.Info.End.MonoNS == 0 {
			t.res.Info.End = capture.Now()
		}
		if t.res.Info.Start.MonoNS > 0 {
			t.res.Info.Seconds = float64(t.res.Info.End.MonoNS-t.res.Info.Start.MonoNS) / 1e9
		}
		var root string
		if t.fs != nil {
			root = t.fs.root
		}
		var com *comms
		if t.src != nil {
			// The kernel's comms, read before tracefs may go.
			com = readComms(root, true)
		}
		if err := t.teardown(); err != nil {
			t.addError(err, bundle.StatusPartial)
		}
		if t.src != nil {
			text, lines, raw, err := t.src.finish(com)
			t.res.text, t.res.Info.Lines, t.res.Info.RawBytes = text, lines, raw
			if text != nil {
				t.res.Info.Bytes = text.Len()
			}
			if err != nil {
				t.addError(err, bundle.StatusPartial)
			}
		}
		if t.res.Info.Truncated || t.res.Info.Overruns > 0 {
			t.res.Info.Status = t.res.Info.Status.Worse(bundle.StatusPartial)
		}
		t.final = t.res
	})
	return t.final
}

func (t *Tracer) addError(err error, st bundle.Status) {
	if t.res.Info.Error != "" {
		t.res.Info.Error += "; "
	}
	t.res.Info.Error += err.Error()
	t.res.Info.Status = t.res.Info.Status.Worse(st)
}

// Close releases the spilled trace; the Result's text is gone after it.
func (t *Tracer) Close() {
	t.Stop("collection-end")
	if t.src != nil {
		t.src.close()
	}
	if t.final.text != nil {
		t.final.text.Close()
	}
}

// teardown closes the instance's files, disables its events by removing
// it, and unmounts tracefs when it was mounted here.
func (t *Tracer) teardown() error {
	var errs []error
	if t.src != nil {
		t.src.closeFiles()
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
