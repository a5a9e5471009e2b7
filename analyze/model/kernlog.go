package model

import (
	"regexp"
	"strings"
	"time"

	"github.com/iorca/iorca/internal/procfs"
)

// KernelEventKind is what a kernel log record says about IO.
type KernelEventKind int

// The kinds of kernel log records that matter to IO (REFERENCE-IO.md 10.1).
const (
	// IOError: a block request or buffer read failed.
	IOError KernelEventKind = iota
	// LostWrite: a page write failed and its data is lost
	// ("Buffer I/O error ... lost async page write").
	LostWrite
	// FSError: a filesystem reported an error (EXT4-fs error, XFS
	// metadata I/O error, BTRFS error, a journal superblock update).
	FSError
	// JournalAbort: jbd2 aborted the journal: the filesystem takes no
	// more transactions.
	JournalAbort
	// ReadOnly: the filesystem was remounted read-only or shut down.
	ReadOnly
	// HungTask: a task blocked in D state longer than
	// hung_task_timeout_secs.
	HungTask
	// Attach: a device (re)appeared under this name ("loop0: detected
	// capacity change from 0 to N" when a loop device is attached, "[sdb]
	// Attached SCSI disk"): older records about the name were about the
	// device it named before.
	Attach
	// Unsupported: the device refused an operation it does not support
	// ("operation not supported error, dev loop0, sector N op
	// 0x9:(WRITE_ZEROES)" — mkfs probing a loop device): the request was
	// not for it, the device did not fail.
	Unsupported
)

// KernelEvent is a kernel log record about IO, placed on the capture's
// clock: kmsg timestamps are CLOCK_MONOTONIC microseconds since boot,
// the clock of the manifest's Start and End.
type KernelEvent struct {
	Record procfs.KmsgRecord
	Kind   KernelEventKind
	// Device is the block device the record names ("loop0", "sda1"), ""
	// when it names none; DevNum is its major:minor when the record
	// carries one (the DEVICE=bMAJ:MIN dictionary entry).
	Device string
	DevNum string
	// Offset is the record's time from the capture's start (negative
	// before it); During is true between the start and the end.
	Offset time.Duration
	During bool
	// Task names the task of a HungTask record ("comm:pid").
	Task string
}

// Error reports whether the event is an error of a device or filesystem
// (not an attach or a hung task).
func (e KernelEvent) Error() bool { return e.Kind <= ReadOnly }

// kernelPatterns recognise records, first match wins; group 1 is the
// device name (or the task for a hung task).
var kernelPatterns = []struct {
	re   *regexp.Regexp
	kind KernelEventKind
}{
	{regexp.MustCompile(`^(\S+): detected capacity change from 0 to \d+`), Attach},
	{regexp.MustCompile(`\[(\S+)\] Attached SCSI (?:removable )?disk`), Attach},
	{regexp.MustCompile(`EXT4-fs \(([^)]+)\): [Rr]emounting filesystem read-only`), ReadOnly},
	{regexp.MustCompile(`EXT4-fs \(([^)]+)\): shut down`), ReadOnly},
	{regexp.MustCompile(`XFS \(([^)]+)\): .*(?:[Ss]hutting down filesystem|has been shut down)`), ReadOnly},
	{regexp.MustCompile(`BTRFS .*\(device ([^)]+)\).*forced readonly`), ReadOnly},
	{regexp.MustCompile(`\(([^)]+)\): [Rr]emounting filesystem read-only`), ReadOnly},
	{regexp.MustCompile(`Aborting journal on device (\S+?)(?:-\d+)?\.?$`), JournalAbort},
	{regexp.MustCompile(`Buffer I/O error on dev (\S+?),.*lost (?:a?sync )?page write`), LostWrite},
	{regexp.MustCompile(`EXT4-fs warning \(device ([^)]+)\): ext4_end_bio:\d+: I/O error`), LostWrite},
	{regexp.MustCompile(`EXT4-fs \(([^)]+)\): failed to convert unwritten extents.*data loss`), LostWrite},
	{regexp.MustCompile(`Buffer I/O error on (?:dev|device) (\S+?),`), IOError},
	{regexp.MustCompile(`EXT4-fs \(([^)]+)\): (?:I/O error while writing superblock|previous I/O error to superblock detected)`), FSError},
	{regexp.MustCompile(`operation not supported error, dev (\S+?),? sector`), Unsupported},
	{regexp.MustCompile(`\berror, dev (\S+?),? sector`), IOError},
	{regexp.MustCompile(`attempt to access beyond end of device\s*\n?(\S+): rw=`), IOError},
	{regexp.MustCompile(`JBD2: .*(?:I/O error|Error).* (?:for|on) (\S+?)(?:-\d+)?\.?$`), FSError},
	{regexp.MustCompile(`EXT4-fs error \(device ([^)]+)\)`), FSError},
	{regexp.MustCompile(`XFS \(([^)]+)\): metadata I/O error`), FSError},
	{regexp.MustCompile(`BTRFS error \(device ([^)]+)\)`), FSError},
	{regexp.MustCompile(`INFO: task (\S+:\d+) blocked for more than \d+ seconds`), HungTask},
}

// KernelEvents returns the kernel log records about IO, in log order,
// each with its device and its place on the capture's clock.
func (m *Model) KernelEvents() []KernelEvent {
	return kernelEventsAt(m, m.Manifest.Start.MonoNS, m.Manifest.End.MonoNS)
}

// kernelEventsAt classifies m's kernel log for a capture from start to
// end (CLOCK_MONOTONIC nanoseconds).
func kernelEventsAt(m *Model, start, end int64) []KernelEvent {
	var out []KernelEvent
	for _, r := range m.Kmsg {
		if r.Level > 6 { // debug messages are not errors
			continue
		}
		for _, p := range kernelPatterns {
			g := p.re.FindStringSubmatch(r.Text)
			if g == nil {
				continue
			}
			at := int64(r.Usec) * 1000
			e := KernelEvent{Record: r, Kind: p.kind, Offset: time.Duration(at - start), During: at >= start && (end == 0 || at <= end)}
			if p.kind == HungTask {
				e.Task = g[1]
			} else {
				e.Device = strings.TrimPrefix(g[1], "/dev/")
			}
			if d, ok := r.Dict["DEVICE"]; ok && strings.HasPrefix(d, "b") {
				e.DevNum = d[1:]
			}
			out = append(out, e)
			break
		}
	}
	return out
}

// LastAttach is the last Attach of device dev in evs.
func LastAttach(evs []KernelEvent, dev string) (KernelEvent, bool) {
	var last KernelEvent
	found := false
	for _, a := range evs {
		if a.Kind == Attach && a.Device == dev && (!found || a.Record.Usec > last.Record.Usec) {
			last, found = a, true
		}
	}
	return last, found
}

// Replaced reports whether the device an error event names was replaced
// later under the same name: an Attach of that name after it. Loop
// device names are reused as soon as one is detached, so an old error
// about loop0 may be about another disk than today's loop0.
func Replaced(evs []KernelEvent, e KernelEvent) (KernelEvent, bool) {
	a, ok := LastAttach(evs, e.Device)
	if !ok || a.Record.Usec <= e.Record.Usec {
		return KernelEvent{}, false
	}
	return a, true
}
