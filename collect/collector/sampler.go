package collector

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/internal/procfs"
)

// systemTickFiles are read every tick (DESIGN.md, "What the collector
// captures"). /proc/uptime comes first: iostat takes its intervals from it.
var systemTickFiles = []string{
	"/proc/uptime", "/proc/diskstats", "/proc/vmstat", "/proc/meminfo",
	"/proc/pressure/io", "/proc/stat", "/proc/loadavg",
}

// sampler captures one tick at a time.
type sampler struct {
	rd      capture.Reader
	ledger  *ledger
	table   *procTable
	cgroups *cgroupSet
	self    int
	targets []*target

	procsSampled int
	ticks        int
	cgroupBound  bool
	// snap, when set, receives every process's parsed stat and io of the
	// tick being sampled: target selection reads the values already in
	// hand instead of decoding the tick's frames again.
	snap map[int]*procSnap
	// frames is the tick being built, reused from tick to tick: the
	// store compresses a tick before the next one starts.
	frames []byte
	// clock is the last tick's clock. node, when keepNode is set, holds
	// the last tick's text of the files a trigger reads (trigger.Sample).
	clock    bundle.Clock
	keepNode bool
	node     map[string][]byte
}

// triggerFiles are the files a trigger is evaluated on.
var triggerFiles = []string{"/proc/uptime", "/proc/diskstats", "/proc/pressure/io"}

// tick reads everything sampled each tick and returns it as frames,
// valid until the next tick.
func (s *sampler) tick(n int) []byte {
	b := s.frames[:0]
	defer func() { s.frames = b[:0] }()
	c := capture.Now()
	s.clock = c
	s.ticks++
	b = bundle.AppendFrame(b, bundle.Frame{Path: bundle.ClockFrame, Status: bundle.StatusOK, MonoNS: c.MonoNS, Data: bundle.ClockData(c, n)})

	for _, p := range systemTickFiles {
		t0 := time.Now()
		data, st, err := s.rd.Read(p)
		s.ledger.read(p, p, 0, n, st, err)
		s.ledger.time(p, time.Since(t0))
		b = appendFrame(b, p, data, st, err)
		if s.keepNode && slices.Contains(triggerFiles, p) {
			if s.node == nil {
				s.node = map[string][]byte{}
			}
			if st != bundle.StatusOK {
				data = nil
			}
			s.node[p] = append(s.node[p][:0], data...)
		}
	}
	t0 := time.Now()
	b = s.blockStats(b, n)
	s.ledger.time("sys-block-stat", time.Since(t0))

	t0 = time.Now()
	b = s.processes(b, n)
	s.ledger.time("proc-pid-stat", time.Since(t0)) // stat and io are read together

	t0 = time.Now()
	for _, p := range s.cgroups.files(false) {
		data, st, err := s.rd.Read(p)
		if st == bundle.StatusAbsent {
			// The v1/v2 split decides which files exist; do not ask
			// again every tick.
			s.cgroups.absent[p] = true
			continue
		}
		s.ledger.sweepRead("cgroup-io", p, n, st, err)
		b = appendFrame(b, p, data, st, err)
	}
	s.ledger.time("cgroup-io", time.Since(t0))

	t0 = time.Now()
	for _, t := range s.targets {
		b = s.targetTick(b, t, n)
	}
	s.ledger.time("target-threads", time.Since(t0))
	return b
}

// blockStats reads /sys/block/*/stat, which iostat reads by default.
func (s *sampler) blockStats(b []byte, n int) []byte {
	devs, err := readDirNames("/sys/block")
	if err != nil {
		s.ledger.read("/sys/block", "/sys/block", 0, n, capture.Classify(err), err)
		return b
	}
	for _, d := range devs {
		p := "/sys/block/" + d + "/stat"
		data, st, err := s.rd.Read(p)
		s.ledger.sweepRead("sys-block-stat", p, n, st, err)
		b = appendFrame(b, p, data, st, err)
	}
	return b
}

// processes reads /proc/PID/stat and /proc/PID/io of every process, and
// describes each process the first time it is seen.
func (s *sampler) processes(b []byte, n int) []byte {
	pids, err := listPIDs()
	if err != nil {
		s.ledger.read("/proc", "/proc", 0, n, capture.Classify(err), err)
		return b
	}
	s.procsSampled += len(pids)
	for _, pid := range pids {
		base := "/proc/" + strconv.Itoa(pid) + "/"
		data, st, err := s.rd.Read(base + "stat")
		s.ledger.sweepRead("proc-pid-stat", base+"stat", n, st, err)
		b = appendFrame(b, base+"stat", data, st, err)
		if st != bundle.StatusOK {
			continue
		}
		ps, perr := procfs.ParsePIDStat(data)
		if perr == nil && !s.table.known(pid, ps.StartTime, n) {
			stat := append([]byte(nil), data...) // data is the reader's buffer
			if cg := s.table.add(pid, ps, stat, &s.rd, s.ledger, n); cg != nil {
				if !s.cgroups.addProcess(cg) {
					s.cgroupBound = true
				}
			}
		}
		data, st, err = s.rd.Read(base + "io")
		s.ledger.sweepRead("proc-pid-io", base+"io", n, st, err)
		b = appendFrame(b, base+"io", data, st, err)
		if s.snap != nil && perr == nil {
			snap := &procSnap{stat: ps}
			if st == bundle.StatusOK {
				snap.io, err = procfs.ParsePIDIO(data)
				snap.hasIO = err == nil
			}
			s.snap[pid] = snap
		}
	}
	return b
}

// targetTick reads the threads of a target: each task's stat (its own
// delayacct_blkio_ticks, which /proc/PID/stat does not sum), and where a
// task sleeps in D, its wchan, kernel stack and syscall.
func (s *sampler) targetTick(b []byte, t *target, n int) []byte {
	if t.gone {
		return b
	}
	base := fmt.Sprintf("/proc/%d/", t.pid)
	tids, err := readDirNames(base + "task")
	if err != nil {
		t.gone = true
		s.ledger.problem(bundle.Problem{Source: "targets", Path: base + "task", PID: t.pid, Status: capture.Classify(err), Tick: n,
			What: fmt.Sprintf("target %d (%s) is gone at tick %d", t.pid, t.comm, n), Why: err.Error()})
		return b
	}
	data, st, err := s.rd.Read(base + "wchan")
	s.ledger.read("target-wchan", base+"wchan", t.pid, n, st, err)
	b = appendFrame(b, base+"wchan", data, st, err)
	for _, tid := range tids {
		tb := base + "task/" + tid + "/"
		data, st, err := s.rd.Read(tb + "stat")
		s.ledger.sweepRead("target-threads", tb+"stat", n, st, err)
		b = appendFrame(b, tb+"stat", data, st, err)
		if st != bundle.StatusOK {
			continue
		}
		if ps, err := procfs.ParsePIDStat(data); err == nil && ps.State == 'D' {
			for _, f := range []string{"wchan", "stack", "syscall"} {
				data, st, err := s.rd.Read(tb + f)
				s.ledger.read("target-"+f, tb+f, t.pid, n, st, err)
				b = appendFrame(b, tb+f, data, st, err)
			}
		}
	}
	return b
}

// listPIDs returns the numeric entries of /proc, sorted.
func listPIDs() ([]int, error) {
	names, err := readDirNames("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue // /proc/self, /proc/meminfo...: no Atoi error to allocate
		}
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// readDirNames lists a directory without stat-ing its entries.
func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// readLink reads a symlink as a frame's data.
func readLink(path string) ([]byte, bundle.Status, error) {
	s, err := os.Readlink(path)
	if err != nil {
		return nil, capture.Classify(err), err
	}
	return []byte(s), bundle.StatusOK, nil
}
