package bundle

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// FormatVersion names this version of the bundle format. A reader refuses
// any other value, so a later format change must bump it.
const FormatVersion = "iorca.bundle/v1"

// Manifest describes a bundle: who wrote it, on which host, when, with which
// options, what it holds (every member with its size and SHA-256) and what it
// could not capture. It is the first member of every bundle.
type Manifest struct {
	Format    string    `json:"format"`
	Collector Collector `json:"collector"`
	Host      Host      `json:"host"`
	Start     Clock     `json:"start"`
	End       Clock     `json:"end"`
	// Partial is true when the collection stopped before its planned end
	// (a signal, or a bound on memory); PartialReason says why.
	Partial       bool      `json:"partial"`
	PartialReason string    `json:"partial_reason,omitempty"`
	Options       Options   `json:"options"`
	Ticks         int       `json:"ticks"`
	Targets       []Target  `json:"targets"`
	Members       []Member  `json:"members"`
	Sources       []Source  `json:"sources"`
	Errors        []Problem `json:"errors"`
	Bounds        []Bound   `json:"bounds"`
	// Repaired says what the collector undid at its start that collectors
	// no longer running had left on the node (a tracing instance still
	// recording, task_delayacct left on, tracefs left mounted).
	Repaired  []string  `json:"repaired,omitempty"`
	Redaction Redaction `json:"redaction"`
	Cost      Cost      `json:"cost"`
	// BlockTrace records the block-layer capture; nil when it was off
	// (--no-block-trace, or a bundle from before it existed).
	BlockTrace *BlockTraceInfo `json:"block_trace,omitempty"`
	// DelayAcct records what the collector did with
	// kernel.task_delayacct.
	DelayAcct *DelayAcct `json:"delayacct,omitempty"`
	// Capture says how the capture started; nil in bundles from before
	// triggers existed, which were all started by hand.
	Capture *CaptureStart `json:"capture,omitempty"`
	// Node is the node's name in its cluster (--node-name, or $NODE_NAME
	// from the Kubernetes downward API); "" when neither was given (the
	// hostname then names it).
	Node string `json:"node,omitempty"`
	// Labels are the --label KEY=VALUE pairs (zone, pool...), by which
	// iorca fleet groups nodes.
	Labels map[string]string `json:"labels,omitempty"`
}

// How a capture started.
const (
	StartManual  = "manual"  // the collector ran and sampled at once
	StartTrigger = "trigger" // a --trigger condition held
	StartSignal  = "signal"  // a recorder was told to write (SIGUSR1, SIGINT, SIGTERM)
)

// CaptureStart says how a capture started and where in the bundle.
type CaptureStart struct {
	// How is StartManual, StartTrigger or StartSignal; Signal names the
	// signal for StartSignal.
	How    string `json:"how"`
	Signal string `json:"signal,omitempty"`
	// Trigger is the --trigger condition, fired or not; nil without one.
	Trigger *TriggerInfo `json:"trigger,omitempty"`
	// Record describes the flight recorder's window; nil without one.
	Record *RecordInfo `json:"record,omitempty"`
	// StartTick is the tick at which the capture proper began (the
	// trigger fired, or the signal came): the ticks before it are the
	// recorder's window. 0 without a recorder.
	StartTick int `json:"start_tick"`
	// HungUp is when the collector's terminal went away (SIGHUP, or its
	// stderr's reader closed): the run went on as under nohup and wrote
	// nothing more to the terminal. Absent when it never did.
	HungUp *Clock `json:"hung_up,omitempty"`
}

// TriggerInfo records a --trigger condition and what made it fire.
type TriggerInfo struct {
	Expression string `json:"expression"`
	// For is how many consecutive intervals had to hold.
	For int `json:"for"`
	// Wait bounds the wait (0: none).
	Wait Duration `json:"wait,omitempty"`
	// Fired says the condition held; At is when (the end of the last
	// interval that held), Tick the bundle's tick that ended it (-1 when
	// it is not in the bundle: a trigger without a recorder fires before
	// the first tick), WaitedSeconds how long the collector waited.
	Fired         bool    `json:"fired"`
	At            Clock   `json:"at"`
	Tick          int     `json:"tick"`
	WaitedSeconds float64 `json:"waited_seconds"`
	// Intervals are the figures of the intervals that fired it, oldest
	// first: the device whose figures held ("" for node figures only)
	// and each condition's figure.
	Intervals []TriggerInterval `json:"intervals"`
}

// TriggerInterval is one interval's figures as the trigger computed them.
type TriggerInterval struct {
	Device  string             `json:"device,omitempty"`
	Figures map[string]float64 `json:"figures"`
}

// String is "sda: await 41.2, util 98.0" (figures by name), "" without
// figures.
func (t TriggerInterval) String() string {
	if len(t.Figures) == 0 {
		return ""
	}
	names := slices.Sorted(maps.Keys(t.Figures))
	figs := make([]string, len(names))
	for i, k := range names {
		figs[i] = fmt.Sprintf("%s %.1f", k, t.Figures[k])
	}
	s := strings.Join(figs, ", ")
	if t.Device != "" {
		s = t.Device + ": " + s
	}
	return s
}

// RecordInfo describes a flight recorder's window.
type RecordInfo struct {
	// Window and BudgetBytes are the flags: the last Window of samples,
	// compressed, within BudgetBytes.
	Window      Duration `json:"window"`
	BudgetBytes int64    `json:"budget_bytes"`
	// Ticks is how many of the bundle's ticks come from the window,
	// Bytes their compressed size there; Dropped how many older ticks the
	// recorder let go over its run (to the window or the budget), and
	// RecordedSeconds how long it ran before it wrote.
	Ticks           int     `json:"ticks"`
	Bytes           int64   `json:"bytes"`
	Dropped         int     `json:"dropped"`
	RecordedSeconds float64 `json:"recorded_seconds"`
	// BudgetBound says the budget, not the window, set the oldest tick.
	BudgetBound bool `json:"budget_bound,omitempty"`
	// Skipped counts the intervals the recorder did not sample because it
	// ran late (a stall of the node or of the collector): it skips them
	// rather than sample back to back.
	Skipped int `json:"skipped,omitempty"`
}

// BlockTraceInfo records one bounded capture of block, writeback and jbd2
// tracepoints through tracefs (BlockTraceMember).
type BlockTraceInfo struct {
	Status Status `json:"status"`
	// Tracefs is where tracefs was; MountedTracefs says the collector
	// mounted it there (and unmounted it after).
	Tracefs        string `json:"tracefs,omitempty"`
	MountedTracefs bool   `json:"mounted_tracefs,omitempty"`
	// Instance is the private instance under tracefs/instances, removed
	// at the end.
	Instance string `json:"instance,omitempty"`
	// Events are the events enabled ("block/block_rq_issue"); Missing
	// those this kernel does not have.
	Events         []string `json:"events"`
	Missing        []string `json:"missing"`
	BufferKBPerCPU int      `json:"buffer_kb_per_cpu"`
	// TraceClock is the instance's clock: "mono" is CLOCK_MONOTONIC, the
	// clock of every frame's mono_ns.
	TraceClock string  `json:"trace_clock"`
	Start      Clock   `json:"start"`
	End        Clock   `json:"end"`
	Seconds    float64 `json:"seconds"`
	// Bytes and Lines are the text's (BlockTraceMember).
	Bytes int64 `json:"bytes"`
	Lines int   `json:"lines"`
	// Reader is how the events were read: "trace_pipe_raw" (the
	// per-CPU ring-buffer pages, decoded to text after the capture) or
	// "trace_pipe" (the kernel's text); ReaderFallback says why raw
	// pages were not read. RawBytes are the pages' bytes, which
	// --block-trace-max-bytes bounds when they are read. Spill is where
	// the trace was kept while it ran ("memory" when no file could be
	// made).
	Reader         string `json:"reader,omitempty"`
	ReaderFallback string `json:"reader_fallback,omitempty"`
	RawBytes       int64  `json:"raw_bytes,omitempty"`
	Spill          string `json:"spill,omitempty"`
	Truncated      bool   `json:"truncated"`
	// StopReason is one of "duration", "max-bytes", "interrupted",
	// "collection-end", "failed".
	StopReason string `json:"stop_reason"`
	// TracefsShared is true when the collector mounted tracefs but left
	// it mounted at the end because another collector still used it (the
	// last one unmounts it).
	TracefsShared bool `json:"tracefs_shared,omitempty"`
	// Overruns counts the events lost because the reader fell behind
	// (per_cpu/cpuN/stats, summed).
	Overruns int64 `json:"overruns"`
	// OverrunsPerCPU is each CPU's part of Overruns, by CPU number.
	OverrunsPerCPU []int64 `json:"overruns_per_cpu,omitempty"`
	Error          string  `json:"error,omitempty"`
	// OtherTracers are the other users of tracepoints found when the
	// trace began: processes holding BPF programs or links, and tracefs
	// instances (the top-level one too) with block or writeback events
	// enabled. A BPF program on a block tracepoint runs before ftrace
	// stamps the event, so the trace's latencies read high (12-16 µs per
	// completion measured on a 2-CPU VM). Absent when none was found, and
	// in bundles of collectors before it.
	OtherTracers []OtherTracer `json:"other_tracers,omitempty"`
}

// OtherTracer is one other user of tracepoints: a process (PID, Comm, the
// BPF programs, BPF links and perf events it holds open) or a tracefs
// instance (Instance, "" for none and "/" for the top-level one, with
// its enabled block and writeback events).
type OtherTracer struct {
	PID        int      `json:"pid,omitempty"`
	Comm       string   `json:"comm,omitempty"`
	BPFProgs   int      `json:"bpf_progs,omitempty"`
	BPFLinks   int      `json:"bpf_links,omitempty"`
	PerfEvents int      `json:"perf_events,omitempty"`
	Instance   string   `json:"instance,omitempty"`
	Events     []string `json:"events,omitempty"`
}

// ReaderRaw is BlockTraceInfo.Reader for raw ring-buffer pages decoded to
// text after the capture: block_trace_max_bytes then bounds the pages,
// and the text is larger (RawTextFactor).
const ReaderRaw = "trace_pipe_raw"

// RawTextFactor bounds how much larger the decoded text of a raw block
// trace is than its pages: a line of text is about 1.8 times its event
// (measured on fio's requests), and the smallest events (a jbd2 commit's
// 24 bytes) print as up to four times that.
const RawTextFactor = 4

// DelayAcct records kernel.task_delayacct around the capture: with it on,
// field 42 of /proc/PID/stat counts every task's time waiting for block IO.
type DelayAcct struct {
	// Before is the value found ("0" or "1"), "" when unreadable.
	Before string `json:"before"`
	// Enabled is true when the collector turned it on for the capture;
	// Restored when it put the value back after.
	Enabled  bool `json:"enabled"`
	Restored bool `json:"restored"`
	// LeftOn is true when it was not restored at the end because another
	// collector still running needs it (the last one restores it).
	LeftOn bool   `json:"left_on,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Collector identifies the program that wrote the bundle.
type Collector struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Go      string `json:"go"`
	// Nice and IOPriority are what the collector set for itself so as not
	// to compete with the workload it observes; empty when setting failed.
	Nice       int    `json:"nice"`
	IOPriority string `json:"io_priority"`
	// UID is the effective user the collector ran as; a non-root run sees
	// less (other users' /proc/PID/io is denied) and the analyzer says so.
	UID int `json:"uid"`
	// PID is the collector's own process, which the analyzer leaves out
	// of "who does the IO" (as it does the strace processes).
	PID int `json:"pid"`
	// OwnMountNS is true when the collector ran in a mount namespace
	// other than PID 1's — in a container — so that the host's mount
	// table is /proc/1/mountinfo, not /proc/self/mountinfo.
	OwnMountNS bool `json:"own_mount_ns,omitempty"`
}

// Host describes the machine the bundle was captured on.
type Host struct {
	Hostname      string  `json:"hostname"`
	KernelRelease string  `json:"kernel_release"`
	KernelVersion string  `json:"kernel_version"`
	Arch          string  `json:"arch"`
	BootID        string  `json:"boot_id"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	CPUs          int     `json:"cpus"`
	PageSize      int     `json:"page_size"`
	// UserHZ is the unit of the clock-tick fields of /proc/PID/stat
	// (utime, delayacct_blkio_ticks), read from the AT_CLKTCK auxv entry.
	UserHZ int `json:"user_hz"`
}

// Clock is one reading of the clocks, taken at the same moment: wall time
// for people, CLOCK_MONOTONIC for intervals, CLOCK_BOOTTIME to line up with
// /proc/uptime and kernel log timestamps.
type Clock struct {
	Wall   time.Time `json:"wall"`
	MonoNS int64     `json:"mono_ns"`
	BootNS int64     `json:"boot_ns"`
}

// Duration is a time.Duration written as text ("30s") in JSON.
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Options are the collector settings in force, after defaults.
type Options struct {
	Duration       Duration `json:"duration"`
	Interval       Duration `json:"interval"`
	PIDs           []int    `json:"pids"`
	Top            int      `json:"top"`
	SelectAfter    Duration `json:"select_after"`
	Strace         bool     `json:"strace"`
	StraceDuration Duration `json:"strace_duration"`
	StraceMaxBytes int64    `json:"strace_max_bytes"`
	MaxBundleBytes int64    `json:"max_bundle_bytes"`
	Redact         bool     `json:"redact"`
	// BlockTrace, BlockTraceDuration, BlockTraceMaxBytes bound the
	// block-layer capture.
	BlockTrace         bool     `json:"block_trace"`
	BlockTraceDuration Duration `json:"block_trace_duration"`
	BlockTraceMaxBytes int64    `json:"block_trace_max_bytes"`
	// SetDelayAcct is false with --keep-delayacct.
	SetDelayAcct bool `json:"set_delayacct"`
}

// Target is a process the collector looked at closely: fds, fdinfo, kernel
// stack and a bounded strace.
type Target struct {
	PID  int    `json:"pid"`
	Comm string `json:"comm"`
	// StartTicks is field 22 of /proc/PID/stat; with PID it identifies the
	// process even if the PID is later reused.
	StartTicks uint64 `json:"start_ticks"`
	// Reasons says why it was chosen: "--pid", "top disk bytes (#1)",
	// "top write syscalls (#2)".
	Reasons []string `json:"reasons"`
	// SelectedTick is the tick after which the target was chosen.
	SelectedTick int `json:"selected_tick"`
	// Member is the frames member with its cmdline, fds, fdinfo, mountinfo.
	Member string      `json:"member"`
	Strace *StraceInfo `json:"strace,omitempty"`
}

// StraceInfo records one bounded strace run.
type StraceInfo struct {
	Status  Status   `json:"status"`
	Member  string   `json:"member,omitempty"`
	Command []string `json:"command,omitempty"`
	// TracerPID is the strace process itself.
	TracerPID int   `json:"tracer_pid,omitempty"`
	Start     Clock `json:"start"`
	End       Clock `json:"end"`
	// TracedSeconds is how long the process was under strace: the report
	// must know that its syscall rates in this span were slowed down.
	TracedSeconds float64 `json:"traced_seconds"`
	Bytes         int64   `json:"bytes"`
	Lines         int     `json:"lines"`
	Truncated     bool    `json:"truncated"`
	// StopReason is one of "duration", "max-bytes", "interrupted",
	// "collection-end", "target-exited", "failed", "spill-failed" (the
	// file the trace streams to refused a write: a full /dev/shm or
	// output filesystem; what came before is kept).
	StopReason string `json:"stop_reason"`
	// ExitCode is strace's exit status; 128+N when it ended on signal N.
	ExitCode int `json:"exit_code"`
	// Resumed is true when the collector sent SIGCONT after strace
	// detached, so the target was never left stopped.
	Resumed bool `json:"resumed"`
	// WasStopped is true when the target was stopped (state T) before
	// strace attached: it got no SIGCONT and was left stopped;
	// Restopped when the detach had let it run and it was stopped again.
	WasStopped bool `json:"was_stopped,omitempty"`
	Restopped  bool `json:"restopped,omitempty"`
	// Stderr is strace's own messages, bounded.
	Stderr string `json:"stderr,omitempty"`
}

// Member is one archive member other than the manifest.
type Member struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is the outcome of capturing one kind of data over the whole run.
type Source struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Items is how many reads were attempted, Failed how many did not
	// give data (a process that exited between listing and reading is
	// normal and counted here).
	Items      int     `json:"items"`
	Failed     int     `json:"failed"`
	DurationMS float64 `json:"duration_ms"`
	Detail     string  `json:"detail,omitempty"`
}

// Problem is an error met during collection, written into the bundle beside
// the data so that the analyzer can lower its confidence and say why.
type Problem struct {
	Source string `json:"source"`
	Path   string `json:"path,omitempty"`
	PID    int    `json:"pid,omitempty"`
	Status Status `json:"status"`
	What   string `json:"what"`
	Why    string `json:"why"`
	Tick   int    `json:"tick,omitempty"`
}

// Bound records a limit that was hit and what it cost.
type Bound struct {
	Name    string   `json:"name"`
	Limit   int64    `json:"limit"`
	What    string   `json:"what"`
	Dropped []string `json:"dropped,omitempty"`
}

// Redaction says what was removed to make the bundle safe to attach to a
// ticket.
type Redaction struct {
	Enabled bool `json:"enabled"`
	// StracePayloads says what happened to syscall buffers.
	StracePayloads string `json:"strace_payloads"`
	// Environment is always "never collected".
	Environment  string          `json:"environment"`
	MaskedArgs   int             `json:"masked_args"`
	Log          []RedactedField `json:"log,omitempty"`
	LogTruncated bool            `json:"log_truncated,omitempty"`
	// Rules names the built-in rules the collector applied.
	Rules string `json:"rules,omitempty"`
	// Kinds counts the masked values by the rule that masked them
	// ("http-header", "json", "pattern"...).
	Kinds map[string]int `json:"kinds,omitempty"`
	// Patterns are the --redact patterns, each with how many values it
	// masked (the matches themselves are never recorded).
	Patterns []PatternCount `json:"patterns,omitempty"`
	// Passes are later redactions of the bundle (iorca redact), oldest
	// first.
	Passes []RedactionPass `json:"passes,omitempty"`
}

// PatternCount is a user pattern and how many values it masked.
type PatternCount struct {
	Pattern string `json:"pattern"`
	Masked  int    `json:"masked"`
}

// PatternCounts pairs each pattern, in order, with its count in counts
// (keyed by pattern).
func PatternCounts(patterns []string, counts map[string]int) []PatternCount {
	var out []PatternCount
	for _, p := range patterns {
		out = append(out, PatternCount{Pattern: p, Masked: counts[p]})
	}
	return out
}

// RedactionPass is one redaction of an existing bundle: when, by which
// rules, what it masked and in which members (whose checksums in Members
// are then the redacted content's).
type RedactionPass struct {
	At       time.Time      `json:"at"`
	By       string         `json:"by"`
	Rules    string         `json:"rules"`
	Patterns []PatternCount `json:"patterns,omitempty"`
	Kinds    map[string]int `json:"kinds,omitempty"`
	Masked   int            `json:"masked"`
	Members  []string       `json:"members,omitempty"`
}

// RedactedField is one masked value.
type RedactedField struct {
	Member string `json:"member"`
	PID    int    `json:"pid"`
	// Arg is the index of the masked argument in the command line.
	Arg int `json:"arg"`
	// Key is the option or variable name that made the value look secret
	// (the pattern, for a --redact pattern).
	Key   string `json:"key"`
	Chars int    `json:"chars"`
	// Kind is the rule that masked it; "" in bundles from before kinds.
	Kind string `json:"kind,omitempty"`
}

// Cost is what the collection cost the node, measured by the collector on
// itself (getrusage), so every bundle carries its own overhead.
type Cost struct {
	UserSeconds   float64 `json:"user_seconds"`
	SystemSeconds float64 `json:"system_seconds"`
	MaxRSSKiB     int64   `json:"max_rss_kib"`
	// TickCPUMS is the mean CPU time (user+system) of one tick's sampling.
	TickCPUMS float64 `json:"tick_cpu_ms"`
	// ProcessesPerTick is the mean number of processes sampled per tick.
	ProcessesPerTick float64 `json:"processes_per_tick"`
	// MemoryBytes is the peak of the collector's store of compressed
	// samples; Spill says where it was kept: the directory of its spill
	// file ("/dev/shm", the output's directory), or "memory" when no
	// file could be made; SpillFailed counts samples kept in memory after
	// a write to the spill file failed (a full filesystem).
	MemoryBytes int64  `json:"memory_bytes"`
	Spill       string `json:"spill,omitempty"`
	SpillFailed int    `json:"spill_failed,omitempty"`
}

// Validate checks the fields a reader relies on.
func (m *Manifest) Validate() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("format %q, want %q", m.Format, FormatVersion)
	}
	seen := make(map[string]bool, len(m.Members))
	for i, mem := range m.Members {
		if err := CheckName(mem.Name); err != nil {
			return fmt.Errorf("members[%d]: %w", i, err)
		}
		if mem.Name == ManifestName {
			return fmt.Errorf("members[%d]: the manifest cannot list itself", i)
		}
		if seen[mem.Name] {
			return fmt.Errorf("members[%d]: duplicate member %q", i, mem.Name)
		}
		seen[mem.Name] = true
		if mem.Size < 0 {
			return fmt.Errorf("members[%d] %q: negative size", i, mem.Name)
		}
		if len(mem.SHA256) != 64 {
			return fmt.Errorf("members[%d] %q: sha256 is not 64 hex digits", i, mem.Name)
		}
	}
	return nil
}

// Member returns the manifest entry for name.
func (m *Manifest) Member(name string) (Member, bool) {
	for _, mem := range m.Members {
		if mem.Name == name {
			return mem, true
		}
	}
	return Member{}, false
}

// Statfs is the space and inode usage of one mount, as statfs(2) gave it.
type Statfs struct {
	MountID     int    `json:"mount_id"`
	MountPoint  string `json:"mount_point"`
	FSType      string `json:"fstype"`
	Source      string `json:"source"`
	Status      Status `json:"status"`
	Error       string `json:"error,omitempty"`
	BlockSize   int64  `json:"bsize"`
	Blocks      uint64 `json:"blocks"`
	BlocksFree  uint64 `json:"bfree"`
	BlocksAvail uint64 `json:"bavail"`
	Files       uint64 `json:"files"`
	FilesFree   uint64 `json:"ffree"`
	// PID is the target through whose root the mount was read: a mount
	// of its own mount namespace that the host's table has not (0: the
	// host's).
	PID int `json:"pid,omitempty"`
}
