package capture

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/iorca/iorca/collect/bundle"
)

// Clock ids from include/uapi/linux/time.h.
const (
	clockRealtime  = 0
	clockMonotonic = 1
	clockBoottime  = 7
)

func clockGettime(id int) int64 {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, uintptr(id), uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// Mono returns CLOCK_MONOTONIC in nanoseconds: the time base of every
// interval the analyzer computes, unaffected by wall-clock steps.
func Mono() int64 { return clockGettime(clockMonotonic) }

// Now reads the wall, monotonic and boot clocks back to back.
func Now() bundle.Clock {
	wall := clockGettime(clockRealtime)
	mono := clockGettime(clockMonotonic)
	boot := clockGettime(clockBoottime)
	return bundle.Clock{Wall: time.Unix(0, wall).UTC(), MonoNS: mono, BootNS: boot}
}
