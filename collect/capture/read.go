package capture

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"

	"github.com/iorca/iorca/collect/bundle"
)

// Classify turns a read error into a Status by its kind, never by its text:
// a missing file or a process that exited is absent (ESRCH is what a read
// of an open /proc/PID file gives once the task is gone), a permission
// refusal is denied, a deadline is a timeout, anything else failed.
func Classify(err error) bundle.Status {
	switch {
	case err == nil:
		return bundle.StatusOK
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ESRCH):
		return bundle.StatusAbsent
	case errors.Is(err, fs.ErrPermission):
		return bundle.StatusDenied
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return bundle.StatusTimeout
	}
	return bundle.StatusFailed
}

// Reader reads files into a reused buffer. Files in /proc report a size of
// 0 or lie, so it reads until EOF, up to Max bytes; a longer file is cut
// and reported partial.
type Reader struct {
	Max int
	buf []byte
}

// DefaultMax caps one file: generous for /proc/PID/stack or mountinfo on a
// node with thousands of mounts, small enough that no file can blow memory.
const DefaultMax = 4 << 20

// Read returns the file's content (valid until the next Read), its status
// and, when the status is not ok, the error.
func (r *Reader) Read(path string) ([]byte, bundle.Status, error) {
	max := r.Max
	if max <= 0 {
		max = DefaultMax
	}
	// Raw system calls: os.Open would also register each /proc file with
	// the runtime's poller (a failing epoll_ctl) and allocate an
	// os.File, for every process in every tick.
	fd, err := openFile(path)
	if err != nil {
		return nil, Classify(err), err
	}
	defer syscall.Close(fd)
	if r.buf == nil {
		r.buf = make([]byte, 0, 64<<10)
	}
	b := r.buf[:0]
	for {
		if len(b) == cap(b) {
			if cap(b) > max {
				break
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := readFD(fd, path, b[len(b):min(cap(b), max+1)])
		b = b[:len(b)+n]
		if n == 0 && err == nil {
			break
		}
		if err != nil {
			r.buf = b[:0]
			return nil, Classify(err), err
		}
		if len(b) > max {
			break
		}
	}
	r.buf = b[:0]
	if len(b) > max {
		return b[:max], bundle.StatusPartial, nil
	}
	return b, bundle.StatusOK, nil
}

// openFile opens path read-only, as os.Open would, retrying on EINTR; its
// error is an *os.PathError as os.Open's.
func openFile(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

// readFD reads into b, retrying on EINTR; 0 bytes and no error is the
// end of the file.
func readFD(fd int, path string, b []byte) (int, error) {
	for {
		n, err := syscall.Read(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: path, Err: err}
		}
		return n, nil
	}
}
