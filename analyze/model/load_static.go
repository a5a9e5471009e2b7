package model

import (
	"bytes"
	"encoding/json"
	"path"
	"strconv"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// end decodes bundle.EndMember: the mount table and swap areas at the
// end of the capture.
func (l *loader) end(member string, data []byte) error {
	return l.frames(member, data, func(f bundle.Frame) {
		if f.Status != bundle.StatusOK {
			return
		}
		switch f.Path {
		case l.hostMountinfo():
			ms, err := procfs.ParseMountinfo(f.Data)
			if err != nil {
				l.note(member, f.Path, err.Error())
			}
			l.m.MountsEnd = ms
		case "/proc/swaps":
			l.m.SwapsEnd = procfs.ParseSwaps(f.Data)
		}
	})
}

// host decodes bundle.HostMember: the mount table, the sysctls and
// every block device's description.
func (l *loader) host(member string, data []byte) error {
	return l.frames(member, data, func(f bundle.Frame) {
		if f.Status != bundle.StatusOK {
			return
		}
		switch {
		case f.Path == l.hostMountinfo():
			ms, err := procfs.ParseMountinfo(f.Data)
			if err != nil {
				l.note(member, f.Path, err.Error())
			}
			l.m.Mounts = ms
		case f.Path == "/proc/swaps":
			l.m.Swaps = procfs.ParseSwaps(f.Data)
		case strings.HasPrefix(f.Path, "/proc/sys/"):
			l.m.Sysctl[strings.TrimPrefix(f.Path, "/proc/sys/")] = strings.TrimSpace(string(f.Data))
		case strings.HasPrefix(f.Path, "/sys/class/bdi/"):
			l.bdi(strings.TrimPrefix(f.Path, "/sys/class/bdi/"), f.Data)
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
			case "dm/name":
				blk.DMName = v
			case "md/level":
				blk.MDLevel = v
			}
			switch f.Path {
			case bundle.BlockLinksFrame(dev, "slaves"):
				blk.Slaves = strings.Fields(v)
			case bundle.BlockLinksFrame(dev, "holders"):
				blk.Holders = strings.Fields(v)
			}
			blk.Settings[file] = v
		}
	})
}

// procTable decodes the process table: a stat frame opens the entry of
// the frames after it (bundle.ProcTableMember).
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

// cgroupLimits decodes the cgroups' IO limits and where the hierarchies
// are mounted.
func (l *loader) cgroupLimits(member string, data []byte) error {
	return l.frames(member, data, func(f bundle.Frame) {
		if f.Path == bundle.CgroupRootsFrame {
			r := bundle.ParseCgroupRoots(f.Data)
			l.v2Root, l.v1Root, l.m.CgroupV1MemoryRoot = r.V2, r.V1Blkio, r.V1Memory
			return
		}
		if f.Status != bundle.StatusOK {
			return
		}
		dir, file := path.Split(f.Path)
		v2 := strings.HasPrefix(file, "io.") || file == "memory.max" || file == "memory.high" || file == "memory.swap.max"
		cg := l.cgroup(strings.TrimSuffix(dir, "/"), v2)
		switch {
		case file == "memory.stat":
			cg.Dirty, cg.Writeback, cg.HasDirty = memoryStatDirty(f.Data)
		case file == "memory.limit_in_bytes" || file == "memory.max":
			cg.MemLimit = memLimit(f.Data)
		case file == "memory.memsw.limit_in_bytes" || file == "memory.swap.max":
			cg.SwapLimit = memLimit(f.Data)
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

// memLimit reads a memory limit: a byte count, "max" (v2) or v1's
// page-counter maximum (about 2^63), both meaning no limit (0).
func memLimit(b []byte) uint64 {
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v >= 1<<62 {
		return 0
	}
	return v
}

// hostMountinfo is the frame that holds the host's mount table: the
// collector's own, unless it ran in a mount namespace of its own (a
// container), where PID 1's is the host's.
func (l *loader) hostMountinfo() string {
	if l.m.Manifest.Collector.OwnMountNS {
		return "/proc/1/mountinfo"
	}
	return "/proc/self/mountinfo"
}

// containers reads bundle.ContainersMember: the runtime's names, images
// and labels of the containers, by id.
func (l *loader) containers(member string, data []byte) {
	var metas []bundle.ContainerMeta
	if err := json.Unmarshal(data, &metas); err != nil {
		l.note(member, "", "not valid JSON: "+err.Error())
		return
	}
	l.m.ContainerMeta = map[string]bundle.ContainerMeta{}
	for _, c := range metas {
		l.m.ContainerMeta[c.ID] = c
	}
}

// users reads bundle.UsersMember: the node's names of the processes'
// UIDs.
func (l *loader) users(member string, data []byte) {
	var users []bundle.UserName
	if err := json.Unmarshal(data, &users); err != nil {
		l.note(member, "", "not valid JSON: "+err.Error())
		return
	}
	l.m.UserNames = map[int]string{}
	for _, u := range users {
		l.m.UserNames[u.UID] = u.Name
	}
}
