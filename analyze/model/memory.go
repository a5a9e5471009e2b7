package model

import (
	"path/filepath"
	"slices"
)

// MemoryCgroup is the memory cgroup of a process, as sampled (nil when
// the bundle holds none for it): the v1 memory hierarchy's, or the v2
// cgroup's when the memory controller is on v2.
func (m *Model) MemoryCgroup(p *Process) *Cgroup {
	for _, cl := range p.Cgroups {
		var dir string
		switch {
		case slices.Contains(cl.Controllers, "memory") && m.CgroupV1MemoryRoot != "":
			dir = filepath.Join(m.CgroupV1MemoryRoot, cl.Path)
		case cl.HierarchyID == 0 && m.CgroupV2Root != "":
			dir = filepath.Join(m.CgroupV2Root, cl.Path)
		default:
			continue
		}
		if cg := m.Cgroups[dir]; cg != nil && len(cg.Mem) > 0 {
			return cg
		}
	}
	return nil
}

// MemBetween is a memory cgroup's use at tick to and how often it hit its
// limit between from and to; ok is false without samples at both.
func (cg *Cgroup) MemBetween(from, to int) (end CgroupMem, limitHits uint64, ok bool) {
	a, b := bracket(cg.Mem, func(s *CgroupMem) int { return s.Tick }, from, to)
	if a == nil || b == nil {
		return CgroupMem{}, 0, false
	}
	return *b, b.Failcnt - min(a.Failcnt, b.Failcnt), true
}

// bracket finds, among a cgroup's samples, the latest at or before tick
// from and the latest at or before tick to (nil where there is none).
func bracket[T any](samples []T, tick func(*T) int, from, to int) (a, b *T) {
	for i := range samples {
		s := &samples[i]
		if tick(s) <= from && (a == nil || tick(s) > tick(a)) {
			a = s
		}
		if tick(s) <= to && (b == nil || tick(s) > tick(b)) {
			b = s
		}
	}
	return a, b
}
