package collector

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/trigger"
)

// Config is one collection's settings.
type Config struct {
	// Output is the bundle path; "-" writes to standard output. With
	// OutputDir set, Output is ignored: the bundle is named when it is
	// written (BundleName, after its first tick) in OutputDir, and the
	// oldest bundles there are removed to keep at most Keep of them and
	// KeepBytes in all (0: no bound).
	Output    string
	OutputDir string
	Keep      int
	KeepBytes int64
	// Force allows overwriting an existing Output.
	Force bool
	// Duration is how long to sample, Interval the time between ticks.
	Duration, Interval time.Duration
	// PIDs are always targets.
	PIDs []int
	// Top is how many processes to pick by disk bytes and by write syscalls.
	Top int
	// SelectAfter is the first sampling window, after which targets are
	// picked; it is clipped to the run.
	SelectAfter time.Duration
	// Strace enables the bounded traces.
	Strace         bool
	StraceDuration time.Duration
	StraceMaxBytes int64
	// StracePath overrides the strace found on PATH (tests).
	StracePath string
	// BlockTrace enables the block-layer capture through tracefs, from
	// the start of the run for BlockTraceDuration or BlockTraceMaxBytes.
	BlockTrace         bool
	BlockTraceDuration time.Duration
	BlockTraceMaxBytes int64
	// SetDelayAcct turns kernel.task_delayacct on for the run (and back
	// off after), as iotop does.
	SetDelayAcct bool
	// MaxBundleBytes bounds the written bundle.
	MaxBundleBytes int64
	// Redact masks secrets (on by default).
	Redact bool
	// RedactPatterns are user patterns (RE2) masked besides the built-in
	// rules, in command lines and strace output: the match, or its first
	// capture group.
	RedactPatterns []string
	// FallbackDir receives the bundle when Output's filesystem refuses it
	// at the end (full, read-only); "" disables the fallback.
	FallbackDir string
	// StateDir holds the state files collectors share (what each changed
	// on the node); "" is nodestate.DefaultDir.
	StateDir string
	// Version is the collector's version, written into the manifest.
	Version string
	// Node names the node in its cluster; Labels are attached to the
	// bundle (zone, pool...) for iorca fleet.
	Node   string
	Labels map[string]string
	// DockerRoot is dockerd's data root, where each container's
	// config.v2.json gives its name, image and labels.
	DockerRoot string
	// Progress, when set, is called after every tick.
	Progress func(Progress)

	// Trigger, when set, makes the run wait until it fires — held in
	// TriggerFor consecutive intervals — before it captures; Wait bounds
	// the wait (0: until a signal). Without a recorder the wait reads
	// only the trigger's files (trigger.Sample), not the processes.
	Trigger    *trigger.Expr
	TriggerFor int
	Wait       time.Duration
	// Record, when above 0, runs a flight recorder: every interval is
	// sampled in full and the last Record of samples kept in memory,
	// compressed, within RecordBytes. The recorder writes them with the
	// rest of the bundle when the trigger fires (followed by the capture
	// proper), when Dump receives, or when ctx ends.
	Record      time.Duration
	RecordBytes int64
	Dump        <-chan struct{}
	// HungUp is closed when the terminal went away (SIGHUP): the run goes
	// on, and the manifest says when (CaptureStart.HungUp).
	HungUp <-chan struct{}
}

// Progress is the state of a running collection.
type Progress struct {
	// Phase is PhaseWaiting or PhaseRecording before the capture proper,
	// PhaseCapturing during it.
	Phase             string
	Elapsed, Duration time.Duration
	Tick, Ticks       int
	Targets, Tracing  int
	// Trigger is the last interval's trigger figures while waiting;
	// Held how many consecutive intervals held.
	Trigger trigger.Outcome
	Held    int
	// Window and WindowBytes are what a recorder holds.
	Window      time.Duration
	WindowBytes int64
}

// Phases of a run.
const (
	PhaseWaiting   = "waiting"
	PhaseRecording = "recording"
	PhaseCapturing = "capturing"
)

// labelKey is a label's key: Kubernetes' label key syntax, which zone
// and pool keys already follow (topology.kubernetes.io/zone).
var labelKey = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$`)

// ErrNotFired is the error of a run whose trigger never fired: --wait
// expired, or a signal came, before it did. No bundle is written.
var ErrNotFired = errors.New("the trigger did not fire")

// Defaults for the flags.
const (
	DefaultDuration = 30 * time.Second
	DefaultInterval = time.Second
	DefaultTop      = 3
	// MaxTop bounds --top: up to four picks of N each (disk bytes, write
	// syscalls, device time, IO wait) are traced at once.
	MaxTop = 10
	// MaxPIDs bounds the -p list, for the same reason.
	MaxPIDs               = 64
	DefaultSelectAfter    = 3 * time.Second
	DefaultStraceDuration = 5 * time.Second
	DefaultStraceMaxBytes = 16 << 20
	// The block trace's defaults: at 100k requests a second its text
	// costs about half a saturating workload's rate on 2 CPUs
	// (REFERENCE-IO.md 12), so it is bounded like a strace.
	DefaultBlockTraceDuration = 10 * time.Second
	DefaultBlockTraceMaxBytes = 32 << 20
	// blockTraceBufferKB is each CPU's ring buffer.
	blockTraceBufferKB    = 4096
	DefaultMaxBundleBytes = 64 << 20
	// DefaultTriggerFor is how many consecutive intervals a trigger must
	// hold: one bad second is noise, three are an incident starting.
	DefaultTriggerFor = 3
	// DefaultRecordBytes bounds a recorder's window: a tick of 1,000
	// processes compresses to about 15 KiB, so 16 MiB holds a quarter of
	// an hour of them.
	DefaultRecordBytes = 16 << 20
	minRecordBytes     = 256 << 10
	// minBundleBytes leaves room for the manifest and a few ticks.
	minBundleBytes = 64 << 10
)

// Validate checks the settings and explains what is wrong.
func (c *Config) Validate() error {
	var errs []error
	if c.Interval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("--interval %v: want at least 10ms", c.Interval))
	}
	if c.Duration < c.Interval {
		errs = append(errs, fmt.Errorf("--duration %v is shorter than --interval %v", c.Duration, c.Interval))
	}
	if c.Top < 0 || c.Top > MaxTop {
		errs = append(errs, fmt.Errorf("--top %d: want 0 to %d (each pick is traced: strace slows what it traces, and hundreds at once would make the incident worse)", c.Top, MaxTop))
	}
	if len(c.PIDs) > MaxPIDs {
		errs = append(errs, fmt.Errorf("-p names %d processes: want at most %d (each is traced)", len(c.PIDs), MaxPIDs))
	}
	if c.Strace && c.StraceDuration <= 0 {
		errs = append(errs, fmt.Errorf("--strace-duration %v: want more than 0 (or --no-strace)", c.StraceDuration))
	}
	if c.Strace && c.StraceMaxBytes < 4096 {
		errs = append(errs, fmt.Errorf("--strace-max-bytes %d: want at least 4KiB", c.StraceMaxBytes))
	}
	if c.BlockTrace && c.BlockTraceDuration <= 0 {
		errs = append(errs, fmt.Errorf("--block-trace-duration %v: want more than 0 (or --no-block-trace)", c.BlockTraceDuration))
	}
	if c.BlockTrace && c.BlockTraceMaxBytes < 64<<10 {
		errs = append(errs, fmt.Errorf("--block-trace-max-bytes %d: want at least 64KiB", c.BlockTraceMaxBytes))
	}
	if c.MaxBundleBytes < minBundleBytes {
		errs = append(errs, fmt.Errorf("--max-bundle-bytes %d: want at least 64KiB", c.MaxBundleBytes))
	}
	for _, p := range c.PIDs {
		if p <= 0 {
			errs = append(errs, fmt.Errorf("--pid %d: not a process id", p))
		}
	}
	if c.Output == "" && c.OutputDir == "" {
		errs = append(errs, errors.New("--output is empty"))
	}
	if (c.Keep != 0 || c.KeepBytes != 0) && c.OutputDir == "" {
		errs = append(errs, errors.New("--keep and --keep-bytes prune a directory of bundles: give -o a directory"))
	}
	if c.Keep < 0 || c.KeepBytes < 0 {
		errs = append(errs, errors.New("--keep and --keep-bytes: want 0 (no bound) or more"))
	}
	for k, v := range c.Labels {
		if !labelKey.MatchString(k) || len(k) > 253 {
			errs = append(errs, fmt.Errorf("--label %q: a key is letters, digits, '.', '-', '_' and '/', starting and ending with a letter or digit", k))
		}
		if len(v) > 256 || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			errs = append(errs, fmt.Errorf("--label %s: the value is at most 256 printable characters", k))
		}
	}
	for _, p := range c.RedactPatterns {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("--redact %q: %v", p, err))
		}
	}
	if len(c.RedactPatterns) > 0 && !c.Redact {
		errs = append(errs, errors.New("--redact adds patterns to the redaction that --no-redact turns off"))
	}
	if c.Trigger != nil && c.TriggerFor < 1 {
		errs = append(errs, fmt.Errorf("--trigger-for %d: want 1 or more", c.TriggerFor))
	}
	if c.Wait < 0 || (c.Wait > 0 && c.Trigger == nil) {
		errs = append(errs, fmt.Errorf("--wait %v: bounds the wait for a --trigger; give one", c.Wait))
	}
	if c.Record < 0 || (c.Record > 0 && c.Record < c.Interval) {
		errs = append(errs, fmt.Errorf("--record %v: want at least one --interval (%v)", c.Record, c.Interval))
	}
	if c.Record > 0 && c.RecordBytes < minRecordBytes {
		errs = append(errs, fmt.Errorf("--record-bytes %d: want at least 256KiB", c.RecordBytes))
	}
	return errors.Join(errs...)
}

// ticks returns how many ticks the run takes: one at the start, then one
// per interval.
func (c *Config) ticks() int {
	return int(c.Duration/c.Interval) + 1
}

// traceTicks is how many ticks a trace lasts at most.
func (c *Config) traceTicks() int {
	if !c.Strace {
		return 0
	}
	return int((c.StraceDuration + c.Interval - 1) / c.Interval)
}

// selectTick is the tick after which targets are picked.
func (c *Config) selectTick() int {
	n := int((c.SelectAfter + c.Interval/2) / c.Interval)
	return max(1, min(n, c.ticks()-1))
}
