package model

import (
	"sort"
	"time"

	"github.com/iorca/iorca/analyze/strace"
	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
)

// Model is a bundle's content, parsed and indexed.
type Model struct {
	Manifest *bundle.Manifest
	// Salvaged says what a damaged bundle lost, when the model was built
	// from the members read and verified before the damage (LoadSalvage);
	// nil for a whole bundle.
	Salvaged *Salvage
	Ticks    []*Tick
	// Procs lists every process seen, by PID then start time.
	Procs []*Process
	// Targets are the processes the collector looked at closely.
	Targets []*Target
	// Mounts is the mount table the collector saw (its own namespace,
	// the host's when run on the host).
	Mounts []procfs.Mount
	// MountsEnd is the collector's mount table at the end of the capture
	// (nil in bundles without bundle.EndMember): a filesystem remounted
	// read-only during it shows there.
	MountsEnd []procfs.Mount
	// Swaps are the swap areas at the start (and SwapsEnd at the end).
	Swaps, SwapsEnd []procfs.Swap
	Statfs          []bundle.Statfs
	Kmsg            []procfs.KmsgRecord
	Sysctl          map[string]string
	Blocks          map[string]*Block
	// BDIs are the backing devices' dirty-limit settings by name
	// (MAJ:MIN), nil in bundles that did not capture /sys/class/bdi.
	BDIs    map[string]*BDI
	Cgroups map[string]*Cgroup
	// CgroupV1Root and CgroupV2Root are where the collector found the
	// v1 blkio hierarchy and the v2 hierarchy mounted.
	CgroupV1Root, CgroupV2Root string
	// CgroupV1MemoryRoot is where the v1 memory hierarchy is mounted, ""
	// when it is not (or the memory controller is on v2).
	CgroupV1MemoryRoot string
	// Notes are what could not be parsed, by member and path; a report
	// says them in its "what the collector could not see" section.
	Notes []Note
	// BlockTrace is the block-layer capture, nil when the bundle has none.
	BlockTrace *BlockTrace
	// OpenWriters held open for writing, when the trace ended, the files
	// the flushers wrote with no traced dirtier (bundle.OpenWritersMember;
	// nil in bundles without it): the dirtiers of pages dirtied before
	// the trace began.
	OpenWriters []bundle.OpenWriter
	// DeniedIO holds the PIDs whose /proc/PID/io the collector was denied
	// (a process with capabilities the collector lacks): their IO is
	// unknown.
	DeniedIO map[int]bool
	// ContainerMeta is the runtime's metadata of containers, by id
	// (bundle.ContainersMember); nil when the bundle has none.
	ContainerMeta map[string]bundle.ContainerMeta
	// UserNames are the node's names of the processes' UIDs
	// (bundle.UsersMember); nil when the bundle has none (older
	// collectors, /etc/passwd unreadable).
	UserNames map[int]string
}

// Note is one thing the analyzer could not use.
type Note struct {
	Member, Path, What string
}

// Tick is one sampling moment.
type Tick struct {
	N    int
	Wall time.Time
	// Mono is CLOCK_MONOTONIC (ns) when the tick began.
	Mono      int64
	Uptime    procfs.Uptime
	HasUptime bool
	// Disks is /proc/diskstats by device name; SysBlock is
	// /sys/block/DEV/stat.
	Disks     map[string]procfs.DiskStat
	DisksMono int64
	SysBlock  map[string]procfs.DiskStat
	Vmstat    procfs.Vmstat
	Meminfo   procfs.Meminfo
	PSI       *procfs.PSI
	Stat      *procfs.ProcStat
	Loadavg   *procfs.Loadavg
	// Threads are the per-thread samples of targets, by PID.
	Threads map[int][]Thread
}

// Thread is one thread of a target in one tick.
type Thread struct {
	TID   int
	Stat  procfs.PIDStat
	Wchan string
	Stack string
}

// Process is one process over the whole capture.
type Process struct {
	PID   int
	Start uint64 // /proc/PID/stat field 22, clock ticks after boot
	Comm  string
	PPID  int
	UID   int
	// Nice is /proc/PID/stat's nice (field 19) at its last sample: what
	// iotop derives an I/O priority from when none was set.
	Nice int64
	// Cmdline is the command line as captured (masked when redacted).
	Cmdline []string
	Cgroups []procfs.CgroupLine
	Kernel  bool
	// Collector marks iorca-collect itself and its strace processes.
	Collector bool
	// ReapedBy is set on the process that stands for the children a
	// process reaped that were never sampled (reaped.go): their IO, taken
	// off the parent. Its PID is the parent's, negated.
	ReapedBy int
	// Container is set when the cgroup path or a runtime's arguments
	// tell which container the process belongs to.
	Container *Container
	// First and Last are the ticks the process was sampled in (every
	// tick between them: a process missing from a tick ends, and a later
	// sample is a new Process). Points holds one point per run of
	// identical samples — the first tick of each run — so that an idle
	// process costs one point however long the capture; Model.PointAt
	// gives the sample of any tick.
	First, Last int
	Points      []Point
}

// sameSample reports whether two points hold the same sample but for
// their tick and read time.
func sameSample(a, b *Point) bool {
	return a.State == b.State && a.Counters == b.Counters && a.CPUTicks == b.CPUTicks && a.SysTicks == b.SysTicks && a.Threads == b.Threads && a.ChildTicks == b.ChildTicks && a.ChildSysTicks == b.ChildSysTicks
}

// PointAt is process p's sample at tick k, false outside First..Last.
// Within a run of identical samples its Mono is the tick's clock (the
// process's own read time was not kept; it is milliseconds later).
func (m *Model) PointAt(p *Process, k int) (Point, bool) {
	if len(p.Points) == 0 || k < p.First || k > p.Last {
		return Point{}, false
	}
	i := sort.Search(len(p.Points), func(i int) bool { return p.Points[i].Tick > k }) - 1
	if i < 0 {
		return Point{}, false
	}
	pt := p.Points[i]
	if pt.Tick != k {
		pt.Tick, pt.Mono = k, m.Ticks[k].Mono
	}
	return pt, true
}

// dTicks counts the ticks from lo to hi in which p was in D state.
func (p *Process) dTicks(lo, hi int) int {
	n := 0
	for i, pt := range p.Points {
		end := p.Last
		if i+1 < len(p.Points) {
			end = p.Points[i+1].Tick - 1
		}
		if pt.State == 'D' {
			n += max(0, min(end, hi)-max(pt.Tick, lo)+1)
		}
	}
	return n
}

// Point is a process's counters in one tick.
type Point struct {
	Tick  int
	Mono  int64
	State byte
	Counters
	CPUTicks uint64
	// SysTicks is the part of CPUTicks spent in the kernel (stime).
	SysTicks uint64
	Threads  int64
	// ChildTicks is the CPU time of the children it reaped (cutime +
	// cstime): it grows when it reaps one.
	ChildTicks uint64
	// ChildSysTicks is the kernel part of ChildTicks (cstime).
	ChildSysTicks uint64
}

// Container names the container (and pod) a process belongs to.
type Container struct {
	// Name is the most readable name known: the runtime's -id, the
	// Kubernetes container name from a log path, or a short id.
	Name      string
	ID        string
	Runtime   string
	Namespace string
	PodUID    string
	Pod       string
	// Image and Labels are the runtime's, where its metadata is a plain
	// file the collector read (Docker's config.v2.json).
	Image  string
	Labels map[string]string
	// Source says how it was found ("cgroup path", "shim -id").
	Source string
}

// Target is a process the collector described and traced.
type Target struct {
	Info    bundle.Target
	Process *Process
	Cmdline []string
	Status  *procfs.PIDStatus
	Mounts  []procfs.Mount
	// FDs are the open descriptors with their fdinfo, by number.
	FDs []FD
	// Maps are its memory mappings (/proc/PID/maps; bundles before
	// issue 24 have none): which file an msync's address range writes.
	Maps  []procfs.Mapping
	Wchan string
	Stack string
	// Trace is the parsed strace, nil when none was captured; the loader
	// summarises its calls (Summary) and drops them, keeping the counts.
	Trace      *strace.Trace
	summary    *TraceSummary
	TraceStart time.Time
	// quotes are the trace's lines its summary cites, by number
	// (TraceSummary.cited): the rest of the text is not kept.
	quotes map[int]string
}

// FD is one open descriptor of a target.
type FD struct {
	Num  int
	Path string
	Info *procfs.FDInfo
}

// Block is a block device's static description.
type Block struct {
	Name        string
	Dev         procfs.Dev
	SizeSectors uint64
	Scheduler   string
	Rotational  bool
	BackingFile string
	// Slaves and Holders name the devices under and over it in a dm or
	// md stack (/sys/block/DEV/slaves/, holders/): a slave may be a
	// partition ("sda1"). DMName is a device-mapper device's name
	// (dm/name, "vg0-root", "luks-…"); MDLevel an md array's RAID level
	// (md/level, "raid1").
	Slaves, Holders []string
	DMName, MDLevel string
	Settings        map[string]string
}

// Cgroup is one cgroup the collector sampled.
type Cgroup struct {
	Path string // absolute path under the cgroup mount
	V2   bool
	// Samples hold the IO counters per tick, by device.
	Samples []CgroupSample
	// Limits: v2 io.max by device, or v1 throttle limits by device.
	IOMax    map[procfs.Dev]procfs.IOMax
	V1Limits map[string]map[procfs.Dev]uint64
	// Pressure is the last io.pressure read (v2).
	Pressure []CgroupPSI
	// MemLimit is the memory limit in bytes (v1 memory.limit_in_bytes,
	// v2 memory.max), 0 when there is none; SwapLimit the limit of
	// memory+swap (v1 memory.memsw.limit_in_bytes) or of swap (v2
	// memory.swap.max), 0 when none.
	MemLimit, SwapLimit uint64
	// Dirty and Writeback are its page-cache bytes dirty and under
	// writeback from memory.stat at the end of the capture, known when
	// HasDirty.
	Dirty, Writeback uint64
	HasDirty         bool
	// Mem is its memory use per tick.
	Mem []CgroupMem
}

// CgroupMem is a memory cgroup's use in one tick.
type CgroupMem struct {
	Tick int
	// Usage is the memory charged to it (v1 memory.usage_in_bytes, v2
	// memory.current); Swap its pages in swap (v1 memsw.usage minus
	// usage, v2 memory.swap.current), known when HasSwap.
	Usage, Swap uint64
	HasSwap     bool
	// Failcnt is how often the limit was hit (v1 memory.failcnt); v2's
	// memory.events "max" count is kept in it too. OOMKills is v2's
	// oom_kill count.
	Failcnt, OOMKills uint64
}

// CgroupSample is a cgroup's IO counters in one tick.
type CgroupSample struct {
	Tick  int
	Mono  int64
	Bytes map[procfs.Dev]CgroupIO
}

// CgroupIO is bytes and IOs read and written by a cgroup on one device.
type CgroupIO struct {
	RBytes, WBytes, RIOs, WIOs uint64
}

// CgroupPSI is one io.pressure reading.
type CgroupPSI struct {
	Tick int
	PSI  procfs.PSI
}

// Salvage is what a model built from a damaged bundle lacks.
type Salvage struct {
	// Damage is the reader's error where it stopped.
	Damage string
	// Missing are the manifest's members that were not read.
	Missing []string
	// TicksListed and TicksRead count the manifest's tick members and
	// those read: rates need two ticks read.
	TicksListed, TicksRead int
}
