package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is a path that is not a regular file where one is
// expected. Kind names what it is: "FIFO", "directory"...
type NotRegularError struct{ Kind string }

func (e *NotRegularError) Error() string { return "is a " + e.Kind + ", not a regular file" }

// Kind names the type of a file mode as a message says it: "regular
// file", "FIFO", "character device", "block device", "socket",
// "directory", "symbolic link".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "irregular file"
}

// OpenRegular opens path for reading if it is a regular file (a symbolic
// link is followed) and refuses anything else with an *os.PathError whose
// Err is a *NotRegularError naming the type. The open is non-blocking, so
// that a FIFO without a writer cannot hang it, and the type is taken from
// the opened descriptor, so that nothing can be swapped in between a
// check and the open. O_NONBLOCK means nothing to a regular file's reads.
func OpenRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		// A socket cannot be opened at all (ENXIO): say what it is.
		if st, serr := os.Stat(path); errors.Is(err, syscall.ENXIO) && serr == nil && !st.Mode().IsRegular() {
			return nil, notRegular(path, st.Mode())
		}
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, st.Mode())
	}
	return f, nil
}

func notRegular(path string, m fs.FileMode) error {
	return &os.PathError{Op: "open", Path: path, Err: &NotRegularError{Kind: Kind(m)}}
}

// ErrTooLarge is a file ReadFile was asked to read that is larger than
// its bound.
var ErrTooLarge = errors.New("larger than the bound")

// ReadFile reads the regular file at path (OpenRegular) whole, up to max
// bytes: a larger file is an *os.PathError whose Err is ErrTooLarge.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w of %d bytes", ErrTooLarge, max)}
	}
	return data, nil
}
