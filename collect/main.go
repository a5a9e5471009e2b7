package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/collector"
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
	exitIncomplete = 3
)

const usageHead = `iorca-collect snapshots this node's disk-IO state into one bundle
(tar + zstd) for offline analysis with "iorca report".

It samples, every interval: /proc/diskstats and /sys/block/*/stat (iostat -x),
/proc/PID/io and /proc/PID/stat of every process (iotop -aoP, pidstat -d),
vmstat, meminfo, PSI and cgroup IO stats; once: mount tables, block queue
settings, vm.dirty_* sysctls, statfs of each mount, the kernel log tail and a
process table. After a first window it picks the top processes by disk bytes
and by write syscalls (plus any --pid), records their open files and fd flags,
and traces them briefly with strace -f -tt -T -y. Everything stays in memory
and is written once, at the end. Run it as root to see every process.

Usage:
  iorca-collect [flags]

Examples:
  sudo iorca-collect                                # 30 s, bundle in the current directory
  sudo iorca-collect -d 60s -o /dev/shm/node1.tar.zst   # the local disk is full or sick
  sudo iorca-collect -p 4242 --strace-duration 10s  # always look at PID 4242
  sudo iorca-collect --no-strace -q                 # never ptrace anything
  sudo iorca-collect --no-block-trace               # leave tracefs alone

Flags:
`

const usageTail = `
Exit status:
  0  bundle written and complete
  3  bundle written but incomplete: interrupted (SIGINT/SIGTERM), cut short or
     members dropped to fit --max-bundle-bytes, strace unavailable, reads denied
     or failed, or written to the fallback directory; the manifest's "errors"
     and "bounds" say which
  1  no bundle written (bad flags, output not writable or too little room)

strace slows a traced process by orders of magnitude while attached; keep
--strace-duration short. Syscall payloads, environment variables and secrets in
command lines (--password=..., TOKEN=...) never enter the bundle unless
--no-redact is given.

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
}

// memoryLimit is the heap the collector aims to stay under unless
// GOMEMLIMIT says otherwise: its samples are compressed and spilled as
// they arrive, so what remains is a tick's texts, the process table being
// built and the runtime; near the limit the garbage collector runs
// sooner rather than letting the heap double. Measured at 5,000
// processes: 54 MiB peak without it, 35 MiB with it, for 5 % more CPU.
const memoryLimit = 32 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return exitComplete
	}
	if err != nil {
		fmt.Fprintf(stderr, "iorca-collect: %v\n(see iorca-collect --help)\n", err)
		return exitNoBundle
	}
	if f.version {
		fmt.Fprintln(os.Stdout, "iorca-collect", cli.Version(version))
		return exitComplete
	}
	ctx, stop := interruptContext(stderr, f.quiet)
	defer stop()

	progress := newProgressLine(stderr, f.quiet)
	f.cfg.Progress = progress.update
	res, err := collector.Run(ctx, f.cfg)
	progress.clear()
	if err != nil {
		fmt.Fprintf(stderr, "iorca-collect: %v\n", err)
		return exitNoBundle
	}
	if !f.quiet {
		printSummary(stderr, res)
	}
	if res.Incomplete {
		return exitIncomplete
	}
	return exitComplete
}

func parseFlags(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{strMax: collector.DefaultStraceMaxBytes, blkMax: collector.DefaultBlockTraceMaxBytes, bundMax: collector.DefaultMaxBundleBytes}
	fs := pflag.NewFlagSet("iorca-collect", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	c := &f.cfg
	fs.StringVarP(&c.Output, "output", "o", "", "bundle path (default iorca-<hostname>-<UTC time>.tar.zst; - for stdout)")
	fs.DurationVarP(&c.Duration, "duration", "d", collector.DefaultDuration, "how long to sample")
	fs.DurationVarP(&c.Interval, "interval", "i", collector.DefaultInterval, "time between samples")
	fs.IntSliceVarP(&c.PIDs, "pid", "p", nil, "always make this process a target (repeatable)")
	fs.IntVar(&c.Top, "top", collector.DefaultTop, "targets picked by disk bytes, write syscalls, device time and IO wait, N each")
	fs.DurationVar(&c.SelectAfter, "select-after", collector.DefaultSelectAfter, "first sampling window, after which targets are picked")
	fs.DurationVar(&c.StraceDuration, "strace-duration", collector.DefaultStraceDuration, "how long each target is traced at most")
	fs.Var(&f.strMax, "strace-max-bytes", "trace output kept per target at most; the trace stops there")
	fs.BoolVar(&f.noStrace, "no-strace", false, "never run strace")
	fs.DurationVar(&c.BlockTraceDuration, "block-trace-duration", collector.DefaultBlockTraceDuration, "how long the block-layer trace runs, from the start")
	fs.Var(&f.blkMax, "block-trace-max-bytes", "block-layer trace text kept at most; the trace stops there")
	fs.BoolVar(&f.noBlock, "no-block-trace", false, "never trace the block layer (tracefs)")
	fs.BoolVar(&f.keepDA, "keep-delayacct", false, "leave kernel.task_delayacct as it is (per-process IO wait is then unknown when it is 0)")
	fs.Var(&f.bundMax, "max-bundle-bytes", "the bundle never exceeds this; what was dropped is in the manifest")
	fs.BoolVar(&f.noRedact, "no-redact", false, "keep secrets in command lines and a 32-byte prefix of syscall buffers")
	fs.BoolVar(&c.Force, "force", false, "replace an existing output file")
	fs.StringVar(&c.FallbackDir, "fallback-dir", "/dev/shm", "where to write the bundle if the output filesystem fills up or fails at the end (\"\" disables)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress line and no summary")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		// pflag marks every boolean "[=true|false]"; GNU tools do not.
		fmt.Fprint(stderr, strings.ReplaceAll(fs.FlagUsages(), "[=true|false]", ""))
		fmt.Fprint(stderr, usageTail)
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
	c.Version = cli.Version(version)
	if c.Output == "" {
		c.Output = defaultOutput(time.Now())
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// defaultOutput names a bundle after the host and the UTC start time.
func defaultOutput(now time.Time) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r < ' ' {
			return '_'
		}
		return r
	}, host)
	return fmt.Sprintf("iorca-%s-%s.tar.zst", host, now.UTC().Format("20060102T150405Z"))
}

// interruptContext is cancelled by the first SIGINT or SIGTERM, with the
// signal as its cause; the collection then stops and writes a partial
// bundle. Later signals are reported and ignored: the bundle is being
// written and takes a moment.
func interruptContext(stderr io.Writer, quiet bool) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		first := true
		for sig := range ch {
			if first {
				cancel(fmt.Errorf("interrupted by %s", signalName(sig)))
				first = false
				if !quiet {
					fmt.Fprintf(stderr, "\niorca-collect: %s: stopping, writing a partial bundle\n", signalName(sig))
				}
				continue
			}
			fmt.Fprintf(stderr, "iorca-collect: %s: already stopping; the partial bundle is being written\n", signalName(sig))
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
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
