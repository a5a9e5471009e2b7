package model

import "path/filepath"

// CgroupIOPressure is the io.pressure of a process's cgroup v2 over the
// ticks from..to (REFERENCE-IO.md §5.1): the share of the time some, and
// all, of its own tasks waited for IO. It tells a cgroup's own waits from
// the node's; ok is false when the bundle holds no readings at both ends
// (no cgroup v2, or PSI off), and for the root cgroup, whose pressure is
// the node's.
func (m *Model) CgroupIOPressure(p *Process, from, to int) (path string, some, full float64, ok bool) {
	if m.CgroupV2Root == "" || p == nil {
		return "", 0, 0, false
	}
	for _, cl := range p.Cgroups {
		if cl.HierarchyID != 0 || cl.Path == "/" || cl.Path == "" {
			continue
		}
		cg := m.Cgroups[filepath.Join(m.CgroupV2Root, cl.Path)]
		if cg == nil {
			continue
		}
		if some, full, ok := cg.IOPressure(m, from, to); ok {
			return cl.Path, some, full, true
		}
	}
	return "", 0, 0, false
}

// IOPressure is a v2 cgroup's io.pressure over from..to: the share of
// the time some, and all, of its tasks waited for IO; ok is false without
// readings at two ticks in the range.
func (cg *Cgroup) IOPressure(m *Model, from, to int) (some, full float64, ok bool) {
	a, b := bracket(cg.Pressure, func(s *CgroupPSI) int { return s.Tick }, from, to)
	if a == nil || b == nil || a.Tick == b.Tick || a.PSI.Some == nil || b.PSI.Some == nil || b.PSI.Some.TotalUS < a.PSI.Some.TotalUS {
		return 0, 0, false
	}
	s := m.Seconds(a.Tick, b.Tick)
	if s <= 0 {
		return 0, 0, false
	}
	some = float64(b.PSI.Some.TotalUS-a.PSI.Some.TotalUS) / (s * 1e6) * 100
	if a.PSI.Full != nil && b.PSI.Full != nil && b.PSI.Full.TotalUS >= a.PSI.Full.TotalUS {
		full = float64(b.PSI.Full.TotalUS-a.PSI.Full.TotalUS) / (s * 1e6) * 100
	}
	return some, full, true
}
