package workload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// Sync names how each write reaches the disk.
type Sync string

// The sync modes.
const (
	SyncNone      Sync = "none"      // buffered, left to writeback
	SyncOSync     Sync = "osync"     // file opened O_SYNC
	SyncODsync    Sync = "odsync"    // file opened O_DSYNC
	SyncFsync     Sync = "fsync"     // fsync(2) after every write
	SyncFdatasync Sync = "fdatasync" // fdatasync(2) after every write
)

// Spec describes one writer.
type Spec struct {
	// File is the path to append to; "-" means standard output.
	File string
	// Size is the bytes of one write: a line of that length, ending in a
	// newline, or one block when it is 4096 or more.
	Size int
	Sync Sync
	// Direct opens the file O_DIRECT (Size must be a multiple of 4096).
	Direct bool
	// Rate is writes per second; 0 writes as fast as it can.
	Rate float64
	// For stops the writer after this long; 0 runs until killed.
	For time.Duration
	// Hold keeps the file open after For, writing nothing more, until
	// killed: a writer gone quiet whose last pages the flushers write
	// back dirty_expire_centisecs later.
	Hold bool
	// Secret is a pretend credential put in every line, to test that
	// payloads never reach a bundle.
	Secret string
	// MaxBytes wraps the file (truncate to 0) after this many bytes, so a
	// long run cannot fill a small filesystem; 0 never wraps.
	MaxBytes int64
	// KeepGoing reports a failed write or sync on stderr and goes on, as
	// an application that logs its errors and retries does, instead of
	// exiting.
	KeepGoing bool
	// Read reads Size-byte blocks of File at scattered offsets instead
	// of writing (a latency-sensitive reader: a database's index
	// lookups), with Direct bypassing the page cache.
	Read bool
	// MsyncEvery is, with Sync msync, how many records go between two
	// msyncs (1: every record).
	MsyncEvery int
}

// Run writes until Spec.For passes or, unless KeepGoing, a write fails.
func Run(s Spec) error {
	if s.Size <= 0 {
		return errors.New("size must be positive")
	}
	if s.Read {
		return read(s)
	}
	if s.Sync == SyncMsync {
		return runMapped(s)
	}
	f, err := open(s)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := payload(s)
	var interval time.Duration
	if s.Rate > 0 {
		interval = time.Duration(float64(time.Second) / s.Rate)
	}
	start := time.Now()
	next := start
	var written int64
	for n := 0; s.For == 0 || time.Since(start) < s.For; n++ {
		if s.Size < 4096 {
			stampLine(buf, n)
		}
		failed := func(err error) error {
			if !s.KeepGoing {
				return err
			}
			fmt.Fprintf(os.Stderr, "iorca-workload: %v (going on)\n", err)
			return nil
		}
		if _, err := f.Write(buf); err != nil {
			if err := failed(fmt.Errorf("write %s: %w", s.File, err)); err != nil {
				return err
			}
		} else {
			written += int64(len(buf))
		}
		switch s.Sync {
		case SyncFsync:
			err = f.Sync()
		case SyncFdatasync:
			err = syscall.Fdatasync(int(f.Fd()))
		}
		if err != nil {
			if err := failed(fmt.Errorf("sync %s: %w", s.File, err)); err != nil {
				return err
			}
			err = nil
		}
		if s.MaxBytes > 0 && written >= s.MaxBytes && f != os.Stdout {
			if err := f.Truncate(0); err != nil {
				return err
			}
			written = 0
		}
		if interval > 0 {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
	}
	for s.Hold { // until killed, the file still open (a bare select{} is a deadlock to the runtime)
		time.Sleep(time.Hour)
	}
	return nil
}

// read reads Size-byte blocks of File at Rate, each at an offset a
// stride of 7919 blocks from the last (wrapping), so that no two reads in
// a row hit neighbouring blocks.
func read(s Spec) error {
	flags := os.O_RDONLY
	if s.Direct {
		flags |= syscall.O_DIRECT
	}
	f, err := os.OpenFile(s.File, flags, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	blocks := st.Size() / int64(s.Size)
	if blocks == 0 {
		return fmt.Errorf("%s: smaller than one %d-byte block", s.File, s.Size)
	}
	buf := aligned(s.Size)
	var interval time.Duration
	if s.Rate > 0 {
		interval = time.Duration(float64(time.Second) / s.Rate)
	}
	start := time.Now()
	next := start
	for n := int64(0); s.For == 0 || time.Since(start) < s.For; n++ {
		if _, err := f.ReadAt(buf, (n*7919)%blocks*int64(s.Size)); err != nil && !s.KeepGoing {
			return fmt.Errorf("read %s: %w", s.File, err)
		}
		if interval > 0 {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
		}
	}
	return nil
}

func open(s Spec) (*os.File, error) {
	if s.File == "-" {
		return os.Stdout, nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	switch s.Sync {
	case SyncOSync:
		flags |= syscall.O_SYNC
	case SyncODsync:
		flags |= syscall.O_DSYNC
	}
	if s.Direct {
		flags = flags&^os.O_APPEND | syscall.O_DIRECT
	}
	return os.OpenFile(s.File, flags, 0o644)
}

// payload returns one write's buffer: an access-log line of exactly Size
// bytes, or a block of Size bytes aligned for O_DIRECT.
func payload(s Spec) []byte {
	if s.Size >= 4096 {
		return aligned(s.Size)
	}
	user := "-"
	if s.Secret != "" {
		user = "key=" + s.Secret
	}
	line := fmt.Sprintf(`0000000 %s 10.0.0.7 "GET /api/v1/items HTTP/1.1" 200 512 `, user)
	b := bytes.Repeat([]byte("x"), s.Size)
	copy(b, line)
	b[len(b)-1] = '\n'
	return b
}

// stampLine writes the sequence number at the start of a line so that each
// write differs, as real log lines do.
func stampLine(b []byte, n int) {
	s := strconv.Itoa(n % 1000000)
	if len(b) > 8 {
		copy(b[:7], "0000000")
		copy(b[7-len(s):7], s)
	}
}

// aligned returns a zeroed buffer of size n starting on a 4096-byte boundary.
func aligned(n int) []byte {
	b := make([]byte, n+4096)
	off := int(4096 - uintptr(unsafe.Pointer(&b[0]))%4096)
	if off == 4096 {
		off = 0
	}
	out := b[off : off+n]
	for i := range out {
		out[i] = byte('a' + i%26)
	}
	return out
}

var _ io.Writer = (*os.File)(nil)
