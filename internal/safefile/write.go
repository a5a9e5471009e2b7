package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Error is an output file that was refused or could not be written: the
// path, the cause and, where one helps, what to do.
type Error struct {
	Path string
	Err  error
	Hint string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("output %s: %v", e.Path, e.Err)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Write writes data to path by the rules of an output file (-o):
//
//   - a missing or regular file is replaced whole through Atomic: a new
//     file gets 0666 less the umask, a replaced one keeps its mode (and,
//     for root, its owner);
//   - a character device (/dev/null, a terminal) or a FIFO is written
//     straight, opened non-blocking so that a FIFO without a reader is an
//     error rather than a hang;
//   - a symbolic link is followed only into /dev or /proc/self/fd
//     (/dev/stdout), and only to a device or a pipe; any other link is
//     refused, or with force replaced itself, never written through: in
//     a shared directory a planted link would turn a write by root into
//     an overwrite of any file;
//   - anything else (a directory, a block device, a socket) is refused.
//
// Its errors are *Error.
func Write(path string, data []byte, force bool) error {
	return WriteFunc(path, NewFileMode, force, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc is Write for output that put streams (a bundle); a new file
// gets perm (less the umask).
func WriteFunc(path string, perm fs.FileMode, force bool, put func(io.Writer) error) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return describe(path, Atomic(path, perm, put))
	case err != nil:
		return describe(path, err)
	}
	m := st.Mode()
	switch {
	case m.IsRegular():
		return describe(path, replace(path, st, put))
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(path)
		if err != nil {
			return describe(path, err)
		}
		if followable(path, target) {
			return describe(path, writeThrough(path, put, true))
		}
		if !force {
			return &Error{Path: path, Err: fmt.Errorf("is a symbolic link to %s", target),
				Hint: "iorca does not write through a link (one planted in a shared directory could redirect the write to any file): give the file's own path, or pass --force to replace the link itself"}
		}
		return describe(path, Atomic(path, perm, put))
	case m&(fs.ModeCharDevice|fs.ModeNamedPipe) != 0:
		return describe(path, writeThrough(path, put, false))
	}
	return &Error{Path: path, Err: fmt.Errorf("is a %s", Kind(m)), Hint: "iorca writes only a regular file, a character device or a FIFO"}
}

// replace replaces the regular file st with the file write writes, with
// st's mode and, where we may (root), its owner.
func replace(path string, st fs.FileInfo, write func(io.Writer) error) error {
	return Atomic(path, st.Mode().Perm(), func(w io.Writer) error {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			if f, ok := w.(*os.File); ok && (int(sys.Uid) != os.Geteuid() || int(sys.Gid) != os.Getegid()) {
				if err := f.Chown(int(sys.Uid), int(sys.Gid)); err != nil {
					return err
				}
				// chown clears set-id bits; the mode is set again.
				if err := f.Chmod(st.Mode().Perm()); err != nil {
					return err
				}
			}
		}
		return write(w)
	})
}

// followable says whether the link at path, to target, is one Write
// follows: it leads into /dev (/dev/stdout, /dev/null) or is or leads to
// one of our own descriptors (/proc/self/fd/1).
func followable(path, target string) bool {
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	for _, p := range []string{filepath.Clean(target), abs} {
		for _, dir := range []string{"/dev/", "/proc/self/fd/", "/proc/thread-self/fd/"} {
			if strings.HasPrefix(p, dir) {
				return true
			}
		}
	}
	return false
}

// writeThrough writes data straight to the device or pipe at path; follow
// says a link may be followed to it. The open does not block (a FIFO
// without a reader gives ENXIO) and the type is the opened descriptor's,
// so that nothing can be swapped in between Write's look and the open;
// the writes block as usual.
func writeThrough(path string, put func(io.Writer) error, follow bool) error {
	flags := syscall.O_WRONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	fd, err := syscall.Open(path, flags, 0)
	if err != nil {
		if st, serr := os.Stat(path); errors.Is(err, syscall.ENXIO) && serr == nil {
			if st.Mode()&fs.ModeNamedPipe != 0 {
				return &Error{Path: path, Err: errors.New("FIFO has no reader"), Hint: "start its reader first (cat " + path + " &)"}
			}
			return &Error{Path: path, Err: fmt.Errorf("is a %s", Kind(st.Mode())), Hint: "iorca writes only a regular file, a character device or a FIFO (-o - writes to stdout)"}
		}
		return err
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return err
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if m := st.Mode(); m&(fs.ModeCharDevice|fs.ModeNamedPipe) == 0 {
		f.Close()
		return &Error{Path: path, Err: fmt.Errorf("leads to a %s", Kind(m)),
			Hint: "iorca follows a link only to a device or a pipe: give the file's own path, or -o - for stdout"}
	}
	err = put(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return nil
	}
	e := &Error{Path: path, Err: cause(err)}
	if errors.Is(err, syscall.EPIPE) {
		e.Hint = "the reader closed the pipe"
	}
	return e
}

// Describe is describe for an output written another way than Write
// (Atomic, for a private file): its error names path, never the
// temporary file beside it.
func Describe(path string, err error) error { return describe(path, err) }

// describe turns err, from writing path, into an *Error that says what
// went wrong and where, with a hint for the failures another place would
// not have.
func describe(path string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	err = cause(err)
	return &Error{Path: path, Err: err, Hint: Hint(path, err)}
}

// cause drops an *os.PathError's or *os.LinkError's wrapper, whose path
// may be the temporary file's.
func cause(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// Hint says what to do about a failure to write the file path that
// another place would not have: a full, over-quota or read-only
// filesystem.
func Hint(path string, err error) string {
	dir := filepath.Dir(path)
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "the filesystem of " + dir + " is full: free space there or write elsewhere"
	case errors.Is(err, syscall.EDQUOT):
		return "the disk quota on the filesystem of " + dir + " is used up: write elsewhere"
	case errors.Is(err, syscall.EROFS):
		return dir + " is on a read-only filesystem: write elsewhere"
	}
	return ""
}
