package collector

import (
	"fmt"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/collect/redact"
)

// maxTableEntries bounds the process table; a node that spawns processes
// without end should not make the collector grow without end.
const maxTableEntries = 20000

// procTable remembers which processes were already described.
type procTable struct {
	seen     map[int]uint64 // pid -> start time (field 22), to notice reuse
	frames   []byte
	redact   bool
	redacted []bundle.RedactedField
	masked   int
	full     bool
}

func newProcTable(redactOn bool) *procTable {
	return &procTable{seen: map[int]uint64{}, redact: redactOn}
}

// known reports whether pid with this start time is already in the table.
func (t *procTable) known(pid int, start uint64) bool {
	s, ok := t.seen[pid]
	return ok && s == start
}

// add reads the process's description into the table, after the stat
// line just read (which identifies the process by PID and start time). It
// returns the /proc/PID/cgroup content so that its cgroups can be tracked.
func (t *procTable) add(pid int, start uint64, stat []byte, rd *capture.Reader, rec *recorder, tick int) []byte {
	if len(t.seen) >= maxTableEntries {
		t.full = true
		return nil
	}
	t.seen[pid] = start
	base := fmt.Sprintf("/proc/%d/", pid)
	t.frames = appendFrame(t.frames, base+"stat", stat, bundle.StatusOK, nil)
	for _, name := range []string{"status", "cmdline"} {
		data, st, err := rd.Read(base + name)
		rec.sweepRead("proc-table", base+name, tick, st, err)
		if name == "cmdline" {
			data = t.maskCmdline(pid, data, bundle.ProcTableMember)
		}
		t.frames = appendFrame(t.frames, base+name, data, st, err)
	}
	data, st, err := rd.Read(base + "cgroup")
	rec.sweepRead("proc-table", base+"cgroup", tick, st, err)
	t.frames = appendFrame(t.frames, base+"cgroup", data, st, err)
	if st != bundle.StatusOK {
		return nil
	}
	return append([]byte(nil), data...)
}

// maxRedactionLog bounds the manifest's list of masked values.
const maxRedactionLog = 1000

// maskCmdline applies redaction to a command line and logs it.
func (t *procTable) maskCmdline(pid int, data []byte, member string) []byte {
	if !t.redact || len(data) == 0 {
		return data
	}
	out, masked := redact.Cmdline(append([]byte(nil), data...))
	for _, m := range masked {
		t.masked++
		if len(t.redacted) < maxRedactionLog {
			t.redacted = append(t.redacted, bundle.RedactedField{Member: member, PID: pid, Arg: m.Arg, Key: m.Key, Chars: m.Chars})
		}
	}
	return out
}

// appendFrame appends one read as a frame: its data, or the error text.
func appendFrame(dst []byte, path string, data []byte, st bundle.Status, err error) []byte {
	if st != bundle.StatusOK && st != bundle.StatusPartial {
		data = []byte(errText(err))
	}
	return bundle.AppendFrame(dst, bundle.Frame{Path: path, Status: st, MonoNS: capture.Mono(), Data: data})
}
