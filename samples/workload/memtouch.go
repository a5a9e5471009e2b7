package workload

import (
	"syscall"
	"time"
)

// Touch keeps a working set of mib MiB in use: it maps that much
// anonymous memory and writes one byte in every page, round after round,
// for d (0: until killed). Under a memory limit smaller than mib the
// kernel must reclaim its pages to swap and read them back as it touches
// them again: a process that swaps.
func Touch(mib int, d time.Duration) error {
	mem, err := syscall.Mmap(-1, 0, mib<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	defer syscall.Munmap(mem)
	start := time.Now()
	for round := byte(1); d == 0 || time.Since(start) < d; round++ {
		for i := 0; i < len(mem); i += 4096 {
			mem[i] = round
		}
	}
	return nil
}
