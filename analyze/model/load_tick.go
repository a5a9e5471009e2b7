package model

import (
	"bytes"
	"path"
	"strconv"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// tick decodes one tick member; frames come in the order
// bundle.TickMember documents, so an io frame belongs to the stat frame
// just before it.
func (l *loader) tick(member string, data []byte) error {
	t := &Tick{N: len(l.m.Ticks), Disks: map[string]procfs.DiskStat{}, SysBlock: map[string]procfs.DiskStat{}, Threads: map[int][]Thread{}}
	var cur tickProc
	l.places.start()
	parseErr := func(p string, err error) {
		if err != nil {
			l.note(member, p, err.Error())
		}
	}
	err := l.frames(member, data, func(f bundle.Frame) {
		if f.Path == bundle.ClockFrame {
			var c bundle.Clock
			c, t.N = bundle.ParseClock(f.Data)
			t.Wall, t.Mono = c.Wall, c.MonoNS
			return
		}
		if f.Status == bundle.StatusDenied {
			if pid, file, ok := pidPath(f.Path); ok && file == "io" {
				l.m.DeniedIO[pid] = true
			}
		}
		if f.Status != bundle.StatusOK {
			return
		}
		var err error
		switch f.Path {
		case "/proc/uptime":
			t.Uptime, err = procfs.ParseUptime(f.Data)
			t.HasUptime = err == nil
		case "/proc/diskstats":
			var ds []procfs.DiskStat
			ds, err = procfs.ParseDiskstats(f.Data)
			for _, d := range ds {
				t.Disks[d.Name] = d
			}
			t.DisksMono = f.MonoNS
		case "/proc/vmstat":
			t.Vmstat, err = procfs.ParseVmstat(f.Data)
		case "/proc/meminfo":
			t.Meminfo, err = procfs.ParseMeminfo(f.Data)
		case "/proc/pressure/io":
			var p procfs.PSI
			if p, err = procfs.ParsePSI(f.Data); err == nil {
				t.PSI = &p
			}
		case "/proc/stat":
			var s procfs.ProcStat
			if s, err = procfs.ParseProcStat(f.Data); err == nil {
				t.Stat = &s
			}
		case "/proc/loadavg":
			var la procfs.Loadavg
			if la, err = procfs.ParseLoadavg(f.Data); err == nil {
				t.Loadavg = &la
			}
		default:
			l.tickFile(member, t, f, &cur)
			return
		}
		parseErr(f.Path, err)
	})
	if err != nil {
		return err
	}
	l.m.Ticks = append(l.m.Ticks, t)
	// A process not seen in this tick has exited (or its PID was reused);
	// one seen with the same sample as before keeps its run's point.
	for pid, lp := range l.live {
		p := lp.p
		if p.Last != t.N {
			delete(l.live, pid)
			continue
		}
		if lp.ioTick != t.N {
			// No io this tick: a sample taken as the last one's by its
			// stat alone must say so, as a parsed one would.
			if n := len(p.Points); lp.statTick != t.N && p.Points[n-1].HasIO {
				pt := p.Points[n-1]
				pt.Tick, pt.Mono, pt.IO, pt.HasIO = t.N, lp.statMono, procfs.PIDIO{}, false
				p.Points = append(p.Points, pt)
			}
			lp.io = lp.io[:0]
		}
		if n := len(p.Points); n >= 2 && p.Points[n-1].Tick == t.N && sameSample(&p.Points[n-1], &p.Points[n-2]) {
			p.Points = p.Points[:n-1]
		}
	}
	return nil
}

// tickProc is the process whose stat frame came last in a tick: its io
// frame follows. same says its stat was byte for byte the one before.
type tickProc struct {
	lp   *liveProc
	pid  int
	same bool
}

// liveProc is a process seen in the last tick, with the raw text of its
// last stat and io: a file identical to the last one is the same sample,
// known without parsing it (most processes of a node are idle, so most
// of a tick is compared, not parsed).
type liveProc struct {
	p                *Process
	stat, io         []byte
	statTick, ioTick int
	statMono         int64
}

// tickFile handles the per-process, block, cgroup and thread frames.
func (l *loader) tickFile(member string, t *Tick, f bundle.Frame, cur *tickProc) {
	if rest, ok := strings.CutPrefix(f.Path, "/sys/block/"); ok {
		dev := strings.TrimSuffix(rest, "/stat")
		if d, err := procfs.ParseBlockStat(dev, f.Data); err == nil {
			t.SysBlock[dev] = d
		} else {
			l.note(member, f.Path, err.Error())
		}
		return
	}
	if pid, file, ok := l.places.pidPath(f.Path); ok {
		switch {
		case file == "stat":
			l.pidStat(member, t, f, pid, cur)
		case file == "io":
			l.pidIO(member, t, f, pid, cur)
		case strings.HasPrefix(file, "task/"):
			parts := strings.Split(file, "/")
			if len(parts) != 3 {
				return
			}
			tid, _ := strconv.Atoi(parts[1])
			ths := t.Threads[pid]
			if parts[2] == "stat" {
				if st, err := procfs.ParsePIDStat(f.Data); err == nil {
					t.Threads[pid] = append(ths, Thread{TID: tid, Stat: st})
				}
				return
			}
			for i := range ths {
				if ths[i].TID == tid {
					switch parts[2] {
					case "wchan":
						ths[i].Wchan = string(f.Data)
					case "stack":
						ths[i].Stack = string(f.Data)
					}
				}
			}
		}
		return
	}
	dir, file := path.Split(f.Path)
	dir = strings.TrimSuffix(dir, "/")
	switch file {
	case "io.stat":
		st, err := procfs.ParseIOStat(f.Data)
		if err != nil {
			l.note(member, f.Path, err.Error())
			return
		}
		s := CgroupSample{Tick: t.N, Mono: f.MonoNS, Bytes: map[procfs.Dev]CgroupIO{}}
		for dev, v := range st {
			s.Bytes[dev] = CgroupIO{RBytes: v.RBytes, WBytes: v.WBytes, RIOs: v.RIOs, WIOs: v.WIOs}
		}
		cg := l.cgroup(dir, true)
		cg.Samples = append(cg.Samples, s)
	case "io.pressure":
		if p, err := procfs.ParsePSI(f.Data); err == nil {
			cg := l.cgroup(dir, true)
			cg.Pressure = append(cg.Pressure, CgroupPSI{Tick: t.N, PSI: p})
		}
	case "memory.current", "memory.swap.current", "memory.events", "memory.usage_in_bytes", "memory.memsw.usage_in_bytes", "memory.failcnt":
		l.cgroupMem(member, f, t.N, dir, file)
	case "blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced":
		st, err := procfs.ParseBlkioThrottle(f.Data)
		if err != nil {
			l.note(member, f.Path, err.Error())
			return
		}
		cg := l.cgroup(dir, false)
		n := len(cg.Samples)
		if n == 0 || cg.Samples[n-1].Tick != t.N {
			cg.Samples = append(cg.Samples, CgroupSample{Tick: t.N, Mono: f.MonoNS, Bytes: map[procfs.Dev]CgroupIO{}})
			n++
		}
		s := &cg.Samples[n-1]
		for dev, v := range st {
			io := s.Bytes[dev]
			if file == "blkio.throttle.io_service_bytes" {
				io.RBytes, io.WBytes = v.Read, v.Write
			} else {
				io.RIOs, io.WIOs = v.Read, v.Write
			}
			s.Bytes[dev] = io
		}
	}
}

// cgroupMem adds one memory file of a tick to its cgroup's sample.
func (l *loader) cgroupMem(member string, f bundle.Frame, tick int, dir, file string) {
	v2 := !strings.Contains(file, "_in_bytes") && file != "memory.failcnt"
	cg := l.cgroup(dir, v2)
	n := len(cg.Mem)
	if n == 0 || cg.Mem[n-1].Tick != tick {
		cg.Mem = append(cg.Mem, CgroupMem{Tick: tick})
		n++
	}
	s := &cg.Mem[n-1]
	if file == "memory.events" {
		ev := procfs.ParseFlatKeyed(f.Data)
		s.Failcnt, s.OOMKills = ev["max"], ev["oom_kill"]
		return
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(f.Data)), 10, 64)
	if err != nil {
		l.note(member, f.Path, "not a number: "+err.Error())
		return
	}
	switch file {
	case "memory.current", "memory.usage_in_bytes":
		s.Usage = v
		if s.HasSwap && file == "memory.usage_in_bytes" {
			s.Swap -= min(s.Swap, v) // memsw came first: it holds usage+swap
		}
	case "memory.swap.current":
		s.Swap, s.HasSwap = v, true
	case "memory.memsw.usage_in_bytes":
		// memory+swap: the swap part is what exceeds usage.
		s.Swap, s.HasSwap = v-min(v, s.Usage), true
	case "memory.failcnt":
		s.Failcnt = v
	}
}

// pidStat takes a process's stat frame: a new sample, or the last one
// again when the text has not changed.
func (l *loader) pidStat(member string, t *Tick, f bundle.Frame, pid int, cur *tickProc) {
	*cur = tickProc{}
	lp := l.live[pid]
	if lp != nil && len(lp.stat) > 0 && bytes.Equal(lp.stat, f.Data) {
		lp.p.Last, lp.statMono = t.N, f.MonoNS
		*cur = tickProc{lp: lp, pid: pid, same: true}
		return
	}
	st, err := procfs.ParsePIDStat(f.Data)
	if err != nil {
		l.note(member, f.Path, err.Error())
		return
	}
	if lp == nil || lp.p.Start != st.StartTime {
		p := &Process{PID: pid, Start: st.StartTime, Comm: st.Comm, PPID: st.PPID, Kernel: st.IsKernelThread(), First: t.N}
		lp = &liveProc{p: p}
		l.live[pid] = lp
		l.m.Procs = append(l.m.Procs, p)
	}
	p := lp.p
	p.Last = t.N
	p.Comm = st.Comm
	p.Nice = st.Nice
	p.Points = append(p.Points, Point{Tick: t.N, Mono: f.MonoNS, State: st.State,
		Counters: Counters{BlkioTicks: st.DelayAcctBlkioTicks, MajFlt: st.MajFlt}, CPUTicks: st.UTime + st.STime, SysTicks: st.STime, Threads: st.NumThreads,
		ChildTicks: uint64(max(0, st.CUTime+st.CSTime)), ChildSysTicks: uint64(max(0, st.CSTime))})
	lp.stat = append(lp.stat[:0], f.Data...)
	lp.statTick, lp.statMono = t.N, f.MonoNS
	*cur = tickProc{lp: lp, pid: pid}
}

// pidIO takes the io frame of the process whose stat came just before.
func (l *loader) pidIO(member string, t *Tick, f bundle.Frame, pid int, cur *tickProc) {
	lp := cur.lp
	if lp == nil || cur.pid != pid {
		return
	}
	if cur.same && len(lp.io) > 0 && bytes.Equal(lp.io, f.Data) {
		lp.ioTick = t.N
		return
	}
	io, err := procfs.ParsePIDIO(f.Data)
	if err != nil {
		l.note(member, f.Path, err.Error())
		return
	}
	p := lp.p
	if cur.same {
		// The stat is the last sample's, the io is not: a new point.
		pt := p.Points[len(p.Points)-1]
		pt.Tick = t.N
		p.Points = append(p.Points, pt)
	}
	pt := &p.Points[len(p.Points)-1]
	pt.IO, pt.HasIO, pt.Mono = io, true, f.MonoNS
	lp.io = append(lp.io[:0], f.Data...)
	lp.ioTick = t.N
}

// pathPlaces caches pidPath by a frame's place in its tick: consecutive
// ticks list the same files in the same order (and the frame decoder
// gives the same path the same string), so most paths are split once.
type pathPlaces struct {
	last, next []pathPlace
}

type pathPlace struct {
	path string
	pid  int
	file string
	ok   bool
}

func (c *pathPlaces) start() { c.last, c.next = c.next, c.last[:0] }

func (c *pathPlaces) pidPath(p string) (int, string, bool) {
	if i := len(c.next); i < len(c.last) && c.last[i].path == p {
		c.next = append(c.next, c.last[i])
		return c.last[i].pid, c.last[i].file, c.last[i].ok
	}
	pid, file, ok := pidPath(p)
	c.next = append(c.next, pathPlace{p, pid, file, ok})
	return pid, file, ok
}
