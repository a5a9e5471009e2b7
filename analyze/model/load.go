package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/iorca/iorca/analyze/strace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// Load builds the model of a bundle. A member whose frames are not
// well-formed is an error naming it (a bundle that passed its checksums
// but was not written by the collector); a kernel file that does not
// parse is only noted, and the rest is used.
func Load(b *bundle.Bundle) (*Model, error) {
	l := &loader{
		m: &Model{Manifest: b.Manifest, Sysctl: map[string]string{}, Blocks: map[string]*Block{},
			Cgroups: map[string]*Cgroup{}},
		live:  map[int]*Process{},
		table: map[procKey]*tableEntry{},
	}
	for _, name := range b.Names() {
		data, _ := b.Member(name)
		var err error
		switch {
		case name == bundle.HostMember:
			err = l.host(name, data)
		case name == bundle.StatfsMember:
			if e := json.Unmarshal(data, &l.m.Statfs); e != nil {
				l.note(name, "", "not valid JSON: "+e.Error())
			}
		case name == bundle.KmsgMember:
			l.m.Kmsg = procfs.ParseKmsg(data)
		case name == bundle.ProcTableMember:
			err = l.procTable(name, data)
		case name == bundle.CgroupLimitsMember:
			err = l.cgroupLimits(name, data)
		case bundle.KindOf(name) == bundle.KindTick: // in manifest order, which is time order (bundle.TickMember)
			err = l.tick(name, data)
		case bundle.KindOf(name) == bundle.KindTarget:
			err = l.target(name, data)
		}
		if err != nil {
			return nil, err
		}
	}
	l.traces(b)
	l.m.CgroupV1Root, l.m.CgroupV2Root = l.v1Root, l.v2Root
	l.describeProcesses()
	attribute(l.m)
	return l.m, nil
}

type procKey struct {
	pid   int
	start uint64
}

type tableEntry struct {
	status  *procfs.PIDStatus
	cmdline []string
	cgroups []procfs.CgroupLine
}

type loader struct {
	m     *Model
	live  map[int]*Process
	table map[procKey]*tableEntry
	// cgroup roots from the collector: v2 mount point and v1 blkio mount.
	v2Root, v1Root string
}

func (l *loader) note(member, path, what string) {
	l.m.Notes = append(l.m.Notes, Note{Member: member, Path: path, What: what})
}

// frames iterates a frames member, failing on a malformed one.
func (l *loader) frames(member string, data []byte, fn func(f bundle.Frame)) error {
	for f, err := range bundle.Frames(data) {
		if err != nil {
			return fmt.Errorf("%s: %w", member, err)
		}
		fn(f)
	}
	return nil
}

// pidPath splits "/proc/123/rest" into 123 and "rest".
func pidPath(p string) (int, string, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return 0, "", false
	}
	num, file, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, "", false
	}
	pid, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", false
	}
	return pid, file, true
}

func (l *loader) host(member string, data []byte) error {
	return l.frames(member, data, func(f bundle.Frame) {
		if f.Status != bundle.StatusOK {
			return
		}
		switch {
		case f.Path == "/proc/self/mountinfo":
			ms, err := procfs.ParseMountinfo(f.Data)
			if err != nil {
				l.note(member, f.Path, err.Error())
			}
			l.m.Mounts = ms
		case strings.HasPrefix(f.Path, "/proc/sys/"):
			l.m.Sysctl[strings.TrimPrefix(f.Path, "/proc/sys/")] = strings.TrimSpace(string(f.Data))
		case strings.HasPrefix(f.Path, "/sys/block/"):
			rest := strings.TrimPrefix(f.Path, "/sys/block/")
			dev, file, _ := strings.Cut(rest, "/")
			blk := l.m.Blocks[dev]
			if blk == nil {
				blk = &Block{Name: dev, Settings: map[string]string{}}
				l.m.Blocks[dev] = blk
			}
			v := strings.TrimSpace(string(f.Data))
			switch file {
			case "dev":
				blk.Dev, _ = procfs.ParseDev(v)
			case "size":
				blk.SizeSectors, _ = strconv.ParseUint(v, 10, 64)
			case "queue/scheduler":
				blk.Scheduler = v
				if i := strings.IndexByte(v, '['); i >= 0 {
					if j := strings.IndexByte(v[i:], ']'); j > 0 {
						blk.Scheduler = v[i+1 : i+j]
					}
				}
			case "queue/rotational":
				blk.Rotational = v == "1"
			case "loop/backing_file":
				blk.BackingFile = v
			}
			if f.Path == bundle.BlockLinksFrame(dev, "slaves") {
				blk.Slaves = strings.Fields(v)
			}
			blk.Settings[file] = v
		}
	})
}

func (l *loader) procTable(member string, data []byte) error {
	var cur *tableEntry
	return l.frames(member, data, func(f bundle.Frame) {
		pid, file, ok := pidPath(f.Path)
		if !ok {
			return
		}
		if file == "stat" {
			st, err := procfs.ParsePIDStat(f.Data)
			if err != nil {
				cur = nil
				return
			}
			cur = &tableEntry{}
			l.table[procKey{pid, st.StartTime}] = cur
			return
		}
		if cur == nil || f.Status != bundle.StatusOK {
			return
		}
		switch file {
		case "status":
			if s, err := procfs.ParsePIDStatus(f.Data); err == nil {
				cur.status = &s
			}
		case "cmdline":
			cur.cmdline = splitCmdline(f.Data)
		case "cgroup":
			cur.cgroups, _ = procfs.ParsePIDCgroup(f.Data)
		}
	})
}

// splitCmdline splits a NUL-separated command line.
func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	var out []string
	for _, a := range bytes.Split(b, []byte{0}) {
		out = append(out, string(a))
	}
	return out
}

func (l *loader) cgroupLimits(member string, data []byte) error {
	return l.frames(member, data, func(f bundle.Frame) {
		if f.Path == bundle.CgroupRootsFrame {
			r := bundle.ParseCgroupRoots(f.Data)
			l.v2Root, l.v1Root = r.V2, r.V1Blkio
			return
		}
		if f.Status != bundle.StatusOK {
			return
		}
		dir, file := path.Split(f.Path)
		cg := l.cgroup(strings.TrimSuffix(dir, "/"), strings.HasPrefix(file, "io."))
		switch {
		case file == "io.max":
			if mx, err := procfs.ParseIOMax(f.Data); err == nil {
				cg.IOMax = mx
			} else {
				l.note(member, f.Path, err.Error())
			}
		case strings.HasPrefix(file, "blkio.throttle.") && strings.HasSuffix(file, "_device"):
			if lim, err := procfs.ParseBlkioLimit(f.Data); err == nil && len(lim) > 0 {
				if cg.V1Limits == nil {
					cg.V1Limits = map[string]map[procfs.Dev]uint64{}
				}
				cg.V1Limits[strings.TrimPrefix(file, "blkio.throttle.")] = lim
			}
		}
	})
}

func (l *loader) cgroup(dir string, v2 bool) *Cgroup {
	cg := l.m.Cgroups[dir]
	if cg == nil {
		cg = &Cgroup{Path: dir, V2: v2}
		l.m.Cgroups[dir] = cg
	}
	return cg
}

func (l *loader) tick(member string, data []byte) error {
	t := &Tick{N: len(l.m.Ticks), Disks: map[string]procfs.DiskStat{}, SysBlock: map[string]procfs.DiskStat{}, Threads: map[int][]Thread{}}
	var lastPoint *Point
	var lastPID int
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
			l.tickFile(member, t, f, &lastPoint, &lastPID)
			return
		}
		parseErr(f.Path, err)
	})
	if err != nil {
		return err
	}
	l.m.Ticks = append(l.m.Ticks, t)
	// A process not seen in this tick has exited (or its PID was reused).
	for pid, p := range l.live {
		if n := len(p.Points); n == 0 || p.Points[n-1].Tick != t.N {
			delete(l.live, pid)
		}
	}
	return nil
}

// tickFile handles the per-process, block, cgroup and thread frames.
func (l *loader) tickFile(member string, t *Tick, f bundle.Frame, lastPoint **Point, lastPID *int) {
	if rest, ok := strings.CutPrefix(f.Path, "/sys/block/"); ok {
		dev := strings.TrimSuffix(rest, "/stat")
		if d, err := procfs.ParseBlockStat(dev, f.Data); err == nil {
			t.SysBlock[dev] = d
		} else {
			l.note(member, f.Path, err.Error())
		}
		return
	}
	if pid, file, ok := pidPath(f.Path); ok {
		switch {
		case file == "stat":
			st, err := procfs.ParsePIDStat(f.Data)
			if err != nil {
				l.note(member, f.Path, err.Error())
				*lastPoint = nil
				return
			}
			p := l.live[pid]
			if p == nil || p.Start != st.StartTime {
				p = &Process{PID: pid, Start: st.StartTime, Comm: st.Comm, PPID: st.PPID, Kernel: st.IsKernelThread()}
				l.live[pid] = p
				l.m.Procs = append(l.m.Procs, p)
			}
			p.Comm = st.Comm
			p.Points = append(p.Points, Point{Tick: t.N, Mono: f.MonoNS, UptimeCS: t.Uptime.Centiseconds, State: st.State,
				Counters: Counters{BlkioTicks: st.DelayAcctBlkioTicks}, CPUTicks: st.UTime + st.STime, Threads: st.NumThreads})
			*lastPoint = &p.Points[len(p.Points)-1]
			*lastPID = pid
		case file == "io":
			if *lastPoint == nil || *lastPID != pid {
				return
			}
			io, err := procfs.ParsePIDIO(f.Data)
			if err != nil {
				l.note(member, f.Path, err.Error())
				return
			}
			(*lastPoint).IO, (*lastPoint).HasIO = io, true
			(*lastPoint).Mono = f.MonoNS
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

func (l *loader) target(member string, data []byte) error {
	pid, ok := bundle.ParseTargetMember(member)
	if !ok {
		l.note(member, "", "a target member whose name holds no PID")
		return nil
	}
	tg := &Target{}
	for _, info := range l.m.Manifest.Targets {
		if info.PID == pid {
			tg.Info = info
		}
	}
	fds := map[int]*FD{}
	err := l.frames(member, data, func(f bundle.Frame) {
		if f.Status != bundle.StatusOK {
			return
		}
		_, file, ok := pidPath(f.Path)
		if !ok {
			return
		}
		switch {
		case file == "cmdline":
			tg.Cmdline = splitCmdline(f.Data)
		case file == "status":
			if s, err := procfs.ParsePIDStatus(f.Data); err == nil {
				tg.Status = &s
			}
		case file == "mountinfo":
			tg.Mounts, _ = procfs.ParseMountinfo(f.Data)
		case file == "wchan":
			tg.Wchan = string(f.Data)
		case file == "stack":
			tg.Stack = string(f.Data)
		case strings.HasPrefix(file, "fd/"), strings.HasPrefix(file, "fdinfo/"):
			kind, num, _ := strings.Cut(file, "/")
			n, err := strconv.Atoi(num)
			if err != nil {
				return
			}
			fd := fds[n]
			if fd == nil {
				fd = &FD{Num: n}
				fds[n] = fd
			}
			if kind == "fd" {
				fd.Path = string(f.Data)
			} else if fi, err := procfs.ParseFDInfo(f.Data); err == nil {
				fd.Info = &fi
			}
		}
	})
	if err != nil {
		return err
	}
	for _, fd := range fds {
		tg.FDs = append(tg.FDs, *fd)
	}
	sort.Slice(tg.FDs, func(i, j int) bool { return tg.FDs[i].Num < tg.FDs[j].Num })
	l.m.Targets = append(l.m.Targets, tg)
	return nil
}

// traces attaches each target's strace.
func (l *loader) traces(b *bundle.Bundle) {
	for _, tg := range l.m.Targets {
		s := tg.Info.Strace
		if s == nil || s.Member == "" {
			continue
		}
		text, ok := b.Member(s.Member)
		if !ok {
			continue
		}
		tg.TraceText = text
		tg.Trace = strace.Parse(text)
		tg.TraceStart = s.Start.Wall
	}
}

// describeProcesses fills each process from the process table and links
// targets to their process.
func (l *loader) describeProcesses() {
	sort.SliceStable(l.m.Procs, func(i, j int) bool {
		a, b := l.m.Procs[i], l.m.Procs[j]
		if a.PID != b.PID {
			return a.PID < b.PID
		}
		return a.Start < b.Start
	})
	for _, p := range l.m.Procs {
		if e := l.table[procKey{p.PID, p.Start}]; e != nil {
			p.Cmdline = e.cmdline
			p.Cgroups = e.cgroups
			if e.status != nil {
				p.UID = e.status.UID[0]
			}
		}
	}
	ours := map[int]bool{l.m.Manifest.Collector.PID: true}
	for _, t := range l.m.Manifest.Targets {
		if t.Strace != nil && t.Strace.TracerPID > 0 {
			ours[t.Strace.TracerPID] = true
		}
	}
	for _, p := range l.m.Procs {
		p.Collector = p.PID > 0 && ours[p.PID]
	}
	for _, tg := range l.m.Targets {
		for _, p := range l.m.Procs {
			if p.PID == tg.Info.PID && (tg.Info.StartTicks == 0 || p.Start == tg.Info.StartTicks) {
				tg.Process = p
			}
		}
		if tg.Process != nil && tg.Process.Cmdline == nil {
			tg.Process.Cmdline = tg.Cmdline
		}
	}
	sort.Slice(l.m.Targets, func(i, j int) bool { return l.m.Targets[i].Info.PID < l.m.Targets[j].Info.PID })
}
