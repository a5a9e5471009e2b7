// Command genbundle writes a large bundle for the benchmarks: a real
// sample bundle (a capture of iorca-collect) scaled to N processes and M
// ticks, its strace trace repeated to L lines, written with the
// collector's own writer (bundle.Encoder: one zstd frame per member). Its
// manifest names it: collector "iorca-genbundle", so it is never taken
// for a capture.
//
// Counters advance as they did in the source: every number of a kernel
// file's line moves from its value in the first tick at the source's
// average rate per tick (so PIDs, device numbers and names, which do not
// change, stay as they are; gauges that would fall below zero stay at
// zero). Each generated process is a copy of a source process under a
// new PID.
//
//	go run ./bench/genbundle --from samples/fsync-storm.tar.zst --procs 2000 --ticks 120 --trace-lines 200000 -o /tmp/big.tar.zst
package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/spf13/pflag"
)

func main() {
	from := pflag.String("from", "samples/fsync-storm.tar.zst", "the real bundle to scale")
	procs := pflag.Int("procs", 2000, "processes in every tick")
	ticks := pflag.Int("ticks", 120, "ticks (one a second)")
	traceLines := pflag.Int("trace-lines", 200000, "lines of the strace trace")
	out := pflag.StringP("output", "o", "", "the bundle to write")
	pflag.Parse()
	if *out == "" || *procs < 1 || *ticks < 2 {
		fmt.Fprintln(os.Stderr, "genbundle: -o FILE is required; --procs >= 1, --ticks >= 2")
		os.Exit(2)
	}
	if err := run(*from, *out, *procs, *ticks, *traceLines); err != nil {
		fmt.Fprintf(os.Stderr, "genbundle: %v\n", err)
		os.Exit(1)
	}
}

// series is a file's text in the source's first and last tick.
type series struct{ first, last []byte }

// proc is a source process: its stat and io in the first and last tick,
// and its process-table frames.
type proc struct {
	pid      int
	stat, io series
	table    []bundle.Frame
}

func run(from, out string, nProcs, nTicks, traceLines int) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	src, err := bundle.ReadAll(f, bundle.DefaultLimits)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	var tickNames []string
	for _, n := range src.Names() {
		if bundle.KindOf(n) == bundle.KindTick {
			tickNames = append(tickNames, n)
		}
	}
	if len(tickNames) < 2 {
		return fmt.Errorf("%s has fewer than two ticks", from)
	}
	first, err := frames(src, tickNames[0])
	if err != nil {
		return err
	}
	last, err := frames(src, tickNames[len(tickNames)-1])
	if err != nil {
		return err
	}
	srcSpan := float64(len(tickNames) - 1)

	// The node's files (everything but processes), and the processes.
	node := map[string]*series{}
	var nodeOrder []string
	procs := map[int]*proc{}
	collect := func(fs []bundle.Frame, isFirst bool) {
		var cur *proc
		for _, fr := range fs {
			pid, file, isProc := procFile(fr.Path)
			switch {
			case isProc && file == "stat" && !strings.Contains(fr.Path, "/task/"):
				cur = procs[pid]
				if cur == nil {
					cur = &proc{pid: pid}
					procs[pid] = cur
				}
				set(&cur.stat, fr.Data, isFirst)
			case isProc && file == "io" && cur != nil && cur.pid == pid:
				set(&cur.io, fr.Data, isFirst)
			case isProc:
				// A target's threads: left out of the scaled ticks.
			default:
				if node[fr.Path] == nil {
					node[fr.Path] = &series{}
					nodeOrder = append(nodeOrder, fr.Path)
				}
				set(node[fr.Path], fr.Data, isFirst)
			}
		}
	}
	collect(first, true)
	collect(last, false)
	var templates []*proc
	for _, p := range procs {
		if p.stat.first != nil && p.stat.last != nil && p.io.first != nil && p.io.last != nil {
			templates = append(templates, p)
		}
	}
	sort.Slice(templates, func(i, j int) bool { return templates[i].pid < templates[j].pid })
	if len(templates) == 0 {
		return fmt.Errorf("%s: no process with stat and io in its first and last ticks", from)
	}
	table, _ := src.Member(bundle.ProcTableMember)
	byPID := tableEntries(table)
	for _, p := range templates {
		p.table = byPID[p.pid]
	}

	enc := bundle.NewEncoder(src.Manifest.Start.Wall)
	var members []bundle.EncodedMember
	put := func(name string, data []byte) error {
		em, err := enc.Encode(name, data)
		members = append(members, em)
		return err
	}
	// The static members as captured, but a process table of every
	// generated process.
	for _, n := range src.Names() {
		k := bundle.KindOf(n)
		if k == bundle.KindTick || n == bundle.ProcTableMember || k == bundle.KindTrace {
			continue
		}
		data, _ := src.Member(n)
		if err := put(n, data); err != nil {
			return err
		}
	}
	pidOf := func(j int) (int, *proc) {
		t := templates[j%len(templates)]
		if j < len(templates) {
			return t.pid, t // the source's own: its target and trace stay its
		}
		return 400000 + j, t
	}
	var tb []byte
	for j := 0; j < nProcs; j++ {
		pid, t := pidOf(j)
		for _, fr := range t.table {
			data := fr.Data
			switch {
			case strings.HasSuffix(fr.Path, "/stat"):
				data = withPID(advance(t.stat, 0, srcSpan), pid)
			case strings.HasSuffix(fr.Path, "/status"):
				data = statusPID(fr.Data, t.pid, pid)
			}
			fr.Path = strings.Replace(fr.Path, fmt.Sprintf("/proc/%d/", t.pid), fmt.Sprintf("/proc/%d/", pid), 1)
			fr.Data = data
			tb = bundle.AppendFrame(tb, fr)
		}
	}
	if err := put(bundle.ProcTableMember, tb); err != nil {
		return err
	}
	// The traces, repeated to traceLines.
	m := *src.Manifest
	m.Collector.Name = "iorca-genbundle"
	m.Targets = append([]bundle.Target(nil), src.Manifest.Targets...)
	for i := range m.Targets {
		tr := m.Targets[i].Strace
		if tr == nil || tr.Member == "" {
			continue
		}
		data, _ := src.Member(tr.Member)
		long := repeatTrace(data, traceLines)
		cp := *tr
		cp.Lines, cp.Bytes = bytes.Count(long, []byte{'\n'}), int64(len(long))
		m.Targets[i].Strace = &cp
		// As if collected with --strace-max-bytes that large: a reader
		// bounds a trace by the cap in the manifest.
		m.Options.StraceMaxBytes = max(m.Options.StraceMaxBytes, cp.Bytes)
		if err := put(tr.Member, long); err != nil {
			return err
		}
		if meta, ok := src.Member(bundle.TraceMetaMember(m.Targets[i].PID)); ok {
			if err := put(bundle.TraceMetaMember(m.Targets[i].PID), meta); err != nil {
				return err
			}
		}
	}
	// The ticks.
	interval := time.Duration(m.Options.Interval)
	if interval <= 0 {
		interval = time.Second
	}
	clock0 := m.Start
	for k := 0; k < nTicks; k++ {
		at := bundle.Clock{Wall: clock0.Wall.Add(time.Duration(k) * interval), MonoNS: clock0.MonoNS + int64(k)*int64(interval), BootNS: clock0.BootNS + int64(k)*int64(interval)}
		var b []byte
		b = bundle.AppendFrame(b, bundle.Frame{Path: bundle.ClockFrame, Status: bundle.StatusOK, MonoNS: at.MonoNS, Data: bundle.ClockData(at, k)})
		var procFrames []byte
		for _, p := range nodeOrder {
			if p == bundle.ClockFrame {
				continue
			}
			if strings.HasPrefix(p, "/sys/fs/cgroup") && procFrames == nil {
				// Processes come before the cgroups (bundle.TickMember).
				procFrames = processes(nProcs, pidOf, k, srcSpan, at.MonoNS)
				b = append(b, procFrames...)
			}
			b = bundle.AppendFrame(b, bundle.Frame{Path: p, Status: bundle.StatusOK, MonoNS: at.MonoNS, Data: advance(*node[p], k, srcSpan)})
		}
		if procFrames == nil {
			b = append(b, processes(nProcs, pidOf, k, srcSpan, at.MonoNS)...)
		}
		if err := put(bundle.TickMember(k), b); err != nil {
			return err
		}
	}
	m.End = bundle.Clock{Wall: clock0.Wall.Add(time.Duration(nTicks-1) * interval), MonoNS: clock0.MonoNS + int64(nTicks-1)*int64(interval), BootNS: clock0.BootNS + int64(nTicks-1)*int64(interval)}
	m.Ticks = nTicks
	m.Options.Duration = bundle.Duration(time.Duration(nTicks-1) * interval)
	m.Partial, m.PartialReason = false, ""
	sort.SliceStable(members, func(i, j int) bool { return bundle.MemberLess(members[i].Name, members[j].Name) })
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	n, err := enc.WriteBundle(w, &m, members)
	if err2 := w.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genbundle: wrote %s: %d processes, %d ticks, %d trace lines, %d bytes\n", out, nProcs, nTicks, traceLines, n)
	return nil
}

// processes is the stat and io frames of every generated process in tick
// k, by PID (bundle.TickMember's order).
func processes(n int, pidOf func(int) (int, *proc), k int, span float64, mono int64) []byte {
	type entry struct {
		pid int
		t   *proc
	}
	es := make([]entry, n)
	for j := range es {
		es[j].pid, es[j].t = pidOf(j)
	}
	sort.Slice(es, func(a, b int) bool { return es[a].pid < es[b].pid })
	var b []byte
	for _, e := range es {
		b = bundle.AppendFrame(b, bundle.Frame{Path: fmt.Sprintf("/proc/%d/stat", e.pid), Status: bundle.StatusOK, MonoNS: mono, Data: withPID(advance(e.t.stat, k, span), e.pid)})
		b = bundle.AppendFrame(b, bundle.Frame{Path: fmt.Sprintf("/proc/%d/io", e.pid), Status: bundle.StatusOK, MonoNS: mono, Data: advance(e.t.io, k, span)})
	}
	return b
}

func frames(b *bundle.Bundle, name string) ([]bundle.Frame, error) {
	data, _ := b.Member(name)
	fs, err := bundle.ParseFrames(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return fs, nil
}

func set(s *series, data []byte, isFirst bool) {
	if isFirst {
		s.first = data
	} else {
		s.last = data
	}
}

// procFile splits /proc/PID/FILE.
func procFile(path string) (int, string, bool) {
	rest, ok := strings.CutPrefix(path, "/proc/")
	if !ok {
		return 0, "", false
	}
	num, file, ok := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	return pid, file, true
}

// tableEntries groups the process table's frames by PID: a stat frame
// opens an entry (bundle.ProcTableMember).
func tableEntries(b []byte) map[int][]bundle.Frame {
	out := map[int][]bundle.Frame{}
	fs, _ := bundle.ParseFrames(b)
	cur := 0
	for _, fr := range fs {
		pid, file, ok := procFile(fr.Path)
		if !ok {
			continue
		}
		if file == "stat" {
			cur = pid
			out[pid] = nil
		}
		if pid == cur {
			out[pid] = append(out[pid], fr)
		}
	}
	return out
}

// advance is s's text in tick k: every number moves from its first value
// at the source's rate per tick (span ticks from first to last). A line
// whose shape changed between the two is taken as it was last.
func advance(s series, k int, span float64) []byte {
	if s.first == nil {
		return s.last
	}
	if s.last == nil {
		return s.first
	}
	a, b := tokens(s.first), tokens(s.last)
	if len(a) != len(b) {
		return s.last
	}
	var out bytes.Buffer
	for i := range a {
		x, errA := strconv.ParseFloat(a[i], 64)
		y, errB := strconv.ParseFloat(b[i], 64)
		if errA != nil || errB != nil || !isNumber(a[i]) || !isNumber(b[i]) || a[i] == b[i] {
			out.WriteString(b[i]) // text, or a number that does not move
			continue
		}
		v := x + (y-x)/span*float64(k)
		if v < 0 {
			v = 0
		}
		if strings.Contains(a[i], ".") {
			decimals := len(a[i]) - strings.IndexByte(a[i], '.') - 1
			out.WriteString(strconv.FormatFloat(v, 'f', decimals, 64))
		} else {
			out.WriteString(strconv.FormatUint(uint64(v), 10))
		}
	}
	return out.Bytes()
}

// tokens splits text into runs of digits (with a decimal point) and runs
// of everything else.
func tokens(b []byte) []string {
	var out []string
	start := 0
	num := func(c byte) bool { return c >= '0' && c <= '9' || c == '.' }
	for i := 1; i <= len(b); i++ {
		if i == len(b) || num(b[i]) != num(b[start]) {
			out = append(out, string(b[start:i]))
			start = i
		}
	}
	return out
}

func isNumber(s string) bool {
	if s == "" || s == "." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			return false
		}
	}
	return true
}

// withPID sets field 1 of a stat line.
func withPID(stat []byte, pid int) []byte {
	i := bytes.IndexByte(stat, ' ')
	if i < 0 {
		return stat
	}
	return append([]byte(strconv.Itoa(pid)), stat[i:]...)
}

// statusPID rewrites the Pid and Tgid lines of a status file.
func statusPID(status []byte, from, to int) []byte {
	lines := strings.Split(string(status), "\n")
	for i, l := range lines {
		if k, v, ok := strings.Cut(l, ":"); ok && (k == "Pid" || k == "Tgid") && strings.TrimSpace(v) == strconv.Itoa(from) {
			lines[i] = k + ":\t" + strconv.Itoa(to)
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// repeatTrace repeats a trace's complete lines to n lines.
func repeatTrace(data []byte, n int) []byte {
	lines := bytes.SplitAfter(data, []byte{'\n'})
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return data
	}
	var out bytes.Buffer
	for i := 0; i < n; i++ {
		out.Write(lines[i%len(lines)])
	}
	return out.Bytes()
}
