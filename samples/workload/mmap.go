package workload

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// SyncMsync writes through a shared mapping of the file and msyncs
// (MS_SYNC) the pages written since the last msync: a journal kept in a
// memory-mapped file, with no write() call at all.
const SyncMsync Sync = "msync"

// DefaultMapBytes is the mapped journal's size when Spec.MaxBytes is 0:
// records wrap around inside it.
const DefaultMapBytes = 64 << 20

// runMapped appends Size-byte records into a shared mapping of File
// (sized to MaxBytes, wrapping) at Rate, and every MsyncEvery records
// msyncs with MS_SYNC the pages those records touched: each page fault
// dirties a page, each msync writes the range back and waits for it.
func runMapped(s Spec) error {
	size := s.MaxBytes
	if size <= 0 {
		size = DefaultMapBytes
	}
	f, err := os.OpenFile(s.File, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap %s: %w", s.File, err)
	}
	defer syscall.Munmap(m)
	every := max(s.MsyncEvery, 1)
	rec := payload(Spec{Size: s.Size, Secret: s.Secret})
	var interval time.Duration
	if s.Rate > 0 {
		interval = time.Duration(float64(time.Second) / s.Rate)
	}
	page := int64(os.Getpagesize())
	start := time.Now()
	next := start
	var off, from int64 // the write offset, and where the unsynced range begins
	for n := 0; s.For == 0 || time.Since(start) < s.For; n++ {
		if off+int64(len(rec)) > size {
			off, from = 0, 0
		}
		if s.Size < 4096 {
			stampLine(rec, n)
		}
		copy(m[off:], rec)
		off += int64(len(rec))
		if (n+1)%every == 0 {
			lo := from / page * page
			if err := msync(m[lo:off], syscall.MS_SYNC); err != nil {
				if !s.KeepGoing {
					return fmt.Errorf("msync %s: %w", s.File, err)
				}
				fmt.Fprintf(os.Stderr, "iorca-workload: msync %s: %v (going on)\n", s.File, err)
			}
			from = off
		}
		if interval > 0 {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
	}
	for s.Hold {
		time.Sleep(time.Hour)
	}
	return nil
}

// msync is msync(2) on a slice of a mapping (the syscall package has no
// wrapper for it).
func msync(b []byte, flags int) error {
	if _, _, e := syscall.Syscall(syscall.SYS_MSYNC, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(flags)); e != 0 {
		return e
	}
	return nil
}
