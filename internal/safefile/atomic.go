package safefile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// NewFileMode, as Atomic's mode, gives the file the mode open(2) gives a
// new file asked for 0666: 0666 less the umask.
const NewFileMode fs.FileMode = ^fs.FileMode(0)

// Atomic writes path whole or not at all: write fills a new file in
// path's directory, which is synced and renamed over path, so that a
// reader never sees half a file and a failure (a full or read-only disk)
// leaves what was at path as it was and no temporary file behind. The
// rename replaces whatever path names (a symbolic link itself, never what
// it points to): the caller decides first what may be replaced, as Write
// does. mode's permission bits are the file's exactly, or NewFileMode.
func Atomic(path string, mode fs.FileMode, write func(io.Writer) error) (err error) {
	perm := fs.FileMode(0o666)
	if mode != NewFileMode {
		perm = mode.Perm()
	}
	tmp, err := createTemp(filepath.Dir(path), filepath.Base(path), perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if mode != NewFileMode {
		// Exactly: the umask took bits away at the create.
		if err := tmp.Chmod(perm); err != nil {
			return err
		}
	}
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

var tempSeq atomic.Uint32

// createTemp creates ".BASE.N.partial" in dir with perm under the umask
// (os.CreateTemp always asks for 0600), never following a link planted
// under the name.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	seed := uint32(time.Now().UnixNano()) ^ uint32(os.Getpid())<<16
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(uint64(seed+tempSeq.Add(1)*7919), 36)+".partial")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &os.PathError{Op: "createtemp", Path: filepath.Join(dir, "."+base+".*.partial"), Err: fs.ErrExist}
}
