package blocktrace

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
)

// Other users of tracepoints, noted when the trace begins. A BPF program
// attached to a block tracepoint runs before ftrace stamps the event, so
// every request the trace sees reads longer than it was (REFERENCE-IO.md
// 12); another tracefs instance with the same events enabled doubles the
// kernel's work per event. The collector cannot tell which tracepoint a
// BPF program is on without BPF syscalls of its own, so it names every
// process holding one, and the analyzer says what that may mean.

// fdKinds are the anon-inode fd links that mark a tracer, as
// /proc/PID/fd/N's target reads.
const (
	fdBPFProg   = "anon_inode:bpf-prog"
	fdBPFLink   = "anon_inode:bpf_link"
	fdPerfEvent = "anon_inode:[perf_event]"
)

// maxFDsPerProcess bounds the fds read per process: a server with a
// million sockets must not make the collector's start slow.
const maxFDsPerProcess = 65536

// ScanBPF lists the processes under procRoot (normally /proc) holding BPF
// programs or links open, with the perf events beside them, sorted by
// PID; self (the collector) is left out. A process that exits or denies
// its fds mid-scan is skipped.
func ScanBPF(procRoot string, self int) []bundle.OtherTracer {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var out []bundle.OtherTracer
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join(procRoot, e.Name(), "fd")
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		names, _ := f.Readdirnames(maxFDsPerProcess)
		f.Close()
		tr := bundle.OtherTracer{PID: pid}
		for _, n := range names {
			switch link, _ := os.Readlink(filepath.Join(dir, n)); link {
			case fdBPFProg:
				tr.BPFProgs++
			case fdBPFLink:
				tr.BPFLinks++
			case fdPerfEvent:
				tr.PerfEvents++
			}
		}
		if tr.BPFProgs == 0 && tr.BPFLinks == 0 {
			continue
		}
		if b, err := readBounded(filepath.Join(procRoot, e.Name(), "comm"), 64); err == nil {
			tr.Comm = strings.TrimSpace(string(b))
		}
		out = append(out, tr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// tracedSubsystems are the event subsystems whose enabled events in
// another instance share the trace's tracepoints.
var tracedSubsystems = []string{"block", "writeback"}

// ScanInstances lists the tracefs instances under root, the top-level one
// ("/") first, with block or writeback events enabled; the instance named
// own (the collector's) is left out.
func ScanInstances(root, own string) []bundle.OtherTracer {
	var out []bundle.OtherTracer
	if ev := enabledEvents(root); len(ev) > 0 {
		out = append(out, bundle.OtherTracer{Instance: "/", Events: ev})
	}
	ents, _ := os.ReadDir(filepath.Join(root, "instances"))
	for _, e := range ents {
		if !e.IsDir() || e.Name() == own {
			continue
		}
		if ev := enabledEvents(filepath.Join(root, "instances", e.Name())); len(ev) > 0 {
			out = append(out, bundle.OtherTracer{Instance: e.Name(), Events: ev})
		}
	}
	return out
}

// enabledEvents lists an instance's enabled block and writeback events
// ("block/block_rq_issue"), sorted.
func enabledEvents(dir string) []string {
	var out []string
	for _, sub := range tracedSubsystems {
		evs, _ := os.ReadDir(filepath.Join(dir, "events", sub))
		for _, ev := range evs {
			if !ev.IsDir() {
				continue
			}
			b, err := readBounded(filepath.Join(dir, "events", sub, ev.Name(), "enable"), 16)
			if err == nil && strings.TrimSpace(string(b)) == "1" {
				out = append(out, sub+"/"+ev.Name())
			}
		}
	}
	sort.Strings(out)
	return out
}
