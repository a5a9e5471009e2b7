package collector

import (
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
)

// Bounds of the kernel log tail.
const (
	kmsgMaxRecords = 4000
	kmsgMaxBytes   = 1 << 20
	kmsgTimeout    = 2 * time.Second
)

// readKmsg returns the last records of the kernel log from /dev/kmsg, each
// as the kernel wrote it ("prio,seq,usec,flags;text\n" plus continuation
// lines). It never blocks: the device is opened O_NONBLOCK and read until
// EAGAIN (Documentation/ABI/testing/dev-kmsg). Records overwritten while
// reading (EPIPE) are skipped, as the kernel intends.
func readKmsg() ([]byte, bundle.Status, error) {
	fd, err := syscall.Open("/dev/kmsg", syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, capture.Classify(err), os.NewSyscallError("open /dev/kmsg", err)
	}
	defer syscall.Close(fd)
	var recs [][]byte
	size := 0
	buf := make([]byte, 8192) // a smaller buffer gives EINVAL
	deadline := time.Now().Add(kmsgTimeout)
	for time.Now().Before(deadline) {
		n, err := syscall.Read(fd, buf)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return join(recs), capture.Classify(err), os.NewSyscallError("read /dev/kmsg", err)
		}
		if n <= 0 {
			break
		}
		rec := append([]byte(nil), buf[:n]...)
		recs = append(recs, rec)
		size += n
		for len(recs) > kmsgMaxRecords || size > kmsgMaxBytes {
			size -= len(recs[0])
			recs = recs[1:]
		}
	}
	return join(recs), bundle.StatusOK, nil
}

func join(recs [][]byte) []byte {
	var out []byte
	for _, r := range recs {
		out = append(out, r...)
		if len(r) > 0 && r[len(r)-1] != '\n' {
			out = append(out, '\n')
		}
	}
	return out
}
