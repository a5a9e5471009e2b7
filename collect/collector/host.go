package collector

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/iorca/iorca/collect/bundle"
)

// auxv entry types from include/uapi/linux/auxvec.h.
const (
	atPagesz = 6
	atClktck = 17
)

// hostInfo describes the machine; what cannot be read is left zero.
func hostInfo() bundle.Host {
	var h bundle.Host
	h.Hostname, _ = os.Hostname()
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		h.KernelRelease = utsString(u.Release[:])
		h.KernelVersion = utsString(u.Version[:])
		h.Arch = utsString(u.Machine[:])
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		h.BootID = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.UptimeSeconds, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	h.CPUs = onlineCPUs()
	h.PageSize = os.Getpagesize()
	h.UserHZ = 100
	if hz := auxv(atClktck); hz > 0 {
		h.UserHZ = int(hz)
	}
	return h
}

func utsString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// onlineCPUs counts the cpuN lines of /proc/stat: all online CPUs, not just
// those this process may run on.
func onlineCPUs() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		if len(l) > 3 && bytes.HasPrefix(l, []byte("cpu")) && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return n
}

// auxv returns the value of one entry of the process's ELF auxiliary
// vector; a static binary cannot call sysconf(_SC_CLK_TCK), but the kernel
// hands the same value to every process here.
func auxv(key uint64) uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0
	}
	word := 8
	if strconv.IntSize == 32 {
		word = 4
	}
	for i := 0; i+2*word <= len(b); i += 2 * word {
		var k, v uint64
		if word == 8 {
			k = binary.NativeEndian.Uint64(b[i:])
			v = binary.NativeEndian.Uint64(b[i+word:])
		} else {
			k = uint64(binary.NativeEndian.Uint32(b[i:]))
			v = uint64(binary.NativeEndian.Uint32(b[i+word:]))
		}
		if k == key {
			return v
		}
	}
	return 0
}

// ioprio values from include/uapi/linux/ioprio.h.
const (
	ioprioWhoProcess = 1
	ioprioClassBE    = 2
	ioprioClassShift = 13
)

// lowerPriority makes every thread of the collector nice 19 and best-effort
// IO priority 7, so that it yields to the workload it observes. Linux
// applies both per thread; threads created later inherit them. The best-
// effort class, not idle, is used so that writing the bundle on a
// saturated disk still makes progress.
func lowerPriority() (nice int, ioprio string) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, ""
	}
	niceOK, ioOK := true, true
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19) != nil {
			niceOK = false
		}
		prio := ioprioClassBE<<ioprioClassShift | 7
		if _, _, e := syscall.Syscall(syscall.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(prio)); e != 0 {
			ioOK = false
		}
	}
	if niceOK {
		nice = 19
	}
	if ioOK {
		ioprio = "be/7"
	}
	return nice, ioprio
}

// rusage returns the user and system CPU seconds and peak RSS (KiB) of who.
func rusage(who int) (user, sys float64, maxRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0, 0, 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime), tv(ru.Stime), ru.Maxrss
}

// ownMountNS reports whether the collector runs in a mount namespace
// other than the host's (in a container, even with the host's PID
// namespace): its /proc/self/mountinfo is then not the host's, and PID
// 1's is.
func ownMountNS() bool {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return false
	}
	// PID 1's namespace, or kthreadd's (PID 2, always in the initial
	// namespaces): where PID 1 is not ours to inspect (a sandbox's init,
	// or a container runtime's rules), the kernel thread still is.
	for _, ref := range []string{"/proc/1/ns/mnt", "/proc/2/ns/mnt"} {
		if host, err := os.Readlink(ref); err == nil {
			return self != host
		}
	}
	return false
}
