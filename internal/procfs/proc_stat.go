package procfs

import (
	"bytes"
	"strconv"
)

// CPUTimes is one "cpu" line of /proc/stat in clock ticks.
type CPUTimes struct {
	User, Nice, System, Idle, IOWait, IRQ, SoftIRQ, Steal, Guest, GuestNice uint64
}

// ProcStat is the part of /proc/stat used here.
type ProcStat struct {
	CPU           CPUTimes
	CPUs          int // cpuN lines
	BootTime      uint64
	ProcsRunning  uint64
	ProcsBlocked  uint64
	ContextSwitch uint64
}

// ParseProcStat parses /proc/stat. Lines it does not know are ignored; an
// old kernel's cpu line with fewer columns leaves the rest zero.
func ParseProcStat(b []byte) (ProcStat, error) {
	var s ProcStat
	err := eachLine(b, func(l []byte, n int) error {
		f := bytes.Fields(l)
		if len(f) < 2 {
			return nil
		}
		key := string(f[0])
		switch {
		case key == "cpu":
			v, err := parseU64s(nil, f[1:])
			if err != nil {
				return lineError("stat", n, "cpu: %v", err)
			}
			dst := []*uint64{&s.CPU.User, &s.CPU.Nice, &s.CPU.System, &s.CPU.Idle, &s.CPU.IOWait,
				&s.CPU.IRQ, &s.CPU.SoftIRQ, &s.CPU.Steal, &s.CPU.Guest, &s.CPU.GuestNice}
			for i := 0; i < len(v) && i < len(dst); i++ {
				*dst[i] = v[i]
			}
		case len(key) > 3 && key[:3] == "cpu":
			s.CPUs++
		case key == "btime":
			s.BootTime, _ = strconv.ParseUint(string(f[1]), 10, 64)
		case key == "procs_running":
			s.ProcsRunning, _ = strconv.ParseUint(string(f[1]), 10, 64)
		case key == "procs_blocked":
			s.ProcsBlocked, _ = strconv.ParseUint(string(f[1]), 10, 64)
		case key == "ctxt":
			s.ContextSwitch, _ = strconv.ParseUint(string(f[1]), 10, 64)
		}
		return nil
	})
	return s, err
}

// Loadavg is /proc/loadavg.
type Loadavg struct {
	Load1, Load5, Load15 float64
	Running, Total       int
}

// ParseLoadavg parses /proc/loadavg ("0.10 0.20 0.30 1/234 5678").
func ParseLoadavg(b []byte) (Loadavg, error) {
	f := bytes.Fields(b)
	if len(f) < 4 {
		return Loadavg{}, lineError("loadavg", 1, "want 5 fields, got %d", len(f))
	}
	var la Loadavg
	var err error
	if la.Load1, err = strconv.ParseFloat(string(f[0]), 64); err != nil {
		return Loadavg{}, lineError("loadavg", 1, "%v", err)
	}
	la.Load5, _ = strconv.ParseFloat(string(f[1]), 64)
	la.Load15, _ = strconv.ParseFloat(string(f[2]), 64)
	r, t, _ := bytes.Cut(f[3], []byte{'/'})
	la.Running, _ = strconv.Atoi(string(r))
	la.Total, _ = strconv.Atoi(string(t))
	return la, nil
}
