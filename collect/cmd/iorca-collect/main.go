package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/collector"
	"github.com/iorca/iorca/collect/trigger"
	"github.com/iorca/iorca/internal/cli"
	"github.com/iorca/iorca/internal/units"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// Exit codes, documented in --help.
const (
	exitComplete   = 0
	exitNoBundle   = 1
	exitUsage      = 2
	exitIncomplete = 3
	exitNotFired   = 4
)

const usageHead = `iorca-collect snapshots this node's disk-IO state into one bundle
(tar + zstd) for offline analysis with "iorca report".

It samples, every interval: /proc/diskstats and /sys/block/*/stat (iostat -x),
/proc/PID/io and /proc/PID/stat of every process (iotop -aoP, pidstat -d),
vmstat, meminfo, PSI and cgroup IO stats; once: mount tables, block queue
settings, vm.dirty_* sysctls, statfs of each mount, the kernel log tail and a
process table. After a first window it picks the top processes by disk bytes
and by write syscalls (plus any --pid), records their open files and fd flags,
and traces them briefly with strace -f -tt -T -y; the block layer is traced
from the start (tracefs). Samples are compressed as they come, and they and
the traces' text are kept in unlinked spill files (in /dev/shm, which is
memory, else beside the output), so the collector's heap stays flat however
long it runs; the bundle is written once, at the end. Run it as root to see every process.

Usage:
  iorca-collect [flags]

Examples:
  sudo iorca-collect                                # 30 s, bundle in the current directory
  sudo iorca-collect -d 60s -o /dev/shm/node1.tar.zst   # the local disk is full or sick
  sudo iorca-collect -p 4242 --strace-duration 10s  # always look at PID 4242
  sudo iorca-collect --no-strace -q                 # never ptrace anything
  sudo iorca-collect --redact 'customer-(\w+)'       # mask more than the built-in rules
  sudo iorca-collect --no-block-trace               # leave tracefs alone
  sudo iorca-collect --trigger 'util>80,await>10' --wait 1h   # capture when a disk chokes
  sudo iorca-collect --record 60s --trigger 'psi_some>20' -o /var/lib/iorca/ --keep 5
                                                    # flight recorder: the minute before, and after

Flags:
`

const usageTail = `
Sizes: 1048576, 512KiB, 64MiB, 64MB, 1.5GiB, in any case (M means MiB).

Exit status:
  0  bundle written and complete
  3  bundle written but incomplete: interrupted (SIGINT/SIGTERM), cut short or
     members dropped to fit --max-bundle-bytes, strace unavailable, reads denied
     or failed, or written to the fallback directory; the manifest's "errors"
     and "bounds" say which
  1  no bundle written (output not writable or too little room)
  2  bad flags or trigger expression; nothing was started
  4  the trigger never fired (--wait expired, or SIGINT/SIGTERM came first):
     no bundle written

With --rearm the collector is its own loop, as a DaemonSet's or a service's
main process: after each bundle it pauses, then records again, until SIGINT or
SIGTERM, which write the window as above and end it; the exit status is then
the last collection's. --ready-file is rewritten at every tick (and every
interval of a pause), so that an exec probe can check its age.

SIGHUP (the terminal hung up) does not stop the run: it goes on to its end as
under nohup, silently. If the output fails at the end, the bundle goes to
--fallback-dir.

Triggers (--trigger) name iostat -x figures of a device — util, await, r_await,
w_await, f_await, aqu-sz, r/s, w/s, f/s, tps, rkB/s, wkB/s — and the node's IO
pressure, psi_some and psi_full (the percentage of the interval in which some
or all tasks waited for IO), compared with >, >=, < or <=; all conditions must
hold in the same interval, device figures on one device (any, or dev=NAME:),
for --trigger-for intervals in a row. Without --record the wait reads only
/proc/diskstats, /proc/pressure/io and /proc/uptime; the capture starts when
the trigger fires. With --record the collector samples in full all along and
keeps the last --record of samples, compressed, within --record-bytes: on the
trigger the bundle holds that window then the capture (strace and the block
trace start at the trigger); on SIGUSR1, SIGINT or SIGTERM it holds the window.

strace slows a traced process by orders of magnitude while attached; keep
--strace-duration short. Syscall payloads, environment variables and secrets in
command lines (--password=..., TOKEN=..., Authorization: and Cookie: headers,
user:password@ in URLs, curl -u, mysql -p..., redis -a, JSON secret keys) never
enter the bundle unless --no-redact is given; --redact adds patterns of your
own (the manifest records each pattern and how many values it masked, never
what it matched). "iorca redact" masks a bundle again before it leaves.

The block trace (block_rq_*, writeback and jbd2 tracepoints in a private
tracefs instance, removed at the end) tells which process holds each
device's time; at very high request rates it slows IO while it runs, so it
is bounded by --block-trace-duration and --block-trace-max-bytes.
kernel.task_delayacct is turned on for the run, as iotop does, and put back
after (--keep-delayacct leaves it alone).
`

type flags struct {
	cfg      collector.Config
	noStrace bool
	noBlock  bool
	keepDA   bool
	noRedact bool
	quiet    bool
	version  bool
	strMax   units.Bytes
	blkMax   units.Bytes
	bundMax  units.Bytes
	recMax   units.Bytes
	keepMax  units.Bytes
	trigger  string
	labels   []string
	// rearm, hold and readyFile serve a collector that is a service's
	// main process (service.go).
	rearm     time.Duration
	hold      time.Duration
	readyFile string
}

// memoryLimit is the least soft memory limit the collector sets unless
// GOMEMLIMIT says otherwise: its samples are compressed and spilled as
// they arrive, so what remains is a tick's texts, the process table being
// built and the runtime; near the limit the garbage collector runs
// sooner rather than letting the heap double. Measured at 5,000
// processes: 54 MiB peak without it, 35 MiB with it, for 5 % more CPU
// (2026-11-30).
const memoryLimit = 32 << 20

// softLimit is the soft memory limit for a live heap of live bytes: never
// below memoryLimit, and half again the live heap above it. A limit the
// live heap reaches saves nothing and makes the garbage collector run
// without pause: at 5,000 processes, once the block trace and the process
// table grew the live heap to about 30 MiB, a fixed 32 MiB limit cost 893
// collections in 20 s and twice the CPU (7.45 s against 3.90), for the
// same peak RSS.
func softLimit(live uint64) int64 {
	return max(memoryLimit, int64(live+live/2))
}

// followLiveHeap sets the soft limit from the live heap the last
// collection found, every second, for as long as the collector runs.
func followLiveHeap() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for range time.Tick(time.Second) {
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(softLimit(s[0].Value.Uint64()))
		}
	}
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
		go followLiveHeap()
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return exitComplete
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca-collect: %v\n(see iorca-collect --help)\n", err)
		return exitUsage
	}
	if f.version {
		fmt.Fprintln(stdout, "iorca-collect", cli.Version(version))
		return exitComplete
	}
	term := &terminal{w: stderr}
	stderr = term
	hungUp, stopWatch := watchTerminal(term)
	defer stopWatch()
	f.cfg.HungUp = hungUp
	note := &stopNote{}
	note.set(collectingStopNote(f))
	ctx, stop := interruptContext(stderr, f.quiet, note)
	defer stop()
	dump := make(chan struct{}, 1)
	f.cfg.Dump = dump
	stopDump := notifyDump(dump, stderr, f.quiet, f.cfg.Record > 0)
	defer stopDump()
	ready := newReadyFile(f.readyFile, stderr)
	defer ready.remove()

	// With --rearm the collector is its own loop: a signal reaches it, not
	// a shell, and ends the loop once the window is written. The exit
	// status is the last collection's.
	status := exitComplete
	for {
		if f.rearm > 0 && !f.quiet {
			fmt.Fprintln(stderr, armedLine(f.cfg))
		}
		note.set(collectingStopNote(f))
		status = collectOnce(ctx, f, stderr, ready)
		if f.rearm == 0 || ctx.Err() != nil {
			break
		}
		note.set("the recorder was paused: nothing more to write")
		if !f.quiet {
			fmt.Fprintf(stderr, "iorca-collect: re-arming in %s\n", f.rearm)
		}
		if !pause(ctx, f.rearm, f.cfg.Interval, ready) {
			break
		}
	}
	if f.hold > 0 && ctx.Err() == nil {
		note.set("ending the hold")
		if !f.quiet {
			fmt.Fprintf(stderr, "iorca-collect: holding for %s so that the bundle can be copied off (kubectl cp); SIGTERM ends it, exit status %d\n", f.hold, status)
		}
		pause(ctx, f.hold, f.cfg.Interval, nil)
	}
	return status
}

// collectingStopNote is what a signal does during a collection.
func collectingStopNote(f *flags) string {
	switch {
	case f.cfg.Record > 0:
		return "writing the recorder's window (and what the capture took)"
	case f.cfg.Trigger != nil:
		return "a partial bundle if the trigger has fired, none if not"
	}
	return "writing a partial bundle"
}

// collectOnce runs one collection, says how it went, and returns its
// exit status.
func collectOnce(ctx context.Context, f *flags, stderr io.Writer, ready *readyFile) int {
	progress := newProgressLine(stderr, f.quiet)
	cfg := f.cfg
	saidFired := false
	cfg.Progress = func(p collector.Progress) {
		if p.Phase == collector.PhaseCapturing && cfg.Trigger != nil && !saidFired && !f.quiet {
			// The last trigger, in the log as it happens: the bundle
			// comes only at the capture's end.
			progress.clear()
			fmt.Fprintln(stderr, firedLine(cfg.Trigger.Text, time.Now().Add(-p.Elapsed), cfg.Duration))
		}
		saidFired = saidFired || p.Phase == collector.PhaseCapturing
		ready.touch(tickState(p))
		progress.update(p)
	}
	res, err := collector.Run(ctx, cfg)
	progress.clear()
	if errors.Is(err, collector.ErrNotFired) {
		fmt.Fprintf(stderr, "iorca-collect: %v\n", err)
		return exitNotFired
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca-collect: %v\n", err)
		return exitNoBundle
	}
	if !f.quiet {
		printSummary(stderr, res)
	} else if res.FellBack {
		// Even when quiet: the bundle is not where it was asked for.
		fmt.Fprintf(stderr, "iorca-collect: the output failed (%v); the bundle is at %s\n", res.OutputErr, res.Path)
	}
	if res.PruneErr != nil {
		fmt.Fprintf(stderr, "iorca-collect: removing old bundles: %v\n", res.PruneErr)
	}
	if res.Incomplete {
		return exitIncomplete
	}
	return exitComplete
}

func parseFlags(args []string, stdout, stderr io.Writer) (*flags, error) {
	f := &flags{strMax: collector.DefaultStraceMaxBytes, blkMax: collector.DefaultBlockTraceMaxBytes, bundMax: collector.DefaultMaxBundleBytes, recMax: collector.DefaultRecordBytes}
	fs := pflag.NewFlagSet("iorca-collect", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	c := &f.cfg
	fs.StringVarP(&c.Output, "output", "o", "", "bundle path (default iorca-<hostname>-<UTC time>.tar.zst; - for stdout); a directory (ending in /, or existing) names each bundle after its first tick")
	fs.DurationVarP(&c.Duration, "duration", "d", collector.DefaultDuration, "how long to sample")
	fs.DurationVarP(&c.Interval, "interval", "i", collector.DefaultInterval, "time between samples")
	fs.IntSliceVarP(&c.PIDs, "pid", "p", nil, "always make this process a target (repeatable)")
	fs.IntVar(&c.Top, "top", collector.DefaultTop, "targets picked by disk bytes, write syscalls, device time and IO wait, N each (at most 10)")
	fs.DurationVar(&c.SelectAfter, "select-after", collector.DefaultSelectAfter, "first sampling window, after which targets are picked")
	fs.DurationVar(&c.StraceDuration, "strace-duration", collector.DefaultStraceDuration, "how long each target is traced at most")
	fs.Var(&f.strMax, "strace-max-bytes", "trace output kept per target at most; the trace stops there")
	fs.BoolVar(&f.noStrace, "no-strace", false, "never run strace")
	fs.DurationVar(&c.BlockTraceDuration, "block-trace-duration", collector.DefaultBlockTraceDuration, "how long the block-layer trace runs, from the start")
	fs.Var(&f.blkMax, "block-trace-max-bytes", "block-layer trace kept at most, in ring-buffer bytes (the text is about twice as large; trace_pipe text where raw pages cannot be read); the trace stops there")
	fs.BoolVar(&f.noBlock, "no-block-trace", false, "never trace the block layer (tracefs)")
	fs.BoolVar(&f.keepDA, "keep-delayacct", false, "leave kernel.task_delayacct as it is (per-process IO wait is then unknown when it is 0)")
	fs.Var(&f.bundMax, "max-bundle-bytes", "the bundle never exceeds this; what was dropped is in the manifest")
	fs.BoolVar(&f.noRedact, "no-redact", false, "keep secrets in command lines and a 32-byte prefix of syscall buffers")
	fs.StringArrayVar(&c.RedactPatterns, "redact", nil, "also mask what this RE2 pattern matches (its first group, if it has one) in command lines and strace output (repeatable)")
	fs.BoolVar(&c.Force, "force", false, "replace an existing output file")
	fs.StringVar(&c.FallbackDir, "fallback-dir", "/dev/shm", "where to write the bundle if the output filesystem fills up or fails at the end (\"\" disables)")
	fs.StringVar(&f.trigger, "trigger", "", "wait until this holds, then capture (e.g. 'util>80,await>10', 'dev=sda:w_await>50', 'psi_some>20')")
	fs.IntVar(&c.TriggerFor, "trigger-for", collector.DefaultTriggerFor, "intervals in a row the trigger must hold")
	fs.DurationVar(&c.Wait, "wait", 0, "give up waiting for the trigger after this long (exit 4, no bundle); 0 waits until a signal")
	fs.DurationVar(&c.Record, "record", 0, "flight recorder: keep the last D of full samples and write them with the bundle (on the trigger, SIGUSR1, SIGINT or SIGTERM)")
	fs.Var(&f.recMax, "record-bytes", "memory the recorder's window may take, compressed; older samples go first")
	fs.IntVar(&c.Keep, "keep", 0, "with -o DIR: keep at most N bundles there, removing the oldest (0: all)")
	fs.Var(&f.keepMax, "keep-bytes", "with -o DIR: keep at most this much of bundles there, removing the oldest (0: no bound)")
	fs.StringVar(&c.Node, "node-name", os.Getenv("NODE_NAME"), "the node's name in its cluster, kept in the bundle (default $NODE_NAME, as the downward API sets it)")
	fs.StringArrayVar(&f.labels, "label", nil, "KEY=VALUE kept in the bundle for iorca fleet --by (repeatable): zone=eu-west-1a, pool=logging")
	fs.StringVar(&c.DockerRoot, "docker-root", collector.DefaultDockerRoot, "dockerd's data root, whose containers/ID/config.v2.json name the containers (name, image, labels; never Env)")
	fs.DurationVar(&f.rearm, "rearm", 0, "with --record or --trigger and -o DIR: after each bundle, pause this long and start again, until SIGINT or SIGTERM (the collector as a DaemonSet's or a service's main process)")
	fs.DurationVar(&f.hold, "hold", 0, "after the bundle is written, stay this long (SIGTERM ends it) so that it can be copied out of a container, then exit with the collection's status")
	fs.StringVar(&f.readyFile, "ready-file", "", "rewrite this file at every tick (and every interval of a --rearm pause), removed at exit: an exec probe checks its age")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress line and no summary")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		// Help asked for goes to stdout (iorca-collect --help | less);
		// pflag calls this only for -h and --help, the errors are
		// run's one line on stderr.
		fmt.Fprint(stdout, usageHead)
		fmt.Fprint(stdout, cli.FlagUsages(fs))
		fmt.Fprint(stdout, usageTail)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.Strace = !f.noStrace
	c.Redact = !f.noRedact
	c.StraceMaxBytes = int64(f.strMax)
	c.BlockTrace = !f.noBlock
	c.BlockTraceMaxBytes = int64(f.blkMax)
	c.SetDelayAcct = !f.keepDA
	c.MaxBundleBytes = int64(f.bundMax)
	c.RecordBytes = int64(f.recMax)
	c.KeepBytes = int64(f.keepMax)
	c.Version = cli.Version(version)
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--label %q: want KEY=VALUE", kv)
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		if _, dup := c.Labels[k]; dup {
			return nil, fmt.Errorf("--label %s given twice", k)
		}
		c.Labels[k] = v
	}
	if fs.Changed("trigger") {
		e, err := trigger.Parse(f.trigger)
		if err != nil {
			return nil, err
		}
		c.Trigger = e
	}
	if c.Output != "" && c.Output != "-" {
		if st, err := os.Stat(c.Output); strings.HasSuffix(c.Output, "/") || (err == nil && st.IsDir()) {
			c.OutputDir, c.Output = c.Output, ""
		}
	}
	if c.Output == "" && c.OutputDir == "" {
		c.Output = defaultOutput(time.Now())
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if f.rearm > 0 && (c.OutputDir == "" || (c.Record == 0 && c.Trigger == nil)) {
		return nil, fmt.Errorf("--rearm needs --record or --trigger, and -o DIR for the bundles")
	}
	if f.rearm < 0 || f.hold < 0 {
		return nil, fmt.Errorf("--rearm and --hold take a duration of 0 or more")
	}
	return f, nil
}

// defaultOutput names a bundle after the host and the UTC start time.
func defaultOutput(now time.Time) string { return collector.BundleName(now) }

// interruptContext is cancelled by the first SIGINT or SIGTERM, with the
// signal as its cause; the collection then stops and writes a partial
// bundle (a recorder writes its window). Later signals are reported and
// ignored: the bundle is being written and takes a moment.
func interruptContext(stderr io.Writer, quiet bool, onStop *stopNote) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		first := true
		for sig := range ch {
			if first {
				cancel(collector.Interrupt{Signal: signalName(sig)})
				first = false
				if !quiet {
					fmt.Fprintf(stderr, "\niorca-collect: %s: stopping; %s\n", signalName(sig), onStop.get())
				}
				continue
			}
			fmt.Fprintf(stderr, "iorca-collect: %s: already stopping; the partial bundle is being written\n", signalName(sig))
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// terminal is the collector's stderr, which may go away mid-run: an ssh
// session to a node in an IO incident is the one that drops. Once it
// has hung up (SIGHUP) or a write to it failed (EIO from a closed pty,
// EPIPE from a reader gone), nothing more is written to it.
type terminal struct {
	w    io.Writer
	gone atomic.Bool
}

func (t *terminal) Write(p []byte) (int, error) {
	if t.gone.Load() {
		return len(p), nil
	}
	if _, err := t.w.Write(p); err != nil {
		t.gone.Store(true)
	}
	return len(p), nil
}

// watchTerminal makes the collector outlive its terminal, as under
// nohup: SIGHUP no longer kills it (the capture would be lost and its
// tracing instance, tracefs mount and task_delayacct left behind); the
// run goes on to its end, silent, and the manifest says when the
// terminal went. SIGPIPE is caught too, so that a write to a stdout or
// stderr whose reader is gone fails with EPIPE, which the output and the
// terminal handle, instead of killing the process.
func watchTerminal(t *terminal) (<-chan struct{}, func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGPIPE)
	hung := make(chan struct{})
	done := make(chan struct{})
	go func() {
		var once sync.Once
		for {
			select {
			case sig := <-ch:
				if sig == syscall.SIGHUP {
					t.gone.Store(true)
					once.Do(func() { close(hung) })
				}
			case <-done:
				return
			}
		}
	}()
	return hung, func() { signal.Stop(ch); close(done) }
}

// notifyDump passes SIGUSR1 to a recorder: write the window now. Without
// a recorder the signal is reported and ignored (its default action would
// kill the collector without its clean-up).
func notifyDump(dump chan<- struct{}, stderr io.Writer, quiet, recorder bool) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				if !recorder {
					fmt.Fprintln(stderr, "\niorca-collect: SIGUSR1 ignored: it writes a recorder's window, and there is no --record")
					continue
				}
				select {
				case dump <- struct{}{}:
					if !quiet {
						fmt.Fprintln(stderr, "\niorca-collect: SIGUSR1: writing the recorder's window")
					}
				default:
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
