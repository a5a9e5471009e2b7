package collector

import (
	"fmt"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/redact"
	"github.com/iorca/iorca/internal/procfs"
)

// maxTableEntries bounds the process table; a node that spawns processes
// without end should not make the collector grow without end.
const maxTableEntries = 20000

// procTable remembers which processes were already described.
type procTable struct {
	// seen is the latest entry of each PID (a PID reused by a new
	// process gets a new entry; the old one stays for its samples).
	seen map[int]*tableEntry
	// entries are in the order the processes were first seen.
	entries []*tableEntry
	// redactor masks command lines; nil when redaction is off.
	redactor *redact.Redactor
	redacted []bundle.RedactedField
	// masked counts the command-line values masked, logged every value.
	masked, logged int
	// kinds and patterns count the masked values by rule and by user
	// pattern.
	kinds, patterns map[string]int
	full            bool
}

// tableEntry is one process's description: its frames, and the last
// tick it was sampled in, so that a recorder can forget the processes
// its window no longer holds.
type tableEntry struct {
	pid    int
	start  uint64 // field 22 of stat, to notice a reused PID
	comm   string
	ppid   int
	frames []byte
	last   int
}

func newProcTable(r *redact.Redactor) *procTable {
	return &procTable{seen: map[int]*tableEntry{}, redactor: r, kinds: map[string]int{}, patterns: map[string]int{}}
}

// known reports whether pid with this start time is already in the
// table, and marks it sampled in tick.
func (t *procTable) known(pid int, start uint64, tick int) bool {
	e := t.seen[pid]
	if e == nil || e.start != start {
		return false
	}
	e.last = tick
	return true
}

// frames is the table as the bundle's member holds it.
func (t *procTable) frames() []byte {
	n := 0
	for _, e := range t.entries {
		n += len(e.frames)
	}
	b := make([]byte, 0, n)
	for _, e := range t.entries {
		b = append(b, e.frames...)
	}
	return b
}

// forget drops the processes last sampled before tick: a flight
// recorder keeps only those its window holds, so that its table does not
// grow with every process the node ever ran.
func (t *procTable) forget(before int) {
	kept := t.entries[:0]
	for _, e := range t.entries {
		if e.last >= before {
			kept = append(kept, e)
			continue
		}
		if t.seen[e.pid] == e {
			delete(t.seen, e.pid)
		}
	}
	clear(t.entries[len(kept):])
	t.entries = kept
	t.full = t.full && len(t.entries) >= maxTableEntries
}

// add reads the process's description into the table, after the stat
// line just read (which identifies the process by PID and start time). It
// returns the /proc/PID/cgroup content so that its cgroups can be tracked.
func (t *procTable) add(pid int, ps procfs.PIDStat, stat []byte, rd *capture.Reader, lg *ledger, tick int) []byte {
	if len(t.entries) >= maxTableEntries {
		t.full = true
		return nil
	}
	e := &tableEntry{pid: pid, start: ps.StartTime, comm: ps.Comm, ppid: ps.PPID, last: tick}
	t.seen[pid] = e
	t.entries = append(t.entries, e)
	base := fmt.Sprintf("/proc/%d/", pid)
	e.frames = appendFrame(e.frames, base+"stat", stat, bundle.StatusOK, nil)
	for _, name := range []string{"status", "cmdline"} {
		data, st, err := rd.Read(base + name)
		lg.sweepRead("proc-table", base+name, tick, st, err)
		if name == "cmdline" {
			data = t.maskCmdline(pid, data, bundle.ProcTableMember)
		}
		e.frames = appendFrame(e.frames, base+name, data, st, err)
	}
	data, st, err := rd.Read(base + "cgroup")
	lg.sweepRead("proc-table", base+"cgroup", tick, st, err)
	e.frames = appendFrame(e.frames, base+"cgroup", data, st, err)
	if st != bundle.StatusOK {
		return nil
	}
	return append([]byte(nil), data...)
}

// parent is the name and parent of the process last seen under pid, in
// any tick so far.
func (t *procTable) parent(pid int) (comm string, ppid int, ok bool) {
	e := t.seen[pid]
	if e == nil {
		return "", 0, false
	}
	return e.comm, e.ppid, true
}

// maxRedactionLog bounds the manifest's list of masked values.
const maxRedactionLog = 1000

// maskCmdline applies redaction to a command line and logs it.
func (t *procTable) maskCmdline(pid int, data []byte, member string) []byte {
	if t.redactor == nil || len(data) == 0 {
		return data
	}
	out, masked := t.redactor.Cmdline(append([]byte(nil), data...))
	t.masked += len(masked)
	t.log(pid, member, masked)
	return out
}

// log records masked values of a member.
func (t *procTable) log(pid int, member string, masked []redact.Masked) {
	for _, m := range masked {
		t.logged++
		t.kinds[m.Kind]++
		if m.Kind == redact.KindPattern {
			t.patterns[m.Key]++
		}
		if len(t.redacted) < maxRedactionLog {
			t.redacted = append(t.redacted, bundle.RedactedField{Member: member, PID: pid, Arg: m.Arg, Key: m.Key, Chars: m.Chars, Kind: m.Kind})
		}
	}
}

// appendFrame appends one read as a frame: its data, or the error text.
func appendFrame(dst []byte, path string, data []byte, st bundle.Status, err error) []byte {
	if st != bundle.StatusOK && st != bundle.StatusPartial {
		data = []byte(errText(err))
	}
	return bundle.AppendFrame(dst, bundle.Frame{Path: path, Status: st, MonoNS: capture.Mono(), Data: data})
}
