package window

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Thresholds are every number a rule compares with. Each default says
// where it comes from; each can be overridden by name (--threshold
// NAME=VALUE, or a rules file of NAME = VALUE lines).
type Thresholds struct {
	// UtilPct: a device is saturated above this %util (DESIGN.md; the
	// usual SRE alert, "util > 80 %"). iostat(1) warns that devices
	// serving requests in parallel can exceed it without being at their
	// limit, hence the await condition as well.
	UtilPct float64
	// AwaitMS: and requests wait longer than this on average (DESIGN.md;
	// 10 ms is slow for SSDs and a busy queue for disks).
	AwaitMS float64
	// QueueDepth: or, instead of UtilPct, this many requests in the
	// queue on average (aqu-sz) with await over AwaitMS: requests that
	// last longer than a jiffy are undercounted in io_ticks, so a device
	// whose requests take a second can read 60 % busy with 35 queued.
	QueueDepth float64
	// DominantShare: one process or container doing at least this share
	// of the node's disk bytes is dominant (DESIGN.md, 50 %).
	DominantShare float64
	// DominantMinBytesPerSec: below this total disk throughput no process
	// is called dominant: an idle node's top process is not a culprit.
	DominantMinBytesPerSec float64
	// SmallWriteMaxAvg: writes averaging fewer bytes than this are small
	// (below a 4 KiB page, every write can dirty or rewrite a whole page;
	// log lines are 50-500 bytes).
	SmallWriteMaxAvg float64
	// SmallWriteMinPerSec: and this many per second to one file is many.
	SmallWriteMinPerSec float64
	// SyncMinPerSec: synchronous writes (O_SYNC writes or fsyncs) at this
	// rate or more are reported.
	SyncMinPerSec float64
	// SyncAllMinPerSec: sync() or syncfs() calls at this rate or more are
	// reported: each writes back a whole filesystem (or all of them) and
	// commits its journal; a snapshot needs one, not a loop.
	SyncAllMinPerSec float64
	// AmplificationRatio: block bytes written (write_bytes) at least this
	// many times the bytes handed to write() (wchar) is amplification.
	AmplificationRatio float64
	// AmplificationMinBytesPerSec: ignored below this write_bytes rate.
	AmplificationMinBytesPerSec float64
	// PSISomePct, PSIFullPct: IO pressure (avg10, %) above these is a stall
	// (Documentation/accounting/psi.rst; 10 % of time with a task waiting).
	PSISomePct, PSIFullPct float64
	// DStatePct: a process in D state in at least this share of ticks is
	// stalled.
	DStatePct float64
	// IODelayPct: iotop's IO% (block-IO delay share) above this is a stall.
	IODelayPct float64
	// DirtyLimitPct: Dirty+Writeback above this share of the dirty limit
	// (nr_dirty_threshold) means writers are being throttled.
	DirtyLimitPct float64
	// ThrottleUsePct: a cgroup moving at least this share of its io.max
	// or blkio throttle limit is being held at the limit.
	ThrottleUsePct float64
	// FSFullPct, FSCriticalPct: space or inodes used.
	FSFullPct, FSCriticalPct float64
	// SwapPagesPerSec: pswpin+pswpout above this is swap IO.
	SwapPagesPerSec float64
	// WriteMatchHigh, WriteMatchLow: a write_bytes/wchar ratio between
	// these says each byte handed to write() reached the page cache once;
	// above WriteMatchHigh the block bytes exceed the syscall bytes
	// (amplification, read with AmplificationRatio for a finding), below
	// WriteMatchLow the page cache absorbed writes, or they went to pipes,
	// sockets or overwrote dirty pages. 25 % either side leaves room for
	// page rounding and writeback that lags the window.
	WriteMatchHigh, WriteMatchLow float64
	// CPUPct: a process making over a thousand IO syscalls a second and
	// using this share of one CPU pays for its IO in CPU (cpu-cost).
	CPUPct float64
	// DeviceSharePct: a process holding at least this share of a
	// saturated device's time is a cause there whatever its rate: on a
	// slow disk a synchronous writer manages few writes a second because
	// each one waits.
	DeviceSharePct float64
	// KernelThreadMinBytes: a kernel thread (writeback, a loop device's
	// worker, jbd2) writing less than this in the window is background,
	// left out of the evidence chain's "who does the IO" (1 MiB).
	KernelThreadMinBytes float64
	// MinWindowS: a window shorter than this (or of fewer than three
	// intervals) cannot tell a burst from a trend, so its rate-based
	// findings are at most of medium confidence (5 s: the kernel's own
	// shortest pressure average is 10 s, iostat users look at several
	// 1 s lines before trusting one).
	MinWindowS float64
	// MinTraceCalls: a finding resting on fewer traced calls than this
	// (sizes, syncs after writes) is at most of medium confidence: a
	// handful of calls can be one burst of a program that usually
	// batches.
	MinTraceCalls float64
	// MarginPct: a finding whose deciding figure passes its threshold by
	// less than this share of it (a 52 % share against 50 %) is at most
	// of medium confidence: the next capture may fall on the other side.
	MarginPct float64
	// RivalShare: a second application holding at least this fraction of
	// the culprit's share of the hurting device (and DeviceSharePct
	// itself) is a competing explanation: the verdict is then of medium
	// confidence and names both.
	RivalShare float64
	// MetaReadsMinPerSec: a process reading filesystem metadata (inode
	// tables, directories: requests flagged REQ_META) from a device this
	// many times a second is scanning a tree on a cold cache (a disk
	// serves 100-200 random reads a second: 20 is a tenth of one).
	MetaReadsMinPerSec float64
	// RecentErrorS: a kernel IO error logged less than this many seconds
	// before the capture (or during it) is part of the incident and
	// critical; older ones are context (10 minutes: the time from an
	// alert to someone running the collector).
	RecentErrorS float64
	// AlertScrapeS: the scrape interval, in seconds, the published alert
	// rules are written for: their rate windows and for: are 5m, or four
	// scrapes when longer (15 s, the usual node_exporter scrape). Each
	// rule is proven on the bundle at the bundle's own resolution.
	AlertScrapeS float64
}

// Defaults returns the default thresholds.
func Defaults() Thresholds {
	return Thresholds{
		UtilPct: 80, AwaitMS: 10, QueueDepth: 4,
		DominantShare: 0.5, DominantMinBytesPerSec: 256 << 10,
		SmallWriteMaxAvg: 1024, SmallWriteMinPerSec: 50,
		SyncMinPerSec: 5, SyncAllMinPerSec: 1,
		AmplificationRatio: 4, AmplificationMinBytesPerSec: 256 << 10,
		PSISomePct: 10, PSIFullPct: 5, DStatePct: 50, IODelayPct: 20,
		DirtyLimitPct:  80,
		ThrottleUsePct: 90,
		FSFullPct:      90, FSCriticalPct: 97,
		SwapPagesPerSec: 10,
		WriteMatchHigh:  1.25, WriteMatchLow: 0.8,
		KernelThreadMinBytes: 1 << 20,
		DeviceSharePct:       25,
		CPUPct:               50,
		MinWindowS:           5,
		MinTraceCalls:        20,
		MarginPct:            20,
		RivalShare:           0.75,
		RecentErrorS:         600,
		MetaReadsMinPerSec:   20,
		AlertScrapeS:         15,
	}
}

// fields maps threshold names (as written in flags and files) to fields.
func (t *Thresholds) fields() map[string]*float64 {
	return map[string]*float64{
		"util_pct": &t.UtilPct, "await_ms": &t.AwaitMS, "queue_depth": &t.QueueDepth,
		"dominant_share": &t.DominantShare, "dominant_min_bytes_per_sec": &t.DominantMinBytesPerSec,
		"small_write_max_avg": &t.SmallWriteMaxAvg, "small_write_min_per_sec": &t.SmallWriteMinPerSec,
		"sync_min_per_sec": &t.SyncMinPerSec, "sync_all_min_per_sec": &t.SyncAllMinPerSec,
		"amplification_ratio": &t.AmplificationRatio, "amplification_min_bytes_per_sec": &t.AmplificationMinBytesPerSec,
		"psi_some_pct": &t.PSISomePct, "psi_full_pct": &t.PSIFullPct, "dstate_pct": &t.DStatePct, "iodelay_pct": &t.IODelayPct,
		"dirty_limit_pct": &t.DirtyLimitPct, "throttle_use_pct": &t.ThrottleUsePct,
		"fs_full_pct": &t.FSFullPct, "fs_critical_pct": &t.FSCriticalPct, "swap_pages_per_sec": &t.SwapPagesPerSec,
		"write_match_high": &t.WriteMatchHigh, "write_match_low": &t.WriteMatchLow, "kernel_thread_min_bytes": &t.KernelThreadMinBytes,
		"device_share_pct": &t.DeviceSharePct, "cpu_pct": &t.CPUPct,
		"min_window_s": &t.MinWindowS, "min_trace_calls": &t.MinTraceCalls, "margin_pct": &t.MarginPct, "rival_share": &t.RivalShare, "recent_error_s": &t.RecentErrorS,
		"meta_reads_min_per_sec": &t.MetaReadsMinPerSec, "alert_scrape_s": &t.AlertScrapeS,
	}
}

// Names lists the threshold names, sorted.
func (t *Thresholds) Names() []string {
	var out []string
	for n := range t.fields() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Set overrides one threshold: "util_pct=90".
func (t *Thresholds) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("threshold %q: want NAME=VALUE", kv)
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	f, ok := t.fields()[k]
	if !ok {
		return fmt.Errorf("no threshold %q (known: %s)", k, strings.Join(t.Names(), ", "))
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || x < 0 {
		return fmt.Errorf("threshold %s: %q is not a non-negative number", k, v)
	}
	*f = x
	return nil
}

// Load reads NAME = VALUE lines (# starts a comment) and applies them.
func (t *Thresholds) Load(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		if l == "" {
			continue
		}
		if err := t.Set(l); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	return sc.Err()
}

// Values returns every threshold by name, for the report's appendix.
func (t *Thresholds) Values() map[string]float64 {
	out := map[string]float64{}
	for n, f := range t.fields() {
		out[n] = *f
	}
	return out
}

// thresholdHelp is each threshold's meaning in one line, for --help.
var thresholdHelp = map[string]string{
	"util_pct":                        "a device busy above this %util whose requests wait over await_ms on average is saturated",
	"await_ms":                        "a device whose requests wait longer than this on average (ms), while busy over util_pct or queued to queue_depth, is saturated",
	"queue_depth":                     "a device with this many requests queued on average (aqu-sz) and await over await_ms is saturated, whatever its %util",
	"dominant_share":                  "a process or container with this fraction of the node's disk bytes is dominant",
	"dominant_min_bytes_per_sec":      "no process is dominant below this total disk throughput",
	"small_write_max_avg":             "writes averaging fewer bytes than this are small",
	"small_write_min_per_sec":         "small writes (below small_write_max_avg bytes) to one file at this rate or more are reported",
	"sync_min_per_sec":                "synchronous writes or syncs at this rate or more are reported",
	"sync_all_min_per_sec":            "sync() or syncfs() calls at this rate or more are reported",
	"amplification_ratio":             "write_bytes this many times wchar is amplification",
	"amplification_min_bytes_per_sec": "amplification is ignored below this write_bytes rate",
	"psi_some_pct":                    "IO pressure (some) above this share of the time is a stall",
	"psi_full_pct":                    "IO pressure (full) above this share of the time is a stall",
	"dstate_pct":                      "a process in D state in this share of ticks is stalled",
	"iodelay_pct":                     "iotop's IO% (block-IO delay share) above this is a stall",
	"dirty_limit_pct":                 "Dirty+Writeback above this share of the dirty limit means throttling",
	"throttle_use_pct":                "a cgroup using this share of its IO limit is held at it",
	"fs_full_pct":                     "space or inodes used above this is a full filesystem (warning)",
	"fs_critical_pct":                 "space or inodes used above this is a full filesystem (critical)",
	"swap_pages_per_sec":              "pswpin+pswpout above this is swap IO",
	"write_match_high":                "write_bytes/wchar above this: the block bytes exceed the syscall bytes",
	"write_match_low":                 "write_bytes/wchar below this: the page cache absorbed the writes",
	"kernel_thread_min_bytes":         "kernel threads writing less than this are left out of the evidence",
	"device_share_pct":                "a process holding this share of a hurting device's time is a cause there",
	"cpu_pct":                         "a process making 1,000+ IO syscalls a second on this share of a CPU pays in CPU",
	"min_window_s":                    "a shorter window gives rate findings of medium confidence at most",
	"min_trace_calls":                 "a finding on fewer traced calls is of medium confidence at most",
	"margin_pct":                      "a figure passing its threshold by less than this share of it is of medium confidence",
	"rival_share":                     "a second application with this fraction of the culprit's device share is a rival",
	"recent_error_s":                  "kernel IO errors younger than this (seconds) are part of the incident",
	"meta_reads_min_per_sec":          "a process reading this many metadata blocks a second (inode tables, directories) from a hurting device is a metadata scan",
	"alert_scrape_s":                  "the scrape interval (seconds) the published alert rules are written for: rate windows and for: of 5m, or four scrapes when longer",
}

// Help writes each threshold's name, default and meaning, one a line,
// the numbers as written (262144, not 2.62144e+05).
func Help(w io.Writer) {
	d := Defaults()
	vals := d.Values()
	for _, n := range d.Names() {
		fmt.Fprintf(w, "  %-32s %-8s %s\n", n, strconv.FormatFloat(vals[n], 'f', -1, 64), thresholdHelp[n])
	}
}
